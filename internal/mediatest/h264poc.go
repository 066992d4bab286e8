package mediatest

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/gomediarecorder/mediarecorder/internal/bits"
)

// H264POCType1 rewrites an H.264 Annex B stream whose pictures carry
// pic_order_cnt_type 0 into the same pictures with pic_order_cnt_type 1,
// which no encoder at hand writes: the SPS gets a cycle of two
// offset_for_ref_frame values (4 and 2) and an offset_for_non_ref_pic of
// -3, and each slice header a delta_pic_order_cnt[0] that gives its
// picture the order count it had. The slice data is copied bit for bit,
// so a decoder shows the same pictures in the same order.
//
// The input must be coded with CAVLC (x264 -coder 0: slice data follows
// the header without alignment), in frames (frame_mbs_only_flag 1),
// without scaling matrices in the SPS and without MMCO 5 (x264 writes
// none).
func H264POCType1(in []byte) ([]byte, error) {
	r := pocRewriter{sps: map[uint32]*pocSPS{}, pps: map[uint32]uint32{}}
	var out []byte
	for _, nalu := range splitAnnexB(in) {
		var err error
		switch nalu[0] & 0x1f {
		case 7:
			nalu, err = r.rewriteSPS(nalu)
		case 8:
			err = r.readPPS(nalu)
		case 1, 5:
			nalu, err = r.rewriteSlice(nalu)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, 0, 0, 0, 1)
		out = append(out, nalu...)
	}
	return out, nil
}

// The type 1 parameters H264POCType1 writes.
var (
	pocOffsetsForRefFrame = []int64{4, 2}
	pocOffsetForNonRefPic = int64(-3)
)

type pocSPS struct{ log2MaxFrameNum, log2MaxLsb int }

type pocRewriter struct {
	sps map[uint32]*pocSPS
	pps map[uint32]uint32 // PPS id -> SPS id

	// Type 0 decoding (of the input).
	prevMsb, prevLsb int64
	// Type 1 (of the output).
	prevFrameNum, prevFrameNumOffset int64
	// The delta of the current picture, for its later slices.
	delta int64
}

// splitAnnexB returns the NAL units of an Annex B stream.
func splitAnnexB(b []byte) [][]byte {
	var out [][]byte
	for {
		i := bytes.Index(b, []byte{0, 0, 1})
		if i < 0 {
			return out
		}
		b = b[i+3:]
		end := bytes.Index(b, []byte{0, 0, 1})
		if end < 0 {
			end = len(b)
		}
		n := bytes.TrimRight(b[:end], "\x00")
		if len(n) > 0 {
			out = append(out, n)
		}
		b = b[end:]
	}
}

// rbsp returns the payload of nalu without emulation prevention bytes, and
// the number of its bits before the rbsp_stop_one_bit.
func rbsp(nalu []byte) ([]byte, int, error) {
	var p []byte
	zeros := 0
	for _, c := range nalu[1:] {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		p = append(p, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0 {
			tz := 0
			for p[i]>>tz&1 == 0 {
				tz++
			}
			return p, i*8 + 7 - tz, nil
		}
	}
	return nil, 0, errors.New("mediatest: NAL unit without rbsp stop bit")
}

// bitWriter writes a bit string.
type bitWriter struct {
	b []byte
	n int // bits written
}

func (w *bitWriter) bits(v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte(v>>i&1) << (7 - w.n%8)
		w.n++
	}
}

func (w *bitWriter) ue(v uint64) {
	x := v + 1
	n := 0
	for x>>n > 1 {
		n++
	}
	w.bits(0, n)
	w.bits(x, n+1)
}

func (w *bitWriter) se(v int64) {
	if v > 0 {
		w.ue(uint64(2*v - 1))
	} else {
		w.ue(uint64(-2 * v))
	}
}

// copyBits copies bits [from, to) of p.
func (w *bitWriter) copyBits(p []byte, from, to int) {
	for i := from; i < to; i++ {
		w.bits(uint64(p[i/8]>>(7-i%8)&1), 1)
	}
}

// nalu ends the RBSP (stop bit, alignment) and returns it as a NAL unit
// with header byte h and emulation prevention bytes.
func (w *bitWriter) nalu(h byte) []byte {
	w.bits(1, 1)
	for w.n%8 != 0 {
		w.bits(0, 1)
	}
	out := []byte{h}
	zeros := 0
	for _, c := range w.b {
		if zeros >= 2 && c <= 3 {
			out = append(out, 3)
			zeros = 0
		}
		out = append(out, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

func (r *pocRewriter) rewriteSPS(nalu []byte) ([]byte, error) {
	p, end, err := rbsp(nalu)
	if err != nil {
		return nil, err
	}
	b := bits.NewReader(p)
	var w bitWriter
	profile := b.ReadBits(8)
	b.ReadBits(16) // constraint flags, level_idc
	id := b.UE()
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		if b.UE() == 3 { // chroma_format_idc
			b.ReadBits(1)
		}
		b.UE()
		b.UE()
		b.ReadBits(1)
		if b.Flag() {
			return nil, errors.New("mediatest: H264POCType1: SPS with scaling matrices")
		}
	}
	s := &pocSPS{log2MaxFrameNum: int(b.UE()) + 4}
	w.copyBits(p, 0, b.Offset())
	if b.UE() != 0 {
		return nil, errors.New("mediatest: H264POCType1: pic_order_cnt_type is not 0")
	}
	s.log2MaxLsb = int(b.UE()) + 4
	w.ue(1)      // pic_order_cnt_type
	w.bits(0, 1) // delta_pic_order_always_zero_flag
	w.se(pocOffsetForNonRefPic)
	w.se(0) // offset_for_top_to_bottom_field
	w.ue(uint64(len(pocOffsetsForRefFrame)))
	for _, o := range pocOffsetsForRefFrame {
		w.se(o)
	}
	rest := b.Offset()
	b.UE()                           // max_num_ref_frames
	b.ReadBits(1)                    // gaps_in_frame_num_value_allowed_flag
	b.UE()                           // pic_width_in_mbs_minus1
	b.UE()                           // pic_height_in_map_units_minus1
	if !b.Flag() || b.Err() != nil { // frame_mbs_only_flag
		return nil, errors.New("mediatest: H264POCType1: field coding or short SPS")
	}
	w.copyBits(p, rest, end)
	r.sps[id] = s
	return w.nalu(nalu[0]), nil
}

func (r *pocRewriter) readPPS(nalu []byte) error {
	p, _, err := rbsp(nalu)
	if err != nil {
		return err
	}
	b := bits.NewReader(p)
	id, sps := b.UE(), b.UE()
	cabac, bottom := b.Flag(), b.Flag()
	if b.Err() != nil || cabac || bottom {
		return errors.New("mediatest: H264POCType1: CABAC, bottom field order in frame, or a short PPS")
	}
	r.pps[id] = sps
	return nil
}

func (r *pocRewriter) rewriteSlice(nalu []byte) ([]byte, error) {
	p, end, err := rbsp(nalu)
	if err != nil {
		return nil, err
	}
	b := bits.NewReader(p)
	firstMB := b.UE()
	b.UE() // slice_type
	ppsID := b.UE()
	spsID, ok := r.pps[ppsID]
	s := r.sps[spsID]
	if !ok || s == nil {
		return nil, fmt.Errorf("mediatest: H264POCType1: slice with unknown PPS %d", ppsID)
	}
	idr := nalu[0]&0x1f == 5
	ref := nalu[0]>>5&3 != 0
	frameNum := int64(b.ReadBits(s.log2MaxFrameNum))
	if idr {
		b.UE() // idr_pic_id
	}
	var w bitWriter
	w.copyBits(p, 0, b.Offset())
	lsb := int64(b.ReadBits(s.log2MaxLsb))
	if b.Err() != nil {
		return nil, errors.New("mediatest: H264POCType1: short slice header")
	}
	if firstMB == 0 {
		r.delta = r.newPicture(s, idr, ref, frameNum, lsb)
	}
	w.se(r.delta) // delta_pic_order_cnt[0]
	w.copyBits(p, b.Offset(), end)
	return w.nalu(nalu[0]), nil
}

// newPicture returns the delta_pic_order_cnt[0] that gives a picture the
// order count its type 0 fields give it (H.264 8.2.1.1 and 8.2.1.2).
func (r *pocRewriter) newPicture(s *pocSPS, idr, ref bool, frameNum, lsb int64) int64 {
	if idr {
		r.prevMsb, r.prevLsb = 0, 0
	}
	maxLsb := int64(1) << s.log2MaxLsb
	msb := r.prevMsb
	if lsb < r.prevLsb && r.prevLsb-lsb >= maxLsb/2 {
		msb += maxLsb
	} else if lsb > r.prevLsb && lsb-r.prevLsb > maxLsb/2 {
		msb -= maxLsb
	}
	if ref {
		r.prevMsb, r.prevLsb = msb, lsb
	}
	poc := msb + lsb

	var off int64
	if !idr {
		off = r.prevFrameNumOffset
		if r.prevFrameNum > frameNum {
			off += int64(1) << s.log2MaxFrameNum
		}
	}
	r.prevFrameNum, r.prevFrameNumOffset = frameNum, off
	abs := off + frameNum
	if !ref && abs > 0 {
		abs--
	}
	var expected int64
	if abs > 0 {
		n := int64(len(pocOffsetsForRefFrame))
		var cycle int64
		for _, o := range pocOffsetsForRefFrame {
			cycle += o
		}
		expected = (abs - 1) / n * cycle
		for i := int64(0); i <= (abs-1)%n; i++ {
			expected += pocOffsetsForRefFrame[i]
		}
	}
	if !ref {
		expected += pocOffsetForNonRefPic
	}
	return poc - expected
}
