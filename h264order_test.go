package mediarecorder

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/h264"
)

const frameDur = 10 * time.Millisecond

// orderStep is one frame given to an h264Order (its order count; -1: not
// known) and the frames that must leave after it, as "dts>pts" in frame
// periods.
type orderStep struct {
	poc   int64
	reset bool
	out   string
}

func fmtFrames(fs []orderedFrame) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("%d>%d", f.dts/frameDur, f.pts/frameDur))
	}
	return strings.Join(parts, " ")
}

// TestH264Order checks presentation times from order counts: the k-th
// frame in output order plays at the k-th decode time, frames leave in
// decoding order as soon as their times are known, resets and flushes
// release everything, a stream that reorders more than it says is followed
// as well as it can be, and a frame without an order count plays next.
func TestH264Order(t *testing.T) {
	for _, tt := range []struct {
		name  string
		depth int
		steps []orderStep
		flush string
	}{
		{"no reordering: out at once", 0, []orderStep{
			{0, true, "0>0"}, {2, false, "1>1"}, {4, false, "2>2"}, {0, true, "3>3"}, {2, false, "4>4"},
		}, ""},
		{"B-frames, depth 1", 1, []orderStep{
			{0, true, ""}, {6, false, "0>0"}, {2, false, ""}, {4, false, ""}, {12, false, "1>3 2>1 3>2"},
			{8, false, ""}, {10, false, ""}, {0, true, "4>6 5>4 6>5"},
		}, "7>7"},
		{"B-pyramid, depth 2", 2, []orderStep{
			{0, true, ""}, {8, false, ""}, {4, false, "0>0"}, {2, false, ""}, {6, false, ""},
			{16, false, ""}, {12, false, "1>4 2>2 3>1 4>3"}, {10, false, ""}, {14, false, ""},
		}, "5>8 6>6 7>5 8>7"},
		{"a reset releases everything", 2, []orderStep{
			{0, true, ""}, {6, false, ""}, {2, false, "0>0"}, {0, true, "1>2 2>1"}, {4, false, ""},
		}, "3>3 4>4"},
		{"more reordering than the SPS says: learnt", 0, []orderStep{
			{0, true, "0>0"}, {4, false, "1>1"}, {2, false, ""}, // too late for 2: depth 1 from now on
			{8, false, "2>2"}, {6, false, ""}, {12, false, "3>4 4>3"}, {10, false, ""},
		}, "5>6 6>5"},
		{"unknown order plays next", 1, []orderStep{
			{0, true, ""}, {6, false, "0>0"}, {-1, false, "1>1 2>2"}, {2, false, ""}, {4, false, "3>3"},
		}, "4>4"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := newH264Order(nil, nil)
			for i, s := range tt.steps {
				po := h264.PictureOrder{POC: s.poc, Reset: s.reset}
				data := []byte{byte(i)}
				out := o.pushOrder(time.Duration(i)*frameDur, time.Duration(i)*frameDur, frameDur, s.reset, data, po, s.poc >= 0, tt.depth)
				if got := fmtFrames(out); got != s.out {
					t.Errorf("frame %d (poc %d): out %q, want %q", i, s.poc, got, s.out)
				}
				for _, f := range out {
					if len(f.data) != 1 || f.data[0] != byte(f.dts/frameDur) {
						t.Errorf("frame %d left with data %v", f.dts/frameDur, f.data)
					}
				}
				data[0] = 0xff // the caller reuses its buffer
			}
			if got := fmtFrames(o.flush()); got != tt.flush {
				t.Errorf("flush: %q, want %q", got, tt.flush)
			}
			if got := fmtFrames(o.flush()); got != "" {
				t.Errorf("second flush: %q", got)
			}
		})
	}
}

// TestH264OrderStream runs the order over testdata with B-frames (IDR,
// P, B, b, IDR, P, B, b; the SPS says 2 frames reorder): the order counts
// come from the slice headers and presentation times are the decode times
// in output order.
func TestH264OrderStream(t *testing.T) {
	data, err := os.ReadFile("codecs/h264/testdata/high-636x358.h264")
	if err != nil {
		t.Fatal(err)
	}
	r := h264.NewAccessUnitReader(bytes.NewReader(data))
	o := newH264Order(nil, nil)
	var got []string
	for i := 0; ; i++ {
		au, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if s := fmtFrames(o.push(time.Duration(i)*frameDur, time.Duration(i)*frameDur, frameDur, h264.IsKeyFrame(au), au)); s != "" {
			got = append(got, s)
		}
	}
	if s := fmtFrames(o.flush()); s != "" {
		got = append(got, s)
	}
	want := []string{"0>0", "1>3 2>1 3>2", "4>4", "5>7 6>5 7>6"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("frames %q, want %q", got, want)
	}
}

func BenchmarkH264Order(b *testing.B) {
	o := newH264Order(nil, nil)
	pocs := []int64{0, 8, 4, 2, 6, 16, 12, 10, 14}
	data := make([]byte, 4000)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := pocs[i%len(pocs)]
		if i%len(pocs) == 0 {
			p = 0
		}
		o.pushOrder(time.Duration(i)*frameDur, time.Duration(i)*frameDur, frameDur, false, data, h264.PictureOrder{POC: p, Reset: i%len(pocs) == 0}, true, 2)
	}
}

// FuzzH264Order feeds an h264Order arbitrary order counts (each byte: the
// count in its low 6 bits, a reset in bit 6, unknown when 0xff; the first
// byte the SPS's depth): every frame leaves once, in decoding order, and
// the presentation times are the decode times rearranged.
func FuzzH264Order(f *testing.F) {
	f.Add([]byte{1, 0x40, 6, 2, 4, 12, 8, 10, 0x40})
	f.Add([]byte{0, 0x40, 4, 2, 8, 6, 0xff, 3, 1, 0x40, 0x40})
	f.Add([]byte{2, 0x40, 8, 4, 2, 6, 16, 12, 10, 14})
	f.Add([]byte{1, 0x40, 6, 0x82, 0x84, 12, 0x88, 0x8a, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		o := newH264Order(nil, nil)
		depth := int(b[0] % 20)
		var out []orderedFrame
		var ins []time.Duration
		for i, c := range b[1:] {
			po := h264.PictureOrder{POC: int64(c & 0x3f), Reset: c&0x40 != 0}
			data := []byte{byte(i), byte(i >> 8)}
			in := time.Duration(i)*frameDur - time.Duration(c>>7)*3*frameDur // bit 7: stamped earlier
			ins = append(ins, in)
			for _, f := range o.pushOrder(time.Duration(i)*frameDur, in, frameDur, po.Reset, data, po, c != 0xff, depth) {
				f.data = bytes.Clone(f.data)
				out = append(out, f)
			}
		}
		for _, f := range o.flush() {
			f.data = bytes.Clone(f.data)
			out = append(out, f)
		}
		n := len(b) - 1
		if len(out) != n {
			t.Fatalf("%d frames in, %d out", n, len(out))
		}
		// Presentation times are the decode times rearranged, or, once
		// the source's times went back, the source's times (frames timed
		// before that may have either); decode times never go back.
		slots := map[time.Duration]int{}
		for i := range n {
			slots[time.Duration(i)*frameDur]++
			if o.ptsInput {
				slots[ins[i]]++
			}
		}
		for i, f := range out {
			if f.data[0] != byte(i) || f.data[1] != byte(i>>8) || !o.ptsInput && f.dts != time.Duration(i)*frameDur ||
				i > 0 && f.dts < out[i-1].dts {
				t.Fatalf("frame %d left as %+v", i, f)
			}
			if slots[f.pts] == 0 {
				t.Fatalf("frame %d: pts %v is no free slot", i, f.pts)
			}
			slots[f.pts]--
		}
	})
}

func TestReorderDepth(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    *h264.SPS
		want int
	}{
		{"no SPS", nil, 0},
		{"VUI", &h264.SPS{ProfileIDC: 100, LevelIDC: 30, BitstreamRestriction: true, MaxNumReorderFrames: 2}, 2},
		{"baseline without VUI", &h264.SPS{ProfileIDC: 66, LevelIDC: 30, PicWidthInMbs: 20, PicHeightInMapUnits: 15, FrameMBSOnly: true}, 0},
		{"baseline with VUI", &h264.SPS{ProfileIDC: 66, BitstreamRestriction: true, MaxNumReorderFrames: 1}, 1},
		{"main without VUI", &h264.SPS{ProfileIDC: 77, LevelIDC: 30, PicWidthInMbs: 20, PicHeightInMapUnits: 15, FrameMBSOnly: true}, 16},
		{"type 2", &h264.SPS{ProfileIDC: 100, PicOrderCntType: 2}, 0},
	} {
		if got := reorderDepth(tt.s); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestH264OrderPresentationInput gives an h264Order frames stamped with
// their presentation times (as a Matroska file's blocks are), moved by the
// recorder where they went back: presentation times are the source's, and
// decode times the same in increasing order, as for a source that stamps
// decode times.
func TestH264OrderPresentationInput(t *testing.T) {
	o := newH264Order(nil, nil)
	var got []string
	//            I0 P3  B1 B2  P6  B4  B5
	pocs := []int64{0, 6, 2, 4, 12, 8, 10}
	in := []int{0, 3, 1, 2, 6, 4, 5}
	moved := []int{0, 3, 4, 5, 6, 7, 8} // each after the one before
	for i := range pocs {
		po := h264.PictureOrder{POC: pocs[i], Reset: i == 0}
		out := o.pushOrder(time.Duration(moved[i])*frameDur, time.Duration(in[i])*frameDur, frameDur, i == 0, []byte{byte(i)}, po, true, 1)
		if s := fmtFrames(out); s != "" {
			got = append(got, s)
		}
	}
	got = append(got, fmtFrames(o.flush()))
	want := []string{"0>0", "1>3 2>1 3>2", "4>6 5>4 6>5"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("frames %q, want %q", got, want)
	}
}
