package vp8

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// A key frame's first 10 bytes from testdata/636x358.ivf: tag 70 73 00
// (key frame, version 0, shown, first partition 923 bytes), start code,
// width 0x027c = 636, height 0x0166 = 358.
var keyFrame636 = []byte{0x70, 0x73, 0x00, 0x9d, 0x01, 0x2a, 0x7c, 0x02, 0x66, 0x01}

var frameHeaderTests = []struct {
	name  string
	frame []byte
	want  FrameHeader
	err   error
}{
	{"key 636x358", keyFrame636,
		FrameHeader{KeyFrame: true, ShowFrame: true, FirstPartSize: 923, Width: 636, Height: 358}, nil},
	{"key with data after the header", append(append([]byte{}, keyFrame636...), 1, 2, 3),
		FrameHeader{KeyFrame: true, ShowFrame: true, FirstPartSize: 923, Width: 636, Height: 358}, nil},
	// Width 0xc27c: scale 3, width 636; height 0x4001: scale 1, height 1.
	{"key scaled", []byte{0x70, 0x73, 0x00, 0x9d, 0x01, 0x2a, 0x7c, 0xc2, 0x01, 0x40},
		FrameHeader{KeyFrame: true, ShowFrame: true, FirstPartSize: 923, Width: 636, Height: 1, HorizScale: 3, VertScale: 1}, nil},
	// Tag 0x000231: inter frame, version 0, shown, first partition 0x11.
	{"inter", []byte{0x31, 0x02, 0x00},
		FrameHeader{ShowFrame: true, FirstPartSize: 17}, nil},
	// Tag 0x000007: inter frame, version 3, hidden, first partition 0.
	{"inter hidden version 3", []byte{0x07, 0x00, 0x00, 0xff},
		FrameHeader{Version: 3}, nil},
	{"inter all ones", []byte{0xff, 0xff, 0xff},
		FrameHeader{Version: 7, ShowFrame: true, FirstPartSize: 0x7ffff}, nil},
	{"key version 1 hidden", []byte{0x02, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x10, 0x00, 0x08, 0x00},
		FrameHeader{KeyFrame: true, Version: 1, Width: 16, Height: 8}, nil},
	{"empty", nil, FrameHeader{}, ErrShortFrame},
	{"two bytes", []byte{0x31, 0x02}, FrameHeader{}, ErrShortFrame},
	{"key short", keyFrame636[:9], FrameHeader{}, ErrShortFrame},
	{"key tag only", keyFrame636[:3], FrameHeader{}, ErrShortFrame},
	{"key bad start code", []byte{0x70, 0x73, 0x00, 0x9d, 0x01, 0x2b, 0x7c, 0x02, 0x66, 0x01}, FrameHeader{}, ErrBadStartCode},
}

func TestParseFrameHeader(t *testing.T) {
	for _, tt := range frameHeaderTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFrameHeader(tt.frame)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if key := IsKeyFrame(tt.frame); key != (err == nil && tt.want.KeyFrame) {
				t.Errorf("IsKeyFrame = %v", key)
			}
		})
	}
}

func TestIsKeyFrame(t *testing.T) {
	for _, tt := range []struct {
		name  string
		frame []byte
		want  bool
	}{
		{"key", keyFrame636, true},
		{"inter", []byte{0x31, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x7c, 0x02, 0x66, 0x01}, false},
		{"nil", nil, false},
		{"short key", keyFrame636[:5], false},
		{"garbage", []byte("not a vp8 frame"), false},
		{"zeros", make([]byte, 16), false},
	} {
		if got := IsKeyFrame(tt.frame); got != tt.want {
			t.Errorf("%s: IsKeyFrame = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTestdata(t *testing.T) {
	frames := mediatest.IVFFrames(t, "testdata/636x358.ivf")
	if len(frames) != 6 {
		t.Fatalf("%d frames, want 6", len(frames))
	}
	for i, f := range frames {
		h, err := ParseFrameHeader(f)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		wantKey := i%3 == 0
		if h.KeyFrame != wantKey || IsKeyFrame(f) != wantKey {
			t.Errorf("frame %d: KeyFrame %v, IsKeyFrame %v, want %v", i, h.KeyFrame, IsKeyFrame(f), wantKey)
		}
		if !h.ShowFrame || int(h.FirstPartSize) > len(f) {
			t.Errorf("frame %d: %+v (len %d)", i, h, len(f))
		}
		if wantKey && (h.Width != 636 || h.Height != 358) {
			t.Errorf("frame %d: %dx%d, want 636x358", i, h.Width, h.Height)
		}
	}
}

// TestFFmpeg encodes VP8 streams with libvpx and checks key frames and
// sizes against ffprobe.
func TestFFmpeg(t *testing.T) {
	for _, tt := range []struct {
		size   string
		frames int
		extra  []string
	}{
		{"33x17", 7, []string{"-g", "3"}},
		{"636x358", 8, []string{"-g", "4"}},
		{"1920x1080", 3, []string{"-g", "2"}},
		// Version (profile) 1 and 3.
		{"176x144", 5, []string{"-g", "2", "-profile:v", "1"}},
		{"160x90", 4, []string{"-g", "3", "-profile:v", "3", "-deadline", "good", "-cpu-used", "5"}},
	} {
		t.Run(tt.size, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			// testsrc2 rounds odd sizes down: scale to the size wanted.
			args := []string{"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
				"-vf", "scale=" + strings.Replace(tt.size, "x", ":", 1), "-frames:v", strconv.Itoa(tt.frames), "-pix_fmt", "yuv420p", "-c:v", "libvpx", "-b:v", "200k"}
			if !strings.Contains(strings.Join(tt.extra, " "), "deadline") {
				args = append(args, "-deadline", "realtime", "-cpu-used", "8")
			}
			args = append(args, tt.extra...)
			path := mediatest.FFmpeg(t, dir, append(args, "out.ivf")...)
			frames := mediatest.IVFFrames(t, path)
			flags := mediatest.FFprobeLines(t, path, "-show_packets", "-show_entries", "packet=flags", "-of", "csv=p=0")
			if len(flags) != len(frames) {
				t.Fatalf("ffprobe: %d packets, IVF %d frames", len(flags), len(frames))
			}
			dims := mediatest.FFprobeLines(t, path, "-show_entries", "stream=width,height", "-of", "csv=p=0:s=x")
			profile := mediatest.FFprobeLines(t, path, "-show_entries", "stream=profile", "-of", "csv=p=0")
			for i, f := range frames {
				h, err := ParseFrameHeader(f)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if strconv.Itoa(int(h.Version)) != profile[0] {
					t.Errorf("frame %d: version %d, ffprobe profile %s", i, h.Version, profile[0])
				}
				wantKey := strings.HasPrefix(flags[i], "K")
				if h.KeyFrame != wantKey || IsKeyFrame(f) != wantKey {
					t.Errorf("frame %d: KeyFrame %v, IsKeyFrame %v, ffprobe flags %q", i, h.KeyFrame, IsKeyFrame(f), flags[i])
				}
				if h.KeyFrame {
					if got := fmt.Sprintf("%dx%d", h.Width, h.Height); got != dims[0] || got != tt.size {
						t.Errorf("frame %d: %s, ffprobe %s", i, got, dims[0])
					}
				}
			}
		})
	}
}

func FuzzParseFrameHeader(f *testing.F) {
	for _, tt := range frameHeaderTests {
		f.Add(tt.frame)
	}
	frames := mediatest.IVFFrames(f, "testdata/636x358.ivf")
	for _, fr := range frames[:2] {
		f.Add(fr[:min(len(fr), 64)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseFrameHeader(b)
		if err != nil {
			if h != (FrameHeader{}) {
				t.Errorf("non-zero header with error: %+v", h)
			}
			if IsKeyFrame(b) {
				t.Errorf("IsKeyFrame true on bad frame")
			}
			return
		}
		if IsKeyFrame(b) != h.KeyFrame {
			t.Errorf("IsKeyFrame %v, header %+v", IsKeyFrame(b), h)
		}
		if h.FirstPartSize >= 1<<19 || h.Version > 7 || h.Width >= 1<<14 || h.Height >= 1<<14 || h.HorizScale > 3 || h.VertScale > 3 {
			t.Errorf("field out of range: %+v", h)
		}
	})
}

func BenchmarkIsKeyFrame(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if !IsKeyFrame(keyFrame636) {
			b.Fatal("not key")
		}
	}
}

func ExampleParseFrameHeader() {
	frame := []byte{0x70, 0x73, 0x00, 0x9d, 0x01, 0x2a, 0x7c, 0x02, 0x66, 0x01 /* ... */}
	h, err := ParseFrameHeader(frame)
	if err != nil {
		panic(err)
	}
	fmt.Println(h.KeyFrame, h.Width, h.Height)
	// Output: true 636 358
}
