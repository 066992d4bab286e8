package rtpsource

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/codecs/h264"
)

// Crafted streams for the loss rule: each frame is a letter,
//
//	K  key frame
//	R  reference frame
//	n  discardable frame (VP8: refreshes and keeps nothing; VP9:
//	   refresh_frame_flags 0; H.264: nal_ref_idc 0)
//
// with modifiers after it: N (VP8: N bit set), L (VP8: changes the loop
// filter deltas), A (VP8: sets all 8 loop filter deltas), E (VP9: not in
// error-resilient mode), 1 (one packet instead of three), Y (VP8 with
// temporal layers: layer sync), U (VP8 with temporal layers: TID 1), P
// (VP8: keeps its probability updates). With temporal layers (vp8-tl), n frames are
// of TID 1, the others of TID 0. Every frame ends
// with its index, so that the published frames can be told apart.

// lossFrame is one crafted frame.
type lossFrame struct {
	kind              byte
	nBit, lf, allLF   bool
	notErrorResilient bool
	sync              bool
	upper             bool
	entropy           bool
	packets           int
}

func parseFrames(t *testing.T, s string) []lossFrame {
	t.Helper()
	var out []lossFrame
	for _, w := range strings.Fields(s) {
		f := lossFrame{kind: w[0], packets: 3}
		for _, m := range w[1:] {
			switch m {
			case 'N':
				f.nBit = true
			case 'L':
				f.lf = true
			case 'A':
				f.allLF = true
			case 'E':
				f.notErrorResilient = true
			case '1':
				f.packets = 1
			case 'Y':
				f.sync = true
			case 'P':
				f.entropy = true
			case 'U':
				f.upper = true
			default:
				t.Fatalf("bad frame %q", w)
			}
		}
		out = append(out, f)
	}
	return out
}

// boolEncoder is the boolean entropy encoder of RFC 6386 section 7.3,
// writing literals only: it builds VP8 frame headers for the tests.
type boolEncoder struct {
	out      []byte
	rng      uint32
	bottom   uint32
	bitCount int
}

func newBoolEncoder() *boolEncoder { return &boolEncoder{rng: 255, bitCount: 24} }

func (e *boolEncoder) addOne() {
	for i := len(e.out) - 1; i >= 0; i-- {
		if e.out[i] != 255 {
			e.out[i]++
			return
		}
		e.out[i] = 0
	}
}

func (e *boolEncoder) bool(prob uint32, v bool) {
	split := 1 + ((e.rng-1)*prob)>>8
	if v {
		e.bottom += split
		e.rng -= split
	} else {
		e.rng = split
	}
	for e.rng < 128 {
		e.rng <<= 1
		if e.bottom&(1<<31) != 0 {
			e.addOne()
		}
		e.bottom <<= 1
		e.bitCount--
		if e.bitCount == 0 {
			e.out = append(e.out, byte(e.bottom>>24))
			e.bottom &= (1 << 24) - 1
			e.bitCount = 8
		}
	}
}

func (e *boolEncoder) lit(n int, v uint32) {
	for i := n - 1; i >= 0; i-- {
		e.bool(128, v>>i&1 == 1)
	}
}

func (e *boolEncoder) flush() []byte {
	for range 32 {
		e.bool(128, false)
	}
	return e.out
}

// vp8Frame builds a VP8 frame: a key frame, or an inter frame whose header
// refreshes the last frame (R) or nothing (n).
func vp8Frame(f lossFrame, idx int) []byte {
	if f.kind == 'K' {
		return []byte{0x50, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x00, 0x30, 0x00, 0, 0, 0, 0, 0, 0, byte(idx)}
	}
	e := newBoolEncoder()
	e.lit(1, 0)          // segmentation_enabled
	e.lit(1+6+3, 0)      // filter_type, loop_filter_level, sharpness_level
	if f.lf || f.allLF { // loop_filter_adj_enable, mode_ref_lf_delta_update
		e.lit(2, 3)
		for i := range 8 {
			if f.allLF || i == 0 {
				e.lit(1+6+1, 1<<7|5<<1)
			} else {
				e.lit(1, 0)
			}
		}
	} else {
		e.lit(1, 0)
	}
	e.lit(2, 0)  // log2_nbr_of_dct_partitions
	e.lit(7, 40) // y_ac_qi
	e.lit(5, 0)  // no quantizer deltas
	e.lit(2, 0)  // refresh_golden_frame, refresh_alternate_frame
	e.lit(4, 0)  // copy_buffer_to_golden, copy_buffer_to_alternate
	e.lit(2, 0)  // sign biases
	if f.entropy {
		e.lit(1, 1) // refresh_entropy_probs
	} else {
		e.lit(1, 0)
	}
	if f.kind == 'R' {
		e.lit(1, 1) // refresh_last
	} else {
		e.lit(1, 0)
	}
	part := e.flush()
	tag := uint32(1) | 1<<4 | uint32(len(part))<<5 // inter frame, shown
	out := []byte{byte(tag), byte(tag >> 8), byte(tag >> 16)}
	out = append(out, part...)
	// The rest of the frame (macroblock data): the first of three
	// packets holds the whole header.
	return append(append(out, make([]byte, 120)...), byte(idx))
}

// bitWriter writes the bits of a VP9 header or H.264 parameter set.
type bitWriter struct {
	b []byte
	n int
}

func (w *bitWriter) bits(n int, v uint32) {
	for i := n - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.b = append(w.b, 0)
		}
		if v>>i&1 == 1 {
			w.b[len(w.b)-1] |= 0x80 >> (w.n % 8)
		}
		w.n++
	}
}

func (w *bitWriter) ue(v uint32) {
	v++
	n := 0
	for x := v; x > 1; x >>= 1 {
		n++
	}
	w.bits(n, 0)
	w.bits(n+1, v)
}

// vp9Frame builds a VP9 frame (profile 0): a key frame, or an inter frame
// storing itself in slot 0 (R) or nowhere (n), in error-resilient mode
// unless E.
func vp9Frame(f lossFrame, idx int) []byte {
	var w bitWriter
	w.bits(2, 2) // frame_marker
	w.bits(2, 0) // profile 0
	w.bits(1, 0) // show_existing_frame
	if f.kind == 'K' {
		w.bits(3, 0b011) // key frame, shown, error resilient
		w.bits(24, 0x498342)
		w.bits(4, 0) // color_space, color_range
		w.bits(32, 63<<16|47)
		w.bits(1, 0) // render_and_frame_size_different
	} else {
		w.bits(2, 0b11) // inter frame, shown
		if f.notErrorResilient {
			w.bits(1, 0)
			w.bits(2, 0) // reset_frame_context
		} else {
			w.bits(1, 1)
		}
		if f.kind == 'R' {
			w.bits(8, 1)
		} else {
			w.bits(8, 0)
		}
	}
	return append(w.b, 0, 0, 0, 0, byte(idx))
}

// h264 parameter sets: baseline, 320x240, log2_max_frame_num 4, POC type 2.
func h264SPS() []byte {
	w := bitWriter{b: []byte{0x67, 66, 0xc0, 30}, n: 32}
	w.ue(0) // seq_parameter_set_id
	w.ue(0) // log2_max_frame_num_minus4
	w.ue(2) // pic_order_cnt_type
	w.ue(1) // max_num_ref_frames
	w.bits(1, 0)
	w.ue(19)     // pic_width_in_mbs_minus1
	w.ue(14)     // pic_height_in_map_units_minus1
	w.bits(1, 1) // frame_mbs_only_flag
	w.bits(1, 1) // direct_8x8_inference_flag
	w.bits(2, 0) // frame_cropping_flag, vui_parameters_present_flag
	w.bits(1, 1) // rbsp_stop_one_bit
	return w.b
}

// h264Slice builds one coded slice of frame_num fn.
func h264Slice(f lossFrame, idx int, fn uint32) []byte {
	hdr := byte(0x41) // nal_ref_idc 2, non-IDR
	switch f.kind {
	case 'K':
		hdr = 0x65
	case 'n':
		hdr = 0x01
	}
	w := bitWriter{b: []byte{hdr}, n: 8}
	w.ue(0) // first_mb_in_slice
	w.ue(5) // slice_type P (all slices)
	w.ue(0) // pic_parameter_set_id
	w.bits(4, fn)
	w.bits(4, 0xf)
	return append(w.b, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, byte(idx))
}

// craftPackets packetizes frames for codec (vp8, vp8-nopid, vp9, h264):
// every frame in f.packets packets.
func craftPackets(t *testing.T, codec string, frames []lossFrame) [][]*rtp.Packet {
	t.Helper()
	var out [][]*rtp.Packet
	seq := uint16(65500) // wraps
	prevRef := uint32(0)
	tl0 := uint8(254)
	for i, f := range frames {
		if f.kind != 'n' && !f.upper {
			tl0++
		}
		ts := uint32(4000000000 + 3000*i) // wraps
		var payloads [][]byte
		split := func(data []byte, n int) [][]byte {
			var chunks [][]byte
			size := (len(data) + n - 1) / n
			for len(data) > 0 {
				c := data[:min(size, len(data))]
				data = data[len(c):]
				chunks = append(chunks, c)
			}
			if len(chunks) != n {
				t.Fatalf("frame %d: %d chunks, want %d", i, len(chunks), n)
			}
			return chunks
		}
		switch codec {
		case "vp8", "vp8-nopid", "vp8-tl":
			for j, c := range split(vp8Frame(f, i), f.packets) {
				d := []byte{0x80}
				if j == 0 {
					d[0] |= 0x10 // S
				}
				if f.nBit {
					d[0] |= 0x20
				}
				switch codec {
				case "vp8":
					pid := uint16(30000 + i) // 15 bits
					d = append(d, 0x80, 0x80|byte(pid>>8), byte(pid))
				case "vp8-tl": // I, L, T: picture ID, TL0PICIDX, TID|Y
					pid := uint16(30000 + i)
					tidY := byte(0)
					if f.kind == 'n' || f.upper {
						tidY = 1 << 6
					}
					if f.sync {
						tidY |= 0x20
					}
					d = append(d, 0xe0, 0x80|byte(pid>>8), byte(pid), tl0, tidY)
				default:
					d[0] &^= 0x80
				}
				payloads = append(payloads, append(d, c...))
			}
		case "vp9":
			for j, c := range split(vp9Frame(f, i), f.packets) {
				pid := uint16(32700 + i) // wraps at 2^15
				d := []byte{0x80, 0x80 | byte(pid>>8&0x7f), byte(pid)}
				if f.kind != 'K' {
					d[0] |= 0x40 // P
				}
				if j == 0 {
					d[0] |= 0x08 // B
				}
				if j == f.packets-1 {
					d[0] |= 0x04 // E
				}
				payloads = append(payloads, append(d, c...))
			}
		case "h264":
			fn := prevRef + 1
			if f.kind == 'K' {
				fn = 0
				payloads = append(payloads, h264SPS(), []byte{0x68, 0xce, 0x38, 0x80})
			}
			if f.kind != 'n' {
				prevRef = fn
			}
			slice := h264Slice(f, i, fn%16)
			if f.packets == 1 {
				payloads = append(payloads, slice)
				break
			}
			for j, c := range split(slice[1:], f.packets) {
				fu := []byte{slice[0]&0xe0 | 28, slice[0] & 0x1f}
				if j == 0 {
					fu[1] |= 0x80
				}
				if j == f.packets-1 {
					fu[1] |= 0x40
				}
				payloads = append(payloads, append(fu, c...))
			}
		}
		var pkts []*rtp.Packet
		for j, p := range payloads {
			pkts = append(pkts, &rtp.Packet{Header: rtp.Header{
				Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts,
				SSRC: 0xabc, Marker: j == len(payloads)-1,
			}, Payload: p})
			seq++
		}
		out = append(out, pkts)
	}
	return out
}

// TestLossRule feeds crafted streams that lose chosen packets and checks
// which frames the track publishes.
func TestLossRule(t *testing.T) {
	const whole = -1
	tests := []struct {
		name, codec, frames string
		lose                map[int][]int // frame -> packet indices lost (whole: all)
		want                string        // published frames
		nonRef              int           // Stats.NonReferenceLost
	}{
		// VP8.
		{"vp8/none lost", "vp8", "K R n R n R", nil, "0 1 2 3 4 5", 0},
		{"vp8/discardable, second packet", "vp8", "K R n R n R", map[int][]int{2: {1}}, "0 1 3 4 5", 1},
		{"vp8/discardable, last packet", "vp8", "K R n R n R", map[int][]int{2: {2}}, "0 1 3 4 5", 1},
		{"vp8/two discardable in a row", "vp8", "K R n n R", map[int][]int{2: {1}, 3: {2}}, "0 1 4", 2},
		{"vp8/discardable, all but the first", "vp8", "K R n R", map[int][]int{2: {1, 2}}, "0 1 3", 1},
		{"vp8/reference, second packet", "vp8", "K R n R n K R", map[int][]int{1: {1}}, "0 5 6", 0},
		{"vp8/discardable, head: no N bit", "vp8", "K R n R K", map[int][]int{2: {0}}, "0 1 4", 0},
		// N bit, no N frame seen whole yet: its loop filter deltas are
		// unknown, and the next frame does not set them all.
		{"vp8/discardable, head: N bit", "vp8", "K R nN R K", map[int][]int{2: {0}}, "0 1 4", 0},
		{"vp8/discardable, head: N bit, N frames seen", "vp8", "K R nN R nN R K", map[int][]int{4: {0}}, "0 1 2 3 5 6", 1},
		{"vp8/discardable, head: N bit, N frames seen with deltas", "vp8", "K R nNL R nN R K", map[int][]int{4: {0}}, "0 1 2 3 6", 0},
		{"vp8/discardable, whole: N bit", "vp8", "K R nN R K", map[int][]int{2: {whole}}, "0 1 4", 0},
		{"vp8/N bit on a reference frame seen whole: N not trusted", "vp8", "K RN nN R K", map[int][]int{2: {0}}, "0 1 4", 0},
		{"vp8/reference with N bit, second packet: its header tells", "vp8", "K R RN R K", map[int][]int{2: {1}}, "0 1 4", 0},
		{"vp8/loop filter deltas, next sets some", "vp8", "K R nL RL K", map[int][]int{2: {1}}, "0 1 4", 0},
		{"vp8/loop filter deltas, next sets all", "vp8", "K R nL RA K", map[int][]int{2: {1}}, "0 1 3 4", 1},
		{"vp8/loop filter deltas unknown (N bit only), next sets all", "vp8", "K R nN RA K", map[int][]int{2: {0}}, "0 1 3 4", 1},
		{"vp8/the key frame, second packet", "vp8", "K R n K R", map[int][]int{0: {1}}, "3 4", 0},
		{"vp8 no picture ID/discardable, second packet", "vp8-nopid", "K R n R", map[int][]int{2: {1}}, "0 1 3", 1},
		{"vp8 no picture ID/discardable whole", "vp8-nopid", "K R nN R K", map[int][]int{2: {whole}}, "0 1 4", 0},
		{"vp8 no picture ID/discardable tail and the next head", "vp8-nopid", "K R nN nN R K", map[int][]int{2: {2}, 3: {0}}, "0 1 5", 0},
		{"vp8 no picture ID/discardable tail, one-packet frame after", "vp8-nopid", "K R n n1 R K", map[int][]int{2: {2}, 3: {whole}}, "0 1 5", 0},
		// VP8 with temporal layers: a TID 1 frame lost whole costs the TID 1
		// frames up to a layer sync, once TID 1 frames seen whole showed
		// they are discardable.
		{"vp8 layers/TID 1 lost whole, none seen before", "vp8-tl", "K R n R n R K", map[int][]int{2: {whole}}, "0 1 6", 0},
		{"vp8 layers/TID 1 lost whole", "vp8-tl", "K R n R n R n R K", map[int][]int{4: {whole}}, "0 1 2 3 5 7 8", 1},
		{"vp8 layers/TID 1 lost whole, then a sync", "vp8-tl", "K R n R n R nY R n R K", map[int][]int{4: {whole}}, "0 1 2 3 5 6 7 8 9 10", 1},
		{"vp8 layers/TID 0 lost whole", "vp8-tl", "K R n R n R n K", map[int][]int{3: {whole}}, "0 1 2 7", 0},
		{"vp8 layers/TID 0 and TID 1 lost whole", "vp8-tl", "K R n R n R n R K", map[int][]int{4: {whole}, 5: {whole}}, "0 1 2 3 8", 0},
		{"vp8 layers/TID 1 keeping a probability update seen", "vp8-tl", "K R nP R n R K", map[int][]int{4: {whole}}, "0 1 2 3 6", 0},
		// A sender that calls a frame refreshing the last frame TID 1.
		{"vp8 layers/TID 1 reference frame seen", "vp8-tl", "K R RU R n R K", map[int][]int{4: {whole}}, "0 1 2 3 6", 0},
		// VP9.
		{"vp9/discardable, second packet", "vp9", "K R n R n R", map[int][]int{2: {1}, 4: {2}}, "0 1 3 5", 2},
		{"vp9/discardable, next not error resilient", "vp9", "K R n RE K", map[int][]int{2: {1}}, "0 1 4", 0},
		{"vp9/reference, second packet", "vp9", "K R R R K", map[int][]int{2: {1}}, "0 1 4", 0},
		{"vp9/discardable, head", "vp9", "K R n R K", map[int][]int{2: {0}}, "0 1 4", 0},
		{"vp9/discardable, whole", "vp9", "K R n R K", map[int][]int{2: {whole}}, "0 1 4", 0},
		// H.264: nal_ref_idc and frame_num.
		{"h264/non-reference, second packet", "h264", "K R n n R n n R", map[int][]int{2: {1}, 6: {2}}, "0 1 3 4 5 7", 2},
		{"h264/non-reference, head", "h264", "K R n n R", map[int][]int{3: {0}}, "0 1 2 4", 1},
		{"h264/non-reference, whole", "h264", "K R n n R n R", map[int][]int{2: {whole}, 3: {whole}, 5: {whole}}, "0 1 4 6", 2},
		{"h264/non-reference one-packet frames, whole", "h264", "K R n1 n1 R", map[int][]int{2: {whole}}, "0 1 3 4", 1},
		{"h264/reference, whole", "h264", "K R n R n K n", map[int][]int{3: {whole}}, "0 1 2 5 6", 0},
		{"h264/reference, second packet", "h264", "K R n R n K", map[int][]int{1: {1}}, "0 5", 0},
		{"h264/reference and non-reference, whole", "h264", "K R n R n K", map[int][]int{2: {whole}, 3: {whole}}, "0 1 5", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frames := parseFrames(t, tc.frames)
			mime := map[string]string{"vp8": "video/VP8", "vp8-nopid": "video/VP8", "vp8-tl": "video/VP8", "vp9": "video/VP9", "h264": "video/H264"}[tc.codec]
			tr, err := NewTrack(mediarecorder.Codec{MimeType: mime, ClockRate: 90000}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var s sink
			tr.Subscribe(&s)
			base := time.Now()
			for i, pkts := range craftPackets(t, tc.codec, frames) {
				for j, p := range pkts {
					if l, ok := tc.lose[i]; ok && (slices.Contains(l, j) || slices.Contains(l, whole)) {
						continue
					}
					if err := tr.WritePacket(p, base.Add(time.Duration(i)*40*time.Millisecond)); err != nil {
						t.Fatal(err)
					}
				}
			}
			tr.Stop()
			var got []string
			for _, smp := range s.get() {
				got = append(got, fmt.Sprint(smp.Data[len(smp.Data)-1]))
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("published frames %q, want %q; stats %+v", g, tc.want, tr.Stats())
			}
			if st := tr.Stats(); st.NonReferenceLost != tc.nonRef {
				t.Errorf("NonReferenceLost %d, want %d", st.NonReferenceLost, tc.nonRef)
			}
		})
	}
}

// TestLossRuleCraftedHeaders checks the crafted frames themselves with
// the codec packages.
func TestLossRuleCraftedHeaders(t *testing.T) {
	if sps, err := h264.ParseSPS(h264SPS()); err != nil || sps.Log2MaxFrameNum != 4 || sps.Width != 320 || sps.Height != 240 {
		t.Errorf("SPS: %+v, %v", sps, err)
	}
}

// TestLossDecide: what a pending loss costs the next complete frame, by
// the state the loss left (no media needed: H.264 frame_num chains and
// VP8 picture IDs).
func TestLossDecide(t *testing.T) {
	sps := h264.SPS{Log2MaxFrameNum: 4}
	h264Loss := func(status refStatus) lossState {
		l := newLossState(codecH264)
		l.sps, l.spsOK, l.prevRef = sps, true, 15
		l.hole(false)
		l.lost = append(l.lost, lostFrame{ts: 1, id: -1, status: status})
		return l
	}
	vp8Loss := func(ids ...int32) lossState {
		l := newLossState(codecVP8)
		l.picID, l.picBits = 126, 7
		l.hole(true)
		for _, id := range ids {
			l.lost = append(l.lost, lostFrame{ts: int64(id), id: id, status: refNone})
		}
		return l
	}
	for _, tc := range []struct {
		name      string
		l         lossState
		f         frameFacts
		key, wait bool // the frame is a key frame; the track waits for one
		nonRef    int
		wantWait  bool
	}{
		{"nothing lost", newLossState(codecH264), frameFacts{picID: -1, refIdc: 1, frameNum: 0}, false, false, 0, false},
		{"H.264: a non-reference picture lost, frame_num follows", h264Loss(refNone), frameFacts{picID: -1, refIdc: 1, frameNum: 0}, false, false, 1, false},
		{"H.264: frame_num skips one", h264Loss(refNone), frameFacts{picID: -1, refIdc: 1, frameNum: 1}, false, false, 0, true},
		{"H.264: a reference picture lost", h264Loss(refUsed), frameFacts{picID: -1, refIdc: 1, frameNum: 0}, false, false, 0, true},
		{"H.264: unknown", h264Loss(refUnknown), frameFacts{picID: -1, refIdc: 1, frameNum: 0}, false, false, 0, true},
		{"a key frame settles it", h264Loss(refUsed), frameFacts{picID: -1, refIdc: 3, frameNum: 0}, true, false, 0, false},
		{"waiting already", h264Loss(refUsed), frameFacts{picID: -1, refIdc: 1, frameNum: 0}, false, true, 0, false},
		{"VP8: the discardable frames between the picture IDs, over the wrap", vp8Loss(127, 0), frameFacts{picID: 1, picBits: 7, tid: 0}, false, false, 2, false},
		{"VP8: a picture ID not accounted for", vp8Loss(127), frameFacts{picID: 1, picBits: 7}, false, false, 0, true},
		{"VP8: the same picture ID twice", vp8Loss(127, 127), frameFacts{picID: 1, picBits: 7}, false, false, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.l
			nonRef, wait, drop := l.decide(&tc.f, nil, tc.key, tc.wait)
			if nonRef != tc.nonRef || wait != tc.wantWait || drop {
				t.Errorf("decide = %d, %v, %v; want %d, %v, false", nonRef, wait, drop, tc.nonRef, tc.wantWait)
			}
			if l.pending || len(l.lost) != 0 {
				t.Error("the loss is still pending")
			}
		})
	}
	for _, ck := range []codecKind{codecOpus, codecAV1} {
		l := newLossState(ck)
		if l.hole(true) || l.pending {
			t.Errorf("codec %d: the loss is analysed", ck)
		}
	}
}
