package rtpsource

import (
	"github.com/pion/rtp/codecs"

	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/codecs/vp8"
	"github.com/gomediarecorder/mediarecorder/codecs/vp9"
)

// How a video track decides what a loss costs.
//
// A lost frame that no later frame depends on costs only itself: the
// frames after it decode as if it had never been sent. Any other lost
// frame breaks decoding until the next key frame. The frame that is lost
// is not there to say which it was, so the track gathers what the packets
// that did arrive tell, and decides at the next complete frame:
//
//   - the surviving packets of each broken frame: the VP8 payload
//     descriptor's N bit (any packet; trusted while every N frame the track
//     saw whole was really discardable) and the VP8 frame header (first
//     packet: refreshes no reference buffer, copies none, keeps no
//     probability update, no segmentation update); the VP9 uncompressed
//     header (first packet: refresh_frame_flags 0); H.264's nal_ref_idc (any
//     packet of a slice: FU-A indicators carry it too);
//   - whether a frame may have been lost whole: a gap in the VP8 or VP9
//     picture IDs that no broken frame fills, or, without picture IDs, a
//     hole between packets of two different timestamps; for H.264, the next
//     frame's frame_num, which must follow the last reference picture's
//     (a lost reference picture leaves a gap in frame_num, section 7.4.3);
//   - the next frame itself: VP9 must be in error-resilient mode (it then
//     uses nothing the lost frame may have left: probability contexts,
//     segmentation, loop filter deltas, the previous frame's motion
//     vectors); VP8, when a lost frame may have changed the loop filter
//     deltas, must set all of them.
//
// VP8 with temporal layers (TID and TL0PICIDX in the descriptor, as
// libwebrtc sends): when frames are lost that cannot be accounted for,
// but the next frame is of the base layer and its TL0PICIDX follows the
// last published one (so the base layer lost nothing), and the upper-layer
// frames seen whole were all discardable, that frame
// is published and so are the base-layer frames after it; frames of TID 1
// and above are dropped until a layer sync frame (Y) of each layer, or a
// key frame.
//
// Whatever it cannot be sure of counts as a reference frame: the track
// then drops frames until the next key frame and asks for one.

// maxLostFrames bounds the broken frames a loss keeps track of.
const maxLostFrames = 64

// refStatus is what a broken frame's surviving packets said about it.
type refStatus int8

const (
	refUnknown refStatus = iota
	refNone              // nothing references it
	refUsed              // a reference frame, or it changes state later frames use
)

// lostFrame is a frame broken by a loss, as its surviving packets tell.
type lostFrame struct {
	ts     int64
	id     int32 // picture ID (VP8, VP9); -1 if none
	status refStatus
	lf     bool // VP8: may have changed the loop filter deltas
}

// lossState is what a video track knows about a loss not yet decided, and
// about the newest frame it published. The assembler tells it of holes
// (hole) and of the packets of broken frames (noteLost); the Track asks it
// what the loss costs at the next complete frame (decide) and tells it of
// each frame it publishes (published). Not safe for concurrent use (the
// Track's lock guards it).
type lossState struct {
	ck       codecKind
	pending  bool // frames were lost since the last published frame
	unsure   bool // something lost cannot be accounted for
	span     bool // a hole may hide whole frames (no picture IDs to tell)
	lost     []lostFrame
	distrust bool // VP8: an N frame was not discardable: ignore N bits
	// VP8 temporal layers (TID and TL0PICIDX in the payload descriptor).
	tl0Set bool
	tl0    uint8 // TL0PICIDX of the newest published base-layer frame
	maxTID uint8 // highest TID published
	tSeen  bool  // frames of TID > 0 were seen whole, none keeping a probability or segmentation update ...
	tLF    bool  // ... some of them changing the loop filter deltas
	tBad   bool  // one of them kept a probability or segmentation update: no layer rule
	broken uint8 // > 0: frames of this TID and above may miss a reference
	nSeen  bool  // VP8: N frames were seen whole, all discardable ...
	nLF    bool  // ... and some of them changed the loop filter deltas

	// The newest published frame.
	picID   int32 // picture ID; -1 if none
	picBits uint8 // 7 or 15
	sps     h264.SPS
	spsOK   bool
	prevRef int64 // frame_num of the newest reference picture; -1 if none
}

// newLossState returns the loss state of a track of codec ck.
func newLossState(ck codecKind) lossState {
	return lossState{ck: ck, picID: -1, prevRef: -1}
}

// hole records a hole (assembler.run): span if it may hide whole frames.
// It returns false for a codec whose losses it does not analyse (Opus:
// a loss costs only itself; AV1: every loss waits for a key frame).
func (l *lossState) hole(span bool) bool {
	if l.ck == codecOpus || l.ck == codecAV1 {
		return false
	}
	l.pending = true
	if span {
		l.span = true
	}
	return true
}

// decide settles the pending loss at the complete frame data (facts f; a
// key frame or not) of a track that waits for a key frame (waiting) or
// not. It returns how many lost frames no later frame references (for
// Stats.NonReferenceLost), whether the track must now wait for a key
// frame, and whether to drop this frame: its temporal layer misses a
// reference (layerDropped).
func (l *lossState) decide(f *frameFacts, data []byte, key, waiting bool) (nonRef int, wait, drop bool) {
	if l.pending && !waiting && !key {
		if l.survives(f, data) {
			n := len(l.lost)
			if f.picID >= 0 && l.picID >= 0 {
				mod := int32(1) << f.picBits
				n = int((f.picID - l.picID - 1 + mod) % mod)
			}
			nonRef = max(n, 1)
		} else if l.survivesBase(f, data) {
			nonRef = 1
			l.broken = 1
		} else {
			wait = true
		}
	}
	if l.ck == codecVP8 && (key || !(waiting || wait)) && l.layerDropped(f, key) {
		drop = true
	}
	l.clearLoss() // decided, or waiting for a key frame anyway
	return nonRef, wait, drop
}

// noteLost records what packet p, of a frame broken by a loss, tells.
func (l *lossState) noteLost(p *packet) {
	if !l.pending || p.pad {
		return
	}
	var f *lostFrame
	for i := range l.lost {
		if l.lost[i].ts == p.ts {
			f = &l.lost[i]
			break
		}
	}
	if f == nil {
		if len(l.lost) >= maxLostFrames {
			l.unsure = true
			return
		}
		l.lost = append(l.lost, lostFrame{ts: p.ts, id: -1, lf: true})
		f = &l.lost[len(l.lost)-1]
	}
	switch l.ck {
	case codecVP8:
		l.noteVP8(f, p.payload)
	case codecVP9:
		noteVP9(f, p.payload)
	case codecH264:
		noteH264(f, p.payload)
	}
}

func (l *lossState) noteVP8(f *lostFrame, payload []byte) {
	var d codecs.VP8Packet
	data, err := d.Unmarshal(payload)
	if err != nil {
		return
	}
	if id, _, ok := vp8PictureID(payload); ok {
		f.id = int32(id)
	}
	if d.S == 1 && d.PID == 0 {
		// The first packet: the frame header tells.
		if u, ok, err := vp8.ParseUpdates(data); err == nil {
			if ok && discardableBut(u) {
				f.status = refNone
				f.lf = u.LoopFilterDeltas
			} else {
				f.status = refUsed
			}
			return
		}
	}
	if d.N == 1 && !l.distrust && f.status == refUnknown {
		// The header is not here: its loop filter deltas are what the
		// N frames seen so far did.
		f.status = refNone
		f.lf = !l.nSeen || l.nLF
	}
}

// discardableBut reports whether u is discardable but for its loop filter
// deltas.
func discardableBut(u vp8.Updates) bool {
	u.LoopFilterDeltas, u.AllLoopFilterDeltas = false, false
	return u.Discardable()
}

func noteVP9(f *lostFrame, payload []byte) {
	var d codecs.VP9Packet
	data, err := d.Unmarshal(payload)
	if err != nil {
		return
	}
	if id, _, ok := vp9PictureID(payload); ok {
		f.id = int32(id)
	}
	if d.B && len(data) > 0 {
		if flags, err := vp9.RefreshFrameFlags(data); err == nil {
			f.status = refUsed
			if flags == 0 {
				f.status = refNone
			}
		}
	}
}

func noteH264(f *lostFrame, payload []byte) {
	nri, ok := h264PacketRefIdc(payload)
	if !ok {
		return
	}
	if nri == 0 {
		if f.status == refUnknown {
			f.status = refNone
		}
	} else {
		f.status = refUsed
	}
}

// survivesBase reports whether the complete VP8 frame data (facts f)
// decodes despite a pending loss that survives refused: it is a
// base-layer frame, the base layer lost nothing (its TL0PICIDX follows
// the last published one), and what the other layers' frames do to the
// decoder's state (seen on those that came whole) is nothing a base-layer
// frame uses. Frames of the other layers may then miss a reference: the
// caller drops them until a layer sync.
func (l *lossState) survivesBase(f *frameFacts, data []byte) bool {
	if l.ck != codecVP8 || l.unsure || !f.hasTL || f.tid != 0 || !l.tl0Set || f.tl0 != l.tl0+1 || !l.tSeen || l.tBad {
		return false
	}
	if l.tLF {
		u, ok, err := vp8.ParseUpdates(data)
		return err == nil && ok && u.AllLoopFilterDeltas
	}
	return true
}

// layerDropped reports whether the frame (facts f) belongs to a temporal
// layer broken by a loss (survivesBase), and repairs layers at their sync
// frames.
func (l *lossState) layerDropped(f *frameFacts, key bool) bool {
	if key || !f.hasTL {
		l.broken = 0
		return false
	}
	if l.broken == 0 || f.tid < l.broken {
		return false
	}
	if !f.sync {
		l.picID = f.picID // received: no hole in the picture IDs
		return true
	}
	if f.tid == l.broken {
		l.broken++
		if l.broken > l.maxTID {
			l.broken = 0
		}
	}
	return false
}

// survives reports whether the complete, non-key frame data (facts f)
// decodes despite the pending loss.
func (l *lossState) survives(f *frameFacts, data []byte) bool {
	if l.unsure {
		return false
	}
	lf := false
	for _, x := range l.lost {
		if x.status != refNone {
			return false
		}
		lf = lf || x.lf
	}
	switch l.ck {
	case codecVP8, codecVP9:
		if f.picID >= 0 && l.picID >= 0 {
			// Every picture ID between the last published frame and this
			// one must be a broken frame known to be discardable.
			mod := int32(1) << f.picBits
			missing := (f.picID - l.picID - 1 + mod) % mod
			if missing != int32(len(l.lost)) {
				return false
			}
			for i, x := range l.lost {
				if d := (x.id - l.picID + mod) % mod; x.id < 0 || d < 1 || d > missing {
					return false
				}
				for _, y := range l.lost[:i] {
					if y.id == x.id {
						return false
					}
				}
			}
		} else if l.span || len(l.lost) == 0 {
			return false
		}
		if l.ck == codecVP9 {
			return vp9.IndependentOfPast(data)
		}
		if lf {
			u, ok, err := vp8.ParseUpdates(data)
			return err == nil && ok && u.AllLoopFilterDeltas
		}
		return true
	case codecH264:
		if !l.spsOK || l.prevRef < 0 || f.frameNum < 0 {
			return false
		}
		return f.frameNum == (l.prevRef+1)%(int64(1)<<l.sps.Log2MaxFrameNum)
	}
	return false
}

// published updates the chain after frame data (facts f) is published.
func (l *lossState) published(f *frameFacts, data []byte, key bool) {
	l.picID, l.picBits = f.picID, f.picBits
	switch l.ck {
	case codecVP8:
		if f.hasTL {
			l.maxTID = max(l.maxTID, f.tid)
			if f.tid == 0 {
				l.tl0, l.tl0Set = f.tl0, true
			} else if !l.tBad {
				u, ok, err := vp8.ParseUpdates(data)
				if err != nil || !ok || !discardableBut(u) {
					// An upper-layer frame that a base-layer frame may
					// use: a sender that does not layer as it says.
					l.tBad = true
				} else {
					l.tSeen = true
					l.tLF = l.tLF || u.LoopFilterDeltas
				}
			}
		}
		if f.nBit && !l.distrust {
			u, ok, err := vp8.ParseUpdates(data)
			if err != nil || !ok || !discardableBut(u) {
				l.distrust = true // the sender's N bits are not to be trusted
			} else {
				l.nSeen = true
				l.nLF = l.nLF || u.LoopFilterDeltas
			}
		}
	case codecH264:
		if key {
			l.prevRef = 0
		}
		if f.refIdc > 0 && f.frameNum >= 0 {
			l.prevRef = f.frameNum
		} else if f.refIdc > 0 {
			l.prevRef = -1
		}
	}
}

// clearLoss forgets a decided loss.
func (l *lossState) clearLoss() {
	l.pending, l.unsure, l.span = false, false, false
	l.lost = l.lost[:0]
}
