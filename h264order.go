package mediarecorder

import (
	"slices"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/h264"
)

// maxReorder bounds the reorder depth h264Order waits for (the largest
// decoded picture buffer H.264 has).
const maxReorder = 16

// orderedFrame is a video frame with its decode and presentation times.
type orderedFrame struct {
	dts, pts, dur time.Duration
	key           bool
	data          []byte
	poc           int64
	ptsSet        bool
	owned         bool // data is the order's own buffer
}

// h264Order gives the frames of an H.264 track their presentation times.
// Frames come in decoding order, each stamped with a time slot (its decode
// time: the timeline of the track's samples as they came). A frame's
// presentation time is the slot of its rank in output order: the k-th
// frame in output order plays at the k-th slot, so presentation times are
// the decode times rearranged, and a stream without reordering keeps them
// as they are. Output order is the order of the picture order counts
// (codecs/h264), resolved as a decoder's bumping process resolves it: a
// frame's rank is known once more than the stream's reorder depth of
// frames wait, or at an IDR or MMCO 5 picture, which follows every frame
// before it. Frames leave (push's result) in decoding order once their
// presentation time is known.
type h264Order struct {
	poc     h264.PictureOrderCounter
	depth   int             // reorder depth (MaxReorderFrames, or more as seen)
	slots   []time.Duration // decode times not yet given to a frame as presentation time
	held    []*orderedFrame // frames not yet out, in decoding order
	waiting []*orderedFrame // held frames without presentation time
	lastPOC int64           // order count of the latest frame given a presentation time
	lastSet bool            // lastPOC is of the current reset period
	// A source may stamp frames with presentation times instead (a
	// Matroska file's blocks, RTP): their times then go back at
	// B-frames. From the first step back (ptsInput) presentation times
	// are the source's times, and decode times the same times in
	// increasing order.
	ptsInput bool
	lastIn   time.Duration   // the latest source time
	inSet    bool            // lastIn is set
	inSlots  []time.Duration // source times not yet given as presentation time, increasing
	consumed []time.Duration // source times given, in that order, for the decode times of the frames leaving
	lastDTS  time.Duration   // decode time of the latest frame out of the held ones
	out      []orderedFrame  // push's result
	freeData [][]byte        // buffers of frames that left, for reuse
}

// newH264Order returns the order of a track configured with the parameter
// sets sps and pps (which its samples may repeat or replace).
func newH264Order(sps, pps [][]byte) *h264Order {
	o := &h264Order{}
	for _, p := range append(slices.Clip(sps), pps...) {
		_ = o.poc.AddParameterSet(p)
	}
	return o
}

// push takes the next frame in decoding order and returns the frames whose
// presentation times are now known, in decoding order. dts is the frame's
// place on the track's timeline, in, the time its source stamped it with
// (the same unless the source stamps presentation times or the recorder
// had to move the frame). The result and its data are valid until the
// next call; data is not kept after push returns when the frame leaves at
// once.
func (o *h264Order) push(dts, in, dur time.Duration, key bool, data []byte) []orderedFrame {
	po, err := o.poc.Next(data)
	return o.pushOrder(dts, in, dur, key, data, po, err == nil, reorderDepth(o.poc.SPS()))
}

// reorderDepth is how many frames the order waits for in a stream with
// SPS s: its MaxReorderFrames, except for Baseline profile streams whose
// VUI does not say (MaxReorderFrames is then the most the level allows, up
// to 16): Baseline has no B-slices, and its encoders output in decoding
// order, so their frames are not held back. A stream that reorders all
// the same is followed from its first out-of-order frame on (push).
func reorderDepth(s *h264.SPS) int {
	switch {
	case s == nil:
		return 0
	case s.ProfileIDC == 66 && !s.BitstreamRestriction:
		return 0
	}
	return s.MaxReorderFrames()
}

// pushOrder is push for a frame whose order count po is known (ok) or not,
// in a stream whose SPS says depth frames may wait.
func (o *h264Order) pushOrder(dts, in, dur time.Duration, key bool, data []byte, po h264.PictureOrder, ok bool, depth int) []orderedFrame {
	o.recycle()
	o.depth = max(o.depth, min(depth, maxReorder))
	if o.inSet && in < o.lastIn {
		o.ptsInput = true
	}
	o.lastIn, o.inSet = in, true
	if !ok || po.Reset {
		// A frame whose order is unknown follows everything before it, as
		// a reset does.
		o.bumpAll()
		o.lastSet = false
	}
	if ok && o.lastSet && po.POC < o.lastPOC && o.depth < maxReorder {
		// A frame that should have played before one already timed: the
		// stream reorders more than its SPS says. Wait for more frames
		// from now on.
		o.depth++
	}
	if len(o.held) == 0 && o.depth == 0 && ok && !o.ptsInput {
		// Nothing waits: the frame is out at once, at its decode time.
		o.lastPOC, o.lastSet, o.lastDTS = po.POC, true, dts
		o.out = append(o.out, orderedFrame{dts: dts, pts: dts, dur: dur, key: key, data: data, poc: po.POC, ptsSet: true})
		return o.out
	}
	f := &orderedFrame{dts: dts, dur: dur, key: key, poc: po.POC, owned: true}
	f.data = append(o.buffer(), data...)
	o.held = append(o.held, f)
	o.slots = append(o.slots, dts)
	i, _ := slices.BinarySearch(o.inSlots, in)
	o.inSlots = slices.Insert(o.inSlots, i, in)
	if !ok {
		o.bump(f) // its order is unknown: it plays next
		o.lastSet = false
	} else {
		o.waiting = append(o.waiting, f)
		for len(o.waiting) > o.depth {
			o.bump(o.first())
		}
	}
	return o.release()
}

// flush gives every held frame its presentation time and returns them all,
// in decoding order (at the end of the recording, or at a pause).
func (o *h264Order) flush() []orderedFrame {
	o.recycle()
	o.bumpAll()
	o.lastSet = false
	return o.release()
}

// first returns the waiting frame that plays first.
func (o *h264Order) first() *orderedFrame {
	best := o.waiting[0]
	for _, f := range o.waiting[1:] {
		if f.poc < best.poc {
			best = f
		}
	}
	return best
}

// bump gives f the next free slot as its presentation time.
func (o *h264Order) bump(f *orderedFrame) {
	f.pts, f.ptsSet = o.slots[0], true
	o.slots = o.slots[1:]
	in := o.inSlots[0]
	o.inSlots = o.inSlots[1:]
	o.consumed = append(o.consumed, in)
	if o.ptsInput {
		f.pts = in
	}
	if i := slices.Index(o.waiting, f); i >= 0 {
		o.waiting = slices.Delete(o.waiting, i, i+1)
		o.lastPOC, o.lastSet = f.poc, true
	}
}

func (o *h264Order) bumpAll() {
	for len(o.waiting) > 0 {
		o.bump(o.first())
	}
}

// release moves the held frames whose presentation time is known, up to
// the first that has none, to the result.
func (o *h264Order) release() []orderedFrame {
	n := 0
	for n < len(o.held) && o.held[n].ptsSet {
		f := o.held[n]
		if o.ptsInput {
			// The k-th frame in decoding order decodes at the k-th
			// presentation time, never before the frame before it.
			f.dts = max(o.consumed[0], o.lastDTS)
		}
		o.consumed = o.consumed[1:]
		o.lastDTS = f.dts
		o.out = append(o.out, *f)
		n++
	}
	o.held = slices.Delete(o.held, 0, n)
	return o.out
}

// recycle takes back the buffers of the previous result.
func (o *h264Order) recycle() {
	for _, f := range o.out {
		if f.owned && cap(f.data) <= 1<<20 && len(o.freeData) < maxReorder+2 {
			o.freeData = append(o.freeData, f.data[:0])
		}
	}
	o.out = o.out[:0]
}

// buffer returns an empty buffer for a held frame's data.
func (o *h264Order) buffer() []byte {
	if n := len(o.freeData); n > 0 {
		b := o.freeData[n-1]
		o.freeData = o.freeData[:n-1]
		return b
	}
	return nil
}

// frameMuxer is a muxer that stores a video frame's presentation time
// apart from its place in decoding order: Matroska (the block timestamp is
// the presentation time) and MP4 (a composition time offset).
type frameMuxer interface {
	// writeFrame stores a frame that comes in decoding order at decode
	// time dts and plays at pts.
	writeFrame(t *recTrack, dts, pts, dur time.Duration, key bool, data []byte) error
}

// muxSample writes a sample of t at media time ts (in: where its source
// put it); an H.264 frame goes through the track's order first, and the
// frames that leave it are written.
func (rec *recording) muxSample(t *recTrack, ts, in, dur time.Duration, key bool, data []byte) error {
	if t.order == nil {
		return rec.mux.writeSample(t, ts, dur, key, data)
	}
	return rec.writeOrdered(t, t.order.push(ts, in, dur, key, data))
}

// writeOrdered writes frames that left t's order. A frame the muxer cannot
// store is counted as skipped; other errors end the writing.
func (rec *recording) writeOrdered(t *recTrack, frames []orderedFrame) error {
	m := rec.mux.(frameMuxer)
	for _, f := range frames {
		if err := m.writeFrame(t, f.dts, f.pts, f.dur, f.key, f.data); err != nil {
			if !errSkippable(err) {
				return err
			}
			rec.countSkipped(1)
		}
	}
	return nil
}

// flushOrder writes the frames every H.264 track's order holds back (at a
// pause and at the end).
func (rec *recording) flushOrder() error {
	if rec.mux == nil {
		return nil
	}
	for _, t := range rec.tracks {
		if t.order != nil {
			if err := rec.writeOrdered(t, t.order.flush()); err != nil {
				return err
			}
		}
	}
	return nil
}
