package mp4

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"time"
)

// sample is one buffered sample of the pending fragment.
type sample struct {
	ts   int64  // decode time in the track's timescale
	dur  int64  // duration from WriteSample's dur, in the timescale; 0 unknown
	size uint32 // bytes in the track's data buffer
	sync bool
	cto  int32 // composition time offset: presentation minus decode time
}

// tfraEntry is one entry of a track's tfra: a fragment whose traf of the
// track starts with a sync sample.
type tfraEntry struct {
	time    int64  // tfdt of the traf
	moof    int64  // offset of the moof from the start of the output
	trafNum uint32 // 1-based number of the traf in the moof
}

// track is the state of one track of a Writer.
type track struct {
	Track
	timescale uint32
	video     bool

	samples []sample // pending fragment
	data    []byte   // pending sample data, in order

	started bool
	lastTS  time.Duration // timestamp of the last sample written
	prevDur int64         // duration of the last sample written out
	end     int64         // end of the last sample written out, 0 before

	index []tfraEntry // seekable only
}

// Writer writes a fragmented MP4 stream. Its methods must not be called
// concurrently.
type Writer struct {
	w     io.Writer
	ws    io.WriteSeeker // nil unless the file is finished on Close
	start int64          // position of ws where the output starts
	n     int64          // bytes handed to w
	err   error          // sticky write error
	done  bool           // Close was called

	maxFrag time.Duration
	tracks  []track
	seq     uint32 // sequence number of the next fragment

	pending      int           // samples in the pending fragment
	pendingVideo bool          // some of them are video samples
	pendingBytes int           // their data
	fragStart    time.Duration // timestamp of the fragment's first sample

	buf   []byte         // moof scratch space
	marks []FragmentMark // the pending fragment's trafs (FragmentMarker)
	init  initSegment    // offsets of the duration fields (seekable)
}

// NewWriter validates opts, writes the init segment (ftyp and moov) to w
// in one Write and returns a Writer for the fragments.
//
// With opts.Seekable, w must be an io.WriteSeeker; the output starts at its
// current position, and ErrNotSeekable is returned when it has none.
func NewWriter(w io.Writer, opts Options) (*Writer, error) {
	if len(opts.Tracks) == 0 {
		return nil, fmt.Errorf("%w: no tracks", ErrTrack)
	}
	if opts.MaxFragmentDuration < 0 {
		return nil, fmt.Errorf("mp4: negative MaxFragmentDuration %v", opts.MaxFragmentDuration)
	}
	wr := &Writer{w: w, seq: 1, maxFrag: opts.MaxFragmentDuration}
	wr.tracks = make([]track, len(opts.Tracks))
	hasVideo := false
	for i, t := range opts.Tracks {
		if t.ID == 0 {
			return nil, fmt.Errorf("%w: track ID 0", ErrTrack)
		}
		for _, u := range opts.Tracks[:i] {
			if u.ID == t.ID {
				return nil, fmt.Errorf("%w: track ID %d used twice", ErrTrack, t.ID)
			}
		}
		if err := validateTrack(&t); err != nil {
			return nil, err
		}
		video := t.Type == TrackTypeVideo
		hasVideo = hasVideo || video
		wr.tracks[i] = track{Track: t, timescale: timescaleOf(t.Type), video: video}
	}
	if wr.maxFrag == 0 {
		wr.maxFrag = DefaultAudioFragmentDuration
		if hasVideo {
			wr.maxFrag = DefaultMaxFragmentDuration
		}
	}
	if opts.Seekable {
		ws, ok := w.(io.WriteSeeker)
		if !ok {
			return nil, ErrNotSeekable
		}
		pos, err := ws.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotSeekable, err)
		}
		wr.ws, wr.start = ws, pos
	}
	tracks := make([]Track, len(wr.tracks))
	for i := range wr.tracks {
		tracks[i] = wr.tracks[i].Track
	}
	wr.init = buildInit(tracks, opts.Seekable)
	err := wr.write(wr.init.b)
	wr.init.b = nil
	if err != nil {
		return nil, err
	}
	return wr, nil
}

// Boundaryer is implemented by a destination that wants to know where the
// stream may be cut: a Writer calls Boundary before it writes each
// fragment (moof and mdat), when everything written before is whole boxes.
type Boundaryer interface {
	Boundary()
}

// FragmentMarker is implemented by a destination that keeps an index of
// the fragments (to finish the file without reading it back: see
// FinishLive): a Writer calls MarkFragment just before it writes each
// fragment, after Boundary, with one mark per traf of its moof, in order;
// their Offsets are from the fragment's start, which is the
// destination's current end. The slice is reused after the call.
type FragmentMarker interface {
	MarkFragment(trafs []FragmentMark)
}

// write hands p to the destination, counting the bytes.
func (w *Writer) write(p []byte) error {
	n, err := w.w.Write(p)
	w.n += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
	}
	return err
}

// track returns the track with the given ID, or nil.
func (w *Writer) track(id uint32) *track {
	for i := range w.tracks {
		if w.tracks[i].ID == id {
			return &w.tracks[i]
		}
	}
	return nil
}

// WriteSample adds a sample to the pending fragment; data is copied, so the
// caller may reuse it.
//
// ts is the sample's decode (and presentation) time: at least 0 and not
// earlier than the previous sample of the track. A sample's duration is
// the distance to the next sample of its track; the last sample of a
// fragment uses dur, or when dur is 0 the duration of the sample before
// it. key marks a sync sample; every audio sample is one. A video key frame
// starts a new fragment (the pending one is written first) unless the
// pending fragment holds no video yet (audio written before the first key
// frame joins its fragment); so does a sample that would take the fragment
// past Options.MaxFragmentDuration or MaxFragmentSize.
//
// data is one sample in the form of the track's codec: for avc1, NAL units
// with 4-byte big-endian lengths; for av01, the OBUs of a temporal unit
// without temporal delimiters; for vp09, a frame (or superframe); for
// Opus, a packet.
//
// Invalid arguments (ErrTrack, ErrTimestamp) leave the writer as it was;
// write errors are sticky.
func (w *Writer) WriteSample(track uint32, ts, dur time.Duration, key bool, data []byte) error {
	return w.WriteSampleAt(track, ts, ts, dur, key, data)
}

// WriteSampleAt is WriteSample for a sample whose presentation time pts
// differs from its decode time dts, as H.264 frames with B-frames do:
// samples come in decoding order (dts never goes back), and pts - dts
// (within ±2^31 units of the timescale) is stored as the sample's
// composition time offset. A fragment whose offsets are all 0 is written
// as WriteSample writes it; one with a negative offset has a version 1
// trun (signed offsets), so presentation can start at the first sample's
// decode time without an edit list.
func (w *Writer) WriteSampleAt(track uint32, dts, pts, dur time.Duration, key bool, data []byte) error {
	ts := dts
	if w.done {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	t := w.track(track)
	if t == nil {
		return fmt.Errorf("%w: no track %d", ErrTrack, track)
	}
	if ts < 0 || dur < 0 || t.started && ts < t.lastTS {
		return ErrTimestamp
	}
	if uint64(len(data)) > math.MaxUint32 {
		return fmt.Errorf("mp4: %d-byte sample too large", len(data))
	}
	u := toUnits(ts, t.timescale)
	cto := toUnits(pts, t.timescale) - u
	if pts < 0 || cto < math.MinInt32 || cto > math.MaxInt32 {
		return ErrTimestamp
	}
	if w.pending > 0 {
		cut := t.video && key && w.pendingVideo ||
			ts-w.fragStart >= w.maxFrag ||
			w.pendingBytes+len(data) > MaxFragmentSize ||
			len(t.samples) > 0 && u-t.samples[len(t.samples)-1].ts > math.MaxUint32
		if cut {
			if err := w.flush(t, u); err != nil {
				return err
			}
		}
	}
	if w.pending == 0 {
		w.fragStart = ts
	}
	t.samples = append(t.samples, sample{
		ts:   u,
		dur:  toUnits(dur, t.timescale),
		size: uint32(len(data)),
		sync: key || !t.video,
		cto:  int32(cto),
	})
	t.data = append(t.data, data...)
	w.pending++
	w.pendingBytes += len(data)
	w.pendingVideo = w.pendingVideo || t.video
	t.started, t.lastTS = true, ts
	return nil
}

// Flush writes the pending fragment, if any, so that every byte handed to
// the destination ends on a fragment boundary.
func (w *Writer) Flush() error {
	if w.done {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	return w.flush(nil, 0)
}

// lastDuration returns the duration of the last pending sample of t: the
// time to next (a sample of t at nextTS) when next is t, else its own
// duration, else the one of the sample before it.
func (t *track) lastDuration(next *track, nextTS int64) int64 {
	n := len(t.samples)
	last := t.samples[n-1]
	switch {
	case next == t:
		return nextTS - last.ts
	case last.dur > 0:
		return last.dur
	case n > 1:
		return last.ts - t.samples[n-2].ts
	}
	return t.prevDur
}

// flush writes the pending fragment: moof {mfhd, traf per track with
// samples {tfhd, tfdt, trun}}, then one mdat with the samples in traf
// order. next and nextTS name the sample that caused the cut, if any, to
// time the last sample of its track exactly.
func (w *Writer) flush(next *track, nextTS int64) error {
	if w.pending == 0 {
		return nil
	}
	b := w.buf[:0]
	b, moof := beginBox(b, "moof")
	var mfhd int
	b, mfhd = beginFullBox(b, "mfhd", 0, 0)
	b = appendU32(b, w.seq)
	endBox(b, mfhd)

	// Offsets in b of each traf's trun data_offset, patched below.
	var offsets [8]int
	dataOffsets := offsets[:0]
	trafNum := uint32(0)
	w.marks = w.marks[:0]
	for i := range w.tracks {
		t := &w.tracks[i]
		if len(t.samples) == 0 {
			continue
		}
		trafNum++
		var traf, tfhd, tfdt, trun int
		w.marks = append(w.marks, FragmentMark{Offset: int64(len(b)), Time: t.samples[0].ts,
			Track: t.ID, First: trafNum == 1, Sync: t.samples[0].sync})
		b, traf = beginBox(b, "traf")
		b, tfhd = beginFullBox(b, "tfhd", 0, 0x020020) // default-base-is-moof, default-sample-flags
		b = appendU32(b, t.ID)
		def := uint32(flagsSync)
		if t.video {
			def = flagsNonSync
		}
		b = appendU32(b, def)
		endBox(b, tfhd)

		b, tfdt = beginFullBox(b, "tfdt", 1, 0)
		b = appendU64(b, uint64(t.samples[0].ts))
		endBox(b, tfdt)

		first := t.video && t.samples[0].sync
		flags := uint32(0x000301) // data-offset, sample-duration, sample-size
		if first {
			flags |= 0x000004 // first-sample-flags
		}
		version := uint8(0)
		for _, s := range t.samples {
			if s.cto != 0 {
				flags |= 0x000800 // sample-composition-time-offset
			}
			if s.cto < 0 {
				version = 1
			}
		}
		cto := flags&0x000800 != 0
		b, trun = beginFullBox(b, "trun", version, flags)
		b = appendU32(b, uint32(len(t.samples)))
		dataOffsets = append(dataOffsets, len(b))
		b = appendU32(b, 0)
		if first {
			b = appendU32(b, flagsSync)
		}
		for j := range t.samples[:len(t.samples)-1] {
			b = appendU32(b, uint32(t.samples[j+1].ts-t.samples[j].ts))
			b = appendU32(b, t.samples[j].size)
			if cto {
				b = appendU32(b, uint32(t.samples[j].cto))
			}
		}
		d := t.lastDuration(next, nextTS)
		d = min(max(d, 0), math.MaxUint32)
		b = appendU32(b, uint32(d))
		b = appendU32(b, t.samples[len(t.samples)-1].size)
		if cto {
			b = appendU32(b, uint32(t.samples[len(t.samples)-1].cto))
		}
		endBox(b, trun)
		endBox(b, traf)
		t.prevDur = d
		t.end = t.samples[len(t.samples)-1].ts + d
		w.marks[len(w.marks)-1].Dur = t.end - t.samples[0].ts

		if w.ws != nil && t.samples[0].sync {
			t.index = append(t.index, tfraEntry{time: t.samples[0].ts, moof: w.n, trafNum: trafNum})
		}
	}
	endBox(b, moof)
	off := len(b) + 8
	k := 0
	for i := range w.tracks {
		t := &w.tracks[i]
		if len(t.samples) == 0 {
			continue
		}
		binary.BigEndian.PutUint32(b[dataOffsets[k]:], uint32(off))
		off += len(t.data)
		k++
	}
	b = appendU32(b, uint32(8+w.pendingBytes))
	b = append(b, "mdat"...)
	w.buf = b

	w.seq++
	w.pending, w.pendingBytes, w.pendingVideo = 0, 0, false
	if m, ok := w.w.(Boundaryer); ok {
		m.Boundary() // what came before is whole fragments
	}
	if m, ok := w.w.(FragmentMarker); ok {
		m.MarkFragment(w.marks)
	}
	err := w.write(b)
	for i := range w.tracks {
		t := &w.tracks[i]
		if err == nil && len(t.data) > 0 {
			err = w.write(t.data)
		}
		t.samples, t.data = t.samples[:0], t.data[:0]
	}
	return err
}

// DisableSeeking stops the writer from finishing the file: the bytes
// written so far have been handed out (as a live stream), so Close writes
// neither the index nor the durations; it still writes the last fragment.
func (w *Writer) DisableSeeking() {
	w.ws = nil
	for i := range w.tracks {
		w.tracks[i].index = nil
	}
}

// Close writes the pending fragment and, when the writer is seekable,
// finishes the file: it appends the mfra index and fills in the durations
// of mvhd, mehd, tkhd and mdhd, leaving the destination positioned at the
// end of the output. It never closes the destination. Calling Close again
// returns the first result.
func (w *Writer) Close() error {
	if w.done {
		return w.err
	}
	w.done = true
	if w.err != nil {
		return w.err
	}
	if err := w.flush(nil, 0); err != nil {
		return err
	}
	if w.ws == nil {
		return nil
	}
	if err := w.finish(); err != nil && w.err == nil {
		w.err = err
	}
	return w.err
}

// finish appends mfra and patches the durations.
func (w *Writer) finish() error {
	if err := w.write(w.appendMFRA(w.buf[:0])); err != nil {
		return err
	}
	var movie int64
	var patch [8]byte
	put := func(off int, v int64) error {
		if off == 0 {
			return nil
		}
		binary.BigEndian.PutUint64(patch[:], uint64(v))
		if _, err := w.ws.Seek(w.start+int64(off), io.SeekStart); err != nil {
			return err
		}
		_, err := w.ws.Write(patch[:])
		return err
	}
	for i := range w.tracks {
		t := &w.tracks[i]
		d := rescale(t.end, t.timescale, movieTimescale)
		movie = max(movie, d)
		if err := put(w.init.tkhdDur[i], d); err != nil {
			return err
		}
		if err := put(w.init.mdhdDur[i], t.end); err != nil {
			return err
		}
	}
	if err := put(w.init.mvhdDur, movie); err != nil {
		return err
	}
	if err := put(w.init.mehdDur, movie); err != nil {
		return err
	}
	_, err := w.ws.Seek(w.start+w.n, io.SeekStart)
	return err
}

// appendMFRA appends the movie fragment random access box: a tfra
// (version 1) per track with index entries, then mfro.
func (w *Writer) appendMFRA(b []byte) []byte {
	b, mfra := beginBox(b, "mfra")
	for i := range w.tracks {
		t := &w.tracks[i]
		if len(t.index) == 0 {
			continue
		}
		var tfra int
		b, tfra = beginFullBox(b, "tfra", 1, 0)
		b = appendU32(b, t.ID)
		trafSize := uint32(0) // length_size_of_traf_num: 1 byte, or 2
		if len(w.tracks) > 255 {
			trafSize = 1
		}
		b = appendU32(b, trafSize<<4) // trun and sample numbers: 1 byte
		b = appendU32(b, uint32(len(t.index)))
		for _, e := range t.index {
			b = appendU64(b, uint64(e.time))
			b = appendU64(b, uint64(e.moof))
			if trafSize == 1 {
				b = appendU16(b, uint16(e.trafNum))
			} else {
				b = append(b, byte(e.trafNum))
			}
			b = append(b, 1, 1) // trun_number, sample_number
		}
		endBox(b, tfra)
	}
	b, mfro := beginFullBox(b, "mfro", 0, 0)
	b = appendU32(b, uint32(len(b)-mfra+4))
	endBox(b, mfro)
	endBox(b, mfra)
	return b
}

// rescale converts v from timescale from to timescale to, rounding to the
// nearest unit.
func rescale(v int64, from, to uint32) int64 {
	if from == to || from == 0 {
		return v
	}
	f, t := int64(from), int64(to)
	return v/f*t + (v%f*t+f/2)/f
}

// Duration returns the end time of the latest sample written so far: its
// timestamp plus its duration as the writer knows it (dur, or the duration
// of the sample before it). It is the duration Close writes when the
// writer is seekable.
func (w *Writer) Duration() time.Duration {
	var d time.Duration
	for i := range w.tracks {
		t := &w.tracks[i]
		end := t.end
		if len(t.samples) > 0 {
			end = t.samples[len(t.samples)-1].ts + max(t.lastDuration(nil, 0), 0)
		}
		d = max(d, fromUnits(end, t.timescale))
	}
	return d
}

// Size returns the number of bytes handed to the destination so far.
func (w *Writer) Size() int64 { return w.n }
