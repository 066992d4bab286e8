package vp8

// Updates is what an inter frame changes in the decoder's state for the
// frames after it (RFC 6386 sections 9.3 to 9.11): the reference buffers it
// refreshes or copies to, whether its probability updates persist, and
// whether it updates the segmentation or the loop filter deltas.
type Updates struct {
	RefreshGolden, RefreshAltRef, RefreshLast bool
	CopyToGolden, CopyToAltRef                uint8 // copy_buffer_to_golden / _alternate: 0 none, 1 last, 2 the other one
	RefreshEntropy                            bool  // refresh_entropy_probs: this frame's probability updates persist
	Segmentation                              bool  // update_mb_segmentation_map or update_segment_feature_data
	LoopFilterDeltas                          bool  // mode_ref_lf_delta_update
	// AllLoopFilterDeltas: the frame sets all 8 loop filter deltas, so
	// none that an earlier frame set survives it.
	AllLoopFilterDeltas bool
}

// Discardable reports whether nothing after the frame depends on it: it
// refreshes and copies to no reference buffer, its probability updates do
// not persist, and it updates neither the segmentation nor the loop filter
// deltas.
func (u Updates) Discardable() bool {
	return !u.RefreshGolden && !u.RefreshAltRef && !u.RefreshLast &&
		u.CopyToGolden == 0 && u.CopyToAltRef == 0 &&
		!u.RefreshEntropy && !u.Segmentation && !u.LoopFilterDeltas
}

// ParseUpdates reads the frame header of the inter frame at the start of
// frame (the frame tag and the start of the first partition, typically a
// few dozen bytes) up to refresh_last. It returns ErrShortFrame if frame
// ends first, and ok false for a key frame (which refreshes everything).
func ParseUpdates(frame []byte) (u Updates, ok bool, err error) {
	h, err := ParseFrameHeader(frame)
	if err != nil {
		return Updates{}, false, err
	}
	if h.KeyFrame {
		return Updates{}, false, nil
	}
	d := newBoolDecoder(frame[FrameTagSize:])
	if d.lit(1) == 1 { // segmentation_enabled
		updMap := d.lit(1) == 1
		updData := d.lit(1) == 1
		u.Segmentation = updMap || updData
		if updData {
			d.lit(1) // segment_feature_mode
			for range 4 {
				d.flagged(7 + 1) // quantizer_update_value, sign
			}
			for range 4 {
				d.flagged(6 + 1) // loop_filter_update_value, sign
			}
		}
		if updMap {
			for range 3 {
				d.flagged(8) // segment_prob
			}
		}
	}
	d.lit(1 + 6 + 3)   // filter_type, loop_filter_level, sharpness_level
	if d.lit(1) == 1 { // loop_filter_adj_enable
		if d.lit(1) == 1 { // mode_ref_lf_delta_update
			u.LoopFilterDeltas = true
			all := true
			for range 8 {
				all = d.flagged(6+1) && all
			}
			u.AllLoopFilterDeltas = all
		}
	}
	d.lit(2) // log2_nbr_of_dct_partitions
	d.lit(7) // y_ac_qi
	for range 5 {
		d.flagged(4 + 1) // y_dc, y2_dc, y2_ac, uv_dc, uv_ac deltas
	}
	u.RefreshGolden = d.lit(1) == 1
	u.RefreshAltRef = d.lit(1) == 1
	if !u.RefreshGolden {
		u.CopyToGolden = uint8(d.lit(2))
	}
	if !u.RefreshAltRef {
		u.CopyToAltRef = uint8(d.lit(2))
	}
	d.lit(2) // sign_bias_golden, sign_bias_alternate
	u.RefreshEntropy = d.lit(1) == 1
	u.RefreshLast = d.lit(1) == 1
	if d.short {
		return Updates{}, false, ErrShortFrame
	}
	return u, true, nil
}

// IsDiscardable reports whether frame is an inter frame that nothing after
// it depends on (Updates.Discardable). It returns false for key frames
// and anything too short or malformed.
func IsDiscardable(frame []byte) bool {
	u, ok, err := ParseUpdates(frame)
	return err == nil && ok && u.Discardable()
}

// boolDecoder is the boolean entropy decoder of RFC 6386 section 7.3,
// reading literals (probability 128) only.
type boolDecoder struct {
	data     []byte
	value    uint32 // 2 bytes of the input, big-endian, shifted as bits go
	rng      uint32 // range, 128..255
	bitCount int
	short    bool // read past the end
}

func newBoolDecoder(b []byte) *boolDecoder {
	d := &boolDecoder{data: b, rng: 255}
	d.value = uint32(d.next())<<8 | uint32(d.next())
	return d
}

func (d *boolDecoder) next() byte {
	if len(d.data) == 0 {
		d.short = true
		return 0
	}
	c := d.data[0]
	d.data = d.data[1:]
	return c
}

// bool reads one bool of probability prob/256 of being 0.
func (d *boolDecoder) bool(prob uint32) uint32 {
	split := 1 + ((d.rng-1)*prob)>>8
	bigSplit := split << 8
	var ret uint32
	if d.value >= bigSplit {
		ret = 1
		d.rng -= split
		d.value -= bigSplit
	} else {
		d.rng = split
	}
	for d.rng < 128 {
		d.value <<= 1
		d.rng <<= 1
		d.bitCount++
		if d.bitCount == 8 {
			d.bitCount = 0
			d.value |= uint32(d.next())
		}
	}
	return ret
}

// lit reads an n-bit literal, most significant bit first.
func (d *boolDecoder) lit(n int) uint32 {
	var v uint32
	for range n {
		v = v<<1 | d.bool(128)
	}
	return v
}

// flagged reads a flag and, when it is set, an n-bit literal. It returns
// the flag.
func (d *boolDecoder) flagged(n int) bool {
	if d.lit(1) == 1 {
		d.lit(n)
		return true
	}
	return false
}
