package h264

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// presentationOrder returns the decoding-order indexes of pictures in
// output order: sorted by order count within each stretch that a reset
// (IDR, MMCO 5) starts, as the bumping process of H.264 C.4.5.3 outputs a
// conforming stream.
func presentationOrder(orders []PictureOrder) []int {
	var out, period []int
	flush := func() {
		slices.SortStableFunc(period, func(a, b int) int {
			return int(orders[a].POC - orders[b].POC)
		})
		out = append(out, period...)
		period = period[:0]
	}
	for i, o := range orders {
		if o.Reset {
			flush()
		}
		period = append(period, i)
	}
	flush()
	return out
}

// TestPictureOrderFFmpeg encodes streams with libx264 (B-frames, B-pyramids,
// interlacing, CAVLC, slices, open GOPs, no B-frames) and checks that the
// order counts put the access units in the order ffmpeg's decoder outputs
// them (ffprobe's frame pkt_pos against its packet pos).
func TestPictureOrderFFmpeg(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ffmpeg")
	}
	for _, tt := range []struct {
		name    string
		args    []string
		pocType uint8
		reorder int  // MaxReorderFrames
		type1   bool // rewritten to pic_order_cnt_type 1 (mediatest.H264POCType1)
	}{
		{"bf2-pyramid", []string{"-bf", "2", "-g", "30", "-x264-params", "b-pyramid=normal"}, 0, 2, false},
		{"bf3-strict-pyramid-mmco", []string{"-bf", "3", "-g", "25", "-x264-params", "b-pyramid=strict:b-adapt=2"}, 0, 2, false},
		{"bf1-no-pyramid", []string{"-bf", "1", "-g", "10", "-x264-params", "b-pyramid=none"}, 0, 1, false},
		{"bf0", []string{"-bf", "0", "-g", "10"}, 2, 0, false},
		{"baseline", []string{"-profile:v", "baseline", "-g", "10"}, 2, 0, false},
		{"interlaced-bf2", []string{"-flags", "+ildct+ilme", "-bf", "2", "-g", "12"}, 0, 2, false},
		{"cavlc-slices-aud-weightp", []string{"-coder", "0", "-bf", "2", "-x264-params", "slices=3:aud=1:weightp=2:ref=4"}, 0, 2, false},
		{"open-gop", []string{"-bf", "3", "-g", "8", "-x264-params", "open-gop=1:b-pyramid=normal"}, 0, 2, false},
		{"poc-type-1-pyramid", []string{"-coder", "0", "-bf", "3", "-g", "20", "-x264-params", "b-pyramid=normal"}, 1, 2, true},
		{"poc-type-1", []string{"-coder", "0", "-bf", "2", "-g", "30", "-x264-params", "b-pyramid=none"}, 1, 1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := []string{"-f", "lavfi", "-i", "testsrc2=size=192x108:rate=25", "-frames:v", "50",
				"-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "veryfast"}
			args = append(append(args, tt.args...), "-f", "h264", "in.h264")
			path := mediatest.FFmpeg(t, dir, args...)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if tt.type1 {
				orig := path
				if data, err = mediatest.H264POCType1(data); err != nil {
					t.Fatal(err)
				}
				path = filepath.Join(dir, "type1.h264")
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				// The same pictures, in the same order.
				if a, b := mediatest.FrameMD5(t, orig), mediatest.FrameMD5(t, path); !slices.Equal(a, b) || len(a) != 50 {
					t.Fatalf("framemd5 of the rewritten stream differs:\n%v\n%v", a, b)
				}
			}
			pos := mediatest.FFprobeLines(t, path, "-show_entries", "packet=pos", "-of", "csv=p=0")
			framePos := mediatest.FFprobeLines(t, path, "-show_entries", "frame=pkt_pos", "-of", "csv=p=0")
			index := map[string]int{}
			for i, p := range pos {
				index[strings.TrimSpace(p)] = i
			}
			var want []int
			for _, p := range framePos {
				p, _, _ = strings.Cut(p, ",")
				if p = strings.TrimSpace(p); p == "" {
					continue // a side data line
				}
				i, ok := index[p]
				if !ok {
					t.Fatalf("frame pkt_pos %s is no packet's", p)
				}
				want = append(want, i)
			}

			r := NewAccessUnitReader(bytes.NewReader(data))
			var c PictureOrderCounter
			var orders []PictureOrder
			for {
				au, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				o, err := c.Next(au)
				if err != nil {
					t.Fatalf("AU %d: %v", len(orders), err)
				}
				orders = append(orders, o)
			}
			if len(orders) != len(pos) {
				t.Fatalf("%d access units, ffprobe %d packets", len(orders), len(pos))
			}
			if got := presentationOrder(orders); !slices.Equal(got, want) {
				t.Errorf("presentation order\n got %v\nwant %v (ffmpeg)", got, want)
			}
			if s := c.SPS(); s.PicOrderCntType != tt.pocType || s.MaxReorderFrames() != tt.reorder {
				t.Errorf("pic_order_cnt_type %d, MaxReorderFrames %d; want %d, %d", s.PicOrderCntType, s.MaxReorderFrames(), tt.pocType, tt.reorder)
			}
			// No stream reorders more than its SPS says.
			if d := reorderDepth(presentationOrder(orders)); d > c.SPS().MaxReorderFrames() {
				t.Errorf("reorder depth %d > MaxReorderFrames %d", d, c.SPS().MaxReorderFrames())
			}
			t.Logf("POCs: %v", pocs(orders))
		})
	}
}

// reorderDepth returns the largest number of pictures that precede a
// picture in decoding order and follow it in output order.
func reorderDepth(order []int) int {
	d := 0
	for k, i := range order {
		later := 0
		for _, j := range order[k+1:] {
			if j < i {
				later++
			}
		}
		d = max(d, later)
	}
	return d
}

func pocs(orders []PictureOrder) string {
	var b strings.Builder
	for _, o := range orders {
		if o.Reset {
			b.WriteString("| ")
		}
		b.WriteString(strconv.FormatInt(o.POC, 10) + " ")
	}
	return b.String()
}
