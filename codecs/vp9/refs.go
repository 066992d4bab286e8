package vp9

import "github.com/gomediarecorder/mediarecorder/internal/bits"

// RefreshFrameFlags returns refresh_frame_flags of frame (or of the first
// frame of a superframe): the reference slots the frame is stored in,
// 0xff for a key frame, 0 for a frame that no later frame can reference
// (and for show_existing_frame). It returns an error when frame is not a
// VP9 frame or ends before the field; the superframe index, which sits at
// the end of frame, is not needed, so the first packet of a frame will do.
func RefreshFrameFlags(frame []byte) (uint8, error) {
	h, flags, err := parseRefresh(frame)
	if err != nil {
		return 0, err
	}
	if h.KeyFrame {
		return 0xff, nil
	}
	return flags, nil
}

// parseRefresh reads the uncompressed header up to refresh_frame_flags.
func parseRefresh(frame []byte) (Header, uint8, error) {
	var h Header
	b := bitReader{bits.NewReader(frame)}
	if b.ReadBits(2) != 2 {
		if b.Err() != nil {
			return Header{}, 0, ErrShortFrame
		}
		return Header{}, 0, ErrFrameMarker
	}
	h.Profile = uint8(b.ReadBits(1) | b.ReadBits(1)<<1)
	if h.Profile == 3 && b.ReadBits(1) != 0 {
		return Header{}, 0, b.err(ErrReservedBit)
	}
	h.ShowExistingFrame = b.ReadBits(1) == 1
	if h.ShowExistingFrame {
		b.ReadBits(3)
		h.ShowFrame = true
		return h, 0, b.err(nil)
	}
	h.KeyFrame = b.ReadBits(1) == 0
	h.ShowFrame = b.ReadBits(1) == 1
	h.ErrorResilient = b.ReadBits(1) == 1
	if h.KeyFrame {
		return h, 0xff, b.err(nil)
	}
	if !h.ShowFrame {
		h.IntraOnly = b.ReadBits(1) == 1
	}
	if !h.ErrorResilient {
		b.ReadBits(2) // reset_frame_context
	}
	if h.IntraOnly {
		if err := b.syncCode(); err != nil {
			return Header{}, 0, err
		}
		if h.Profile > 0 {
			if err := h.colorConfig(&b); err != nil {
				return Header{}, 0, err
			}
		}
	}
	flags := uint8(b.ReadBits(8))
	return h, flags, b.err(nil)
}

// IndependentOfPast reports whether frame (or the first frame of a
// superframe) decodes without any state that an earlier frame left,
// except the reference frames it uses: a key frame, or a frame in
// error-resilient mode (which resets the probability contexts, the
// segmentation and loop filter deltas, and uses no motion vectors of the
// previous frame). After a lost frame that stored no reference
// (RefreshFrameFlags 0), such a frame decodes as if nothing was lost.
func IndependentOfPast(frame []byte) bool {
	first, err := firstFrame(frame)
	if err != nil {
		return false
	}
	h, _, err := parseRefresh(first)
	return err == nil && !h.ShowExistingFrame && (h.KeyFrame || h.ErrorResilient)
}
