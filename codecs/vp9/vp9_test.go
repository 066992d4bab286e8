package vp9

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// keyFrame320 is the start of the key frame of testdata/superframe.ivf:
// 82 = frame_marker 2, profile 0, key frame, shown; 49 83 42 sync code;
// 00 = color_space 0, color_range 0 and 4 bits of frame_width_minus_1, which
// with 13 and the high nibble of f0 is 0x013f = 319; then 0 b 0b 3 gives
// frame_height_minus_1 0x0b3 = 179; render_and_frame_size_different 0.
var keyFrame320 = []byte{0x82, 0x49, 0x83, 0x42, 0x00, 0x13, 0xf0, 0x0b, 0x36, 0x06, 0x38, 0x24}

var sync = []string{"0x49/8", "0x83/8", "0x42/8"}

var headerTests = []struct {
	name  string
	frame []byte
	want  Header
	err   error
}{
	{"key profile 0 320x180", keyFrame320, Header{KeyFrame: true, ShowFrame: true, BitDepth: 8,
		SubsamplingX: true, SubsamplingY: true, Width: 320, Height: 180, RenderWidth: 320, RenderHeight: 180}, nil},
	// frame_marker, profile_low 1, profile_high 0, show_existing 0,
	// key, shown, error resilient; color_space 2 (BT.709), full range,
	// subsampling 0 0 (4:4:4), reserved 0; 64x48; render size 32x24.
	{"key profile 1 444 render size", mediatest.Bits(slices.Concat([]string{"2/2", "1/1", "0/1", "0/1", "0/1", "1/1", "1/1"}, sync,
		[]string{"2/3", "1/1", "0/1", "0/1", "0/1", "63/16", "47/16", "1/1", "31/16", "23/16"})...),
		Header{Profile: 1, KeyFrame: true, ShowFrame: true, ErrorResilient: true, BitDepth: 8, ColorSpace: ColorSpaceBT709,
			ColorRange: 1, Width: 64, Height: 48, RenderWidth: 32, RenderHeight: 24}, nil},
	// Profile 2 (low 0, high 1), ten_or_twelve_bit 0: 10-bit.
	{"key profile 2 10-bit", mediatest.Bits(slices.Concat([]string{"2/2", "0/1", "1/1", "0/1", "0/1", "1/1", "0/1"}, sync,
		[]string{"0/1", "5/3", "0/1", "1919/16", "1079/16", "0/1"})...),
		Header{Profile: 2, KeyFrame: true, ShowFrame: true, BitDepth: 10, ColorSpace: ColorSpaceBT2020,
			SubsamplingX: true, SubsamplingY: true, Width: 1920, Height: 1080, RenderWidth: 1920, RenderHeight: 1080}, nil},
	// Profile 3 (low 1, high 1) has a reserved zero bit; 12-bit 4:2:2.
	{"key profile 3 12-bit 422", mediatest.Bits(slices.Concat([]string{"2/2", "1/1", "1/1", "0/1", "0/1", "0/1", "1/1", "0/1"}, sync,
		[]string{"1/1", "1/3", "0/1", "1/1", "0/1", "0/1", "15/16", "7/16", "0/1"})...),
		Header{Profile: 3, KeyFrame: true, ShowFrame: true, BitDepth: 12, ColorSpace: ColorSpaceBT601,
			SubsamplingX: true, Width: 16, Height: 8, RenderWidth: 16, RenderHeight: 8}, nil},
	{"profile 3 reserved bit", mediatest.Bits("2/2", "1/1", "1/1", "1/1", "0/8"), Header{}, ErrReservedBit},
	// RGB in profile 1: color_range implied 1, 4:4:4, then reserved_zero.
	{"key profile 1 rgb", mediatest.Bits(slices.Concat([]string{"2/2", "1/1", "0/1", "0/1", "0/1", "1/1", "0/1"}, sync,
		[]string{"7/3", "0/1", "99/16", "99/16", "0/1"})...),
		Header{Profile: 1, KeyFrame: true, ShowFrame: true, BitDepth: 8, ColorSpace: ColorSpaceRGB, ColorRange: 1,
			Width: 100, Height: 100, RenderWidth: 100, RenderHeight: 100}, nil},
	{"key profile 1 rgb reserved bit", mediatest.Bits(slices.Concat([]string{"2/2", "1/1", "0/1", "0/1", "0/1", "1/1", "0/1"}, sync,
		[]string{"7/3", "1/1", "99/16", "99/16", "0/1"})...), Header{}, ErrReservedBit},
	{"key profile 1 reserved bit after subsampling", mediatest.Bits(slices.Concat([]string{"2/2", "1/1", "0/1", "0/1", "0/1", "1/1", "0/1"}, sync,
		[]string{"1/3", "0/1", "1/1", "0/1", "1/1", "99/16", "99/16", "0/1"})...), Header{}, ErrReservedBit},
	// Inter frame, hidden, not error resilient: intra_only 1,
	// reset_frame_context 2 bits, sync code, profile 0 defaults,
	// refresh_frame_flags, 65536x1 (too wide for uint16: Width 0).
	{"intra-only profile 0", mediatest.Bits(slices.Concat([]string{"2/2", "0/1", "0/1", "0/1", "1/1", "0/1", "0/1", "1/1", "0/2"}, sync,
		[]string{"0xff/8", "65535/16", "0/16", "0/1"})...),
		Header{IntraOnly: true, BitDepth: 8, ColorSpace: ColorSpaceBT601, SubsamplingX: true, SubsamplingY: true,
			Width: 0, Height: 1, RenderWidth: 0, RenderHeight: 1}, nil},
	// Intra-only in profile 2 reads color_config; error resilient: no
	// reset_frame_context.
	{"intra-only profile 2", mediatest.Bits(slices.Concat([]string{"2/2", "0/1", "1/1", "0/1", "1/1", "0/1", "1/1", "1/1"}, sync,
		[]string{"1/1", "2/3", "1/1", "0x01/8", "639/16", "359/16", "0/1"})...),
		Header{Profile: 2, IntraOnly: true, ErrorResilient: true, BitDepth: 12, ColorSpace: ColorSpaceBT709, ColorRange: 1,
			SubsamplingX: true, SubsamplingY: true, Width: 640, Height: 360, RenderWidth: 640, RenderHeight: 360}, nil},
	{"intra-only bad sync", mediatest.Bits("2/2", "0/1", "0/1", "0/1", "1/1", "0/1", "0/1", "1/1", "0/2", "0x49/8", "0x83/8", "0x43/8"), Header{}, ErrSyncCode},
	// 0x88: frame_marker 2, profile 0, show_existing_frame 1, index 0.
	{"show existing 0", []byte{0x88}, Header{ShowExistingFrame: true, ShowFrame: true, BitDepth: 8}, nil},
	{"show existing 5", mediatest.Bits("2/2", "1/1", "0/1", "1/1", "5/3"), Header{Profile: 1, ShowExistingFrame: true, FrameToShow: 5, ShowFrame: true, BitDepth: 8}, nil},
	// 0x86: inter frame, shown; nothing more is parsed.
	{"inter", []byte{0x86, 0x00, 0x40, 0x92}, Header{ShowFrame: true, BitDepth: 8}, nil},
	{"empty", nil, Header{}, ErrShortFrame},
	{"bad frame marker", []byte{0x42, 0x49, 0x83, 0x42}, Header{}, ErrFrameMarker},
	{"key short", keyFrame320[:7], Header{}, ErrShortFrame},
	{"key sync only", keyFrame320[:4], Header{}, ErrShortFrame},
	{"key bad sync", []byte{0x82, 0x49, 0x83, 0x43, 0x00, 0x13, 0xf0, 0x0b, 0x36}, Header{}, ErrSyncCode},
	{"inter short", []byte{0x84}, Header{}, ErrShortFrame},
	// A superframe of the key frame (12 bytes) and an inter frame (4
	// bytes): index c1 (1 byte sizes, 2 frames) 0c 04 c1.
	{"superframe", append(append(append([]byte{}, keyFrame320...), 0x86, 0x00, 0x40, 0x92), 0xc1, 0x0c, 0x04, 0xc1),
		Header{KeyFrame: true, ShowFrame: true, BitDepth: 8, SubsamplingX: true, SubsamplingY: true,
			Width: 320, Height: 180, RenderWidth: 320, RenderHeight: 180}, nil},
	// Sizes 12 + 5 > 16 bytes of frame data.
	{"superframe bad sizes", append(append(append([]byte{}, keyFrame320...), 0x86, 0x00, 0x40, 0x92), 0xc1, 0x0c, 0x05, 0xc1), Header{}, ErrSuperframe},
	{"superframe zero size", append(append(append([]byte{}, keyFrame320...), 0x86, 0x00, 0x40, 0x92), 0xc1, 0x00, 0x10, 0xc1), Header{}, ErrSuperframe},
	{"superframe index only", []byte{0xc0, 0x00, 0xc0}, Header{}, ErrSuperframe},
	// Ends in a marker-like byte without a matching first byte: not an
	// index, so the frame is parsed whole.
	{"marker-like last byte", append(append([]byte{}, keyFrame320...), 0xc1), Header{KeyFrame: true, ShowFrame: true, BitDepth: 8,
		SubsamplingX: true, SubsamplingY: true, Width: 320, Height: 180, RenderWidth: 320, RenderHeight: 180}, nil},
}

func TestParseHeader(t *testing.T) {
	for _, tt := range headerTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHeader(tt.frame)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if err == nil && IsKeyFrame(tt.frame) != got.KeyFrame {
				t.Errorf("IsKeyFrame = %v", IsKeyFrame(tt.frame))
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
		{"key", keyFrame320, true},
		{"key header cut after sync", keyFrame320[:4], true},
		{"key bad sync", []byte{0x82, 0x49, 0x83, 0x43}, false},
		{"inter", []byte{0x86, 0x00, 0x40, 0x92}, false},
		{"show existing", []byte{0x88, 0x49, 0x83, 0x42}, false},
		{"profile 3 key", []byte{0xb1, 0x24, 0xc1, 0xa1, 0x00}, true}, // 10 1 1 0 0 0 1 then sync shifted by 7 bits
		{"profile 3 reserved", []byte{0xb8, 0x00, 0x00, 0x00}, false},
		{"bad marker", []byte{0x02, 0x49, 0x83, 0x42}, false},
		{"nil", nil, false},
		{"superframe", append(append(append([]byte{}, keyFrame320...), 0x86, 0x00, 0x40, 0x92), 0xc1, 0x0c, 0x04, 0xc1), true},
		{"superframe inter first", append(append([]byte{0x86, 0x00, 0x40, 0x92}, keyFrame320...), 0xc1, 0x04, 0x0c, 0xc1), false},
		{"bad superframe", append(append(append([]byte{}, keyFrame320...), 0x86, 0x00, 0x40, 0x92), 0xc1, 0x0d, 0x04, 0xc1), false},
	} {
		if got := IsKeyFrame(tt.frame); got != tt.want {
			t.Errorf("%s: IsKeyFrame = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSuperframe(t *testing.T) {
	inter := []byte{0x86, 0x00, 0x40, 0x92}
	sf := append(append(append([]byte{}, keyFrame320...), inter...), 0xc1, 0x0c, 0x04, 0xc1)
	frames, err := Superframe(sf)
	if err != nil || len(frames) != 2 || !bytes.Equal(frames[0], keyFrame320) || !bytes.Equal(frames[1], inter) {
		t.Errorf("Superframe = %x, %v", frames, err)
	}
	// Two-byte sizes (marker c9: 2 bytes, 2 frames).
	sf2 := append(append(append([]byte{}, keyFrame320...), inter...), 0xc9, 0x0c, 0x00, 0x04, 0x00, 0xc9)
	frames, err = Superframe(sf2)
	if err != nil || len(frames) != 2 || !bytes.Equal(frames[1], inter) {
		t.Errorf("Superframe 2-byte sizes = %x, %v", frames, err)
	}
	frames, err = Superframe(inter)
	if err != nil || len(frames) != 1 || !bytes.Equal(frames[0], inter) {
		t.Errorf("Superframe(plain) = %x, %v", frames, err)
	}
	if _, err := Superframe(nil); err != ErrShortFrame {
		t.Errorf("Superframe(nil) err = %v", err)
	}
	if _, err := Superframe([]byte{0xc0, 0x05, 0xc0}); err != ErrSuperframe {
		t.Errorf("Superframe(bad) err = %v", err)
	}
}

func TestTestdata(t *testing.T) {
	frames := mediatest.IVFFrames(t, "testdata/superframe.ivf")
	if len(frames) != 20 {
		t.Fatalf("%d frames, want 20", len(frames))
	}
	superframes := 0
	for i, f := range frames {
		h, err := ParseHeader(f)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if h.KeyFrame != (i == 0) || IsKeyFrame(f) != (i == 0) {
			t.Errorf("frame %d: KeyFrame %v, IsKeyFrame %v", i, h.KeyFrame, IsKeyFrame(f))
		}
		sub, err := Superframe(f)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if len(sub) > 1 {
			superframes++
			// libvpx puts the hidden alternate reference frame first.
			if h.ShowFrame {
				t.Errorf("frame %d: first frame of superframe shown", i)
			}
			last, err := ParseHeader(sub[len(sub)-1])
			if err != nil || !last.ShowFrame {
				t.Errorf("frame %d: last frame of superframe: %+v, %v", i, last, err)
			}
		}
	}
	if superframes != 2 {
		t.Errorf("%d superframes, want 2", superframes)
	}
}

// pixFmts maps ffmpeg pixel formats to bit depth and subsampling.
var pixFmts = map[string]struct {
	depth  uint8
	ssx    bool
	ssy    bool
	chroma uint8
}{
	"yuv420p":     {8, true, true, 1},
	"yuv422p":     {8, true, false, 2},
	"yuv440p":     {8, false, true, 1},
	"yuv444p":     {8, false, false, 3},
	"gbrp":        {8, false, false, 3},
	"yuv420p10le": {10, true, true, 1},
	"yuv444p10le": {10, false, false, 3},
	"yuv422p12le": {12, true, false, 2},
	"gbrp12le":    {12, false, false, 3},
}

// ffmpegColorSpaces is libavcodec's VP9 color_space mapping, in ffprobe's
// names.
var ffmpegColorSpaces = [8]string{"unknown", "bt470bg", "bt709", "smpte170m", "smpte240m", "bt2020nc", "reserved", "gbr"}

// TestFFmpeg encodes VP9 streams of every profile with libvpx and checks
// the parse against ffprobe, and CodecPrivate against the vpcC box ffmpeg
// writes into MP4.
func TestFFmpeg(t *testing.T) {
	for _, tt := range []struct {
		pixFmt string
		size   string
		extra  []string
	}{
		{"yuv420p", "636x358", nil},
		{"yuv420p", "1920x1080", []string{"-colorspace", "bt709", "-color_range", "pc"}},
		{"yuv444p", "33x17", nil},
		{"yuv440p", "64x48", nil},
		{"yuv422p", "100x50", []string{"-colorspace", "smpte170m"}},
		{"gbrp", "64x48", nil},
		{"yuv420p10le", "176x144", []string{"-colorspace", "bt2020nc"}},
		{"yuv444p10le", "64x48", nil},
		{"yuv422p12le", "64x48", nil},
		{"gbrp12le", "48x32", nil},
	} {
		t.Run(tt.pixFmt+"-"+tt.size, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			const frames = 5
			args := []string{"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
				"-vf", "scale=" + strings.Replace(tt.size, "x", ":", 1), "-frames:v", strconv.Itoa(frames),
				"-pix_fmt", tt.pixFmt, "-c:v", "libvpx-vp9", "-b:v", "200k", "-g", "3",
				"-deadline", "realtime", "-cpu-used", "8"}
			args = append(args, tt.extra...)
			path := mediatest.FFmpeg(t, dir, append(args, "out.ivf")...)
			ivf := mediatest.IVFFrames(t, path)
			flags := mediatest.FFprobeLines(t, path, "-show_packets", "-show_entries", "packet=flags", "-of", "csv=p=0")
			if len(flags) != len(ivf) || len(ivf) != frames {
				t.Fatalf("ffprobe: %d packets, IVF %d frames", len(flags), len(ivf))
			}
			info := mediatest.FFprobeLines(t, path, "-show_entries", "stream=width,height,profile,pix_fmt,color_range,color_space", "-of", "default=nw=1")
			probe := map[string]string{}
			for _, l := range info {
				k, v, _ := strings.Cut(l, "=")
				probe[k] = v
			}
			pf := pixFmts[tt.pixFmt]
			var key Header
			for i, f := range ivf {
				h, err := ParseHeader(f)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				wantKey := strings.HasPrefix(flags[i], "K")
				if h.KeyFrame != wantKey || IsKeyFrame(f) != wantKey {
					t.Errorf("frame %d: KeyFrame %v, IsKeyFrame %v, ffprobe flags %q", i, h.KeyFrame, IsKeyFrame(f), flags[i])
				}
				if fmt.Sprintf("Profile %d", h.Profile) != probe["profile"] {
					t.Errorf("frame %d: profile %d, ffprobe %q", i, h.Profile, probe["profile"])
				}
				if !h.KeyFrame {
					continue
				}
				key = h
				if got := fmt.Sprintf("%dx%d", h.Width, h.Height); got != probe["width"]+"x"+probe["height"] || got != tt.size {
					t.Errorf("frame %d: %s, ffprobe %sx%s", i, got, probe["width"], probe["height"])
				}
				if h.BitDepth != pf.depth || h.SubsamplingX != pf.ssx || h.SubsamplingY != pf.ssy {
					t.Errorf("frame %d: depth %d subsampling %v %v, pix_fmt %s", i, h.BitDepth, h.SubsamplingX, h.SubsamplingY, probe["pix_fmt"])
				}
				if cs := ffmpegColorSpaces[h.ColorSpace]; cs != probe["color_space"] {
					t.Errorf("frame %d: color space %d (%s), ffprobe %q", i, h.ColorSpace, cs, probe["color_space"])
				}
				if r := map[uint8]string{0: "tv", 1: "pc"}[h.ColorRange]; r != probe["color_range"] {
					t.Errorf("frame %d: color range %d, ffprobe %q", i, h.ColorRange, probe["color_range"])
				}
			}
			if key.ChromaSubsampling() != pf.chroma {
				t.Errorf("ChromaSubsampling = %d, want %d", key.ChromaSubsampling(), pf.chroma)
			}
			if !key.SubsamplingX && key.SubsamplingY {
				// 4:4:0 has no vpcC value; ffmpeg writes a broken box.
				if got := CodecPrivate(key, 0); !bytes.Equal(got, []byte{1, 1, key.Profile, 3, 1, key.BitDepth}) {
					t.Errorf("CodecPrivate 4:4:0 = %x", got)
				}
				return
			}
			// vpcC: version 1, flags 0, profile, level, bitDepth(4)
			// chromaSubsampling(3) fullRange(1), ...
			mp4 := mediatest.FFmpeg(t, dir, "-i", path, "-c", "copy", "out.mp4")
			vpcc := mediatest.MP4Box(t, mp4, "vpcC")
			if len(vpcc) < 8 || vpcc[0] != 1 {
				t.Fatalf("vpcC %x", vpcc)
			}
			if vpcc[4] != key.Profile || vpcc[6]>>4 != key.BitDepth || vpcc[6]>>1&7 != key.ChromaSubsampling() || vpcc[6]&1 != key.ColorRange {
				t.Errorf("vpcC %x, header %+v", vpcc, key)
			}
			level := vpcc[5]
			want := []byte{1, 1, vpcc[4], 2, 1, level, 3, 1, vpcc[6] >> 4, 4, 1, vpcc[6] >> 1 & 7}
			if got := CodecPrivate(key, level); !bytes.Equal(got, want) {
				t.Errorf("CodecPrivate = %x, want %x (vpcC %x)", got, want, vpcc)
			}
		})
	}
}

func TestCodecPrivate(t *testing.T) {
	for _, tt := range []struct {
		h     Header
		level uint8
		want  []byte
	}{
		{Header{BitDepth: 8, SubsamplingX: true, SubsamplingY: true}, 0, []byte{1, 1, 0, 3, 1, 8, 4, 1, 1}},
		{Header{BitDepth: 8, SubsamplingX: true, SubsamplingY: true}, 31, []byte{1, 1, 0, 2, 1, 31, 3, 1, 8, 4, 1, 1}},
		{Header{Profile: 1, BitDepth: 8}, 10, []byte{1, 1, 1, 2, 1, 10, 3, 1, 8, 4, 1, 3}},
		{Header{Profile: 2, BitDepth: 10, SubsamplingX: true, SubsamplingY: true}, 41, []byte{1, 1, 2, 2, 1, 41, 3, 1, 10, 4, 1, 1}},
		{Header{Profile: 3, BitDepth: 12, SubsamplingX: true}, 0, []byte{1, 1, 3, 3, 1, 12, 4, 1, 2}},
		{Header{}, 0, []byte{1, 1, 0, 3, 1, 8, 4, 1, 3}}, // zero header: bit depth defaults to 8
	} {
		if got := CodecPrivate(tt.h, tt.level); !bytes.Equal(got, tt.want) {
			t.Errorf("CodecPrivate(%+v, %d) = %x, want %x", tt.h, tt.level, got, tt.want)
		}
	}
}

func TestChromaSubsampling(t *testing.T) {
	for _, tt := range []struct {
		x, y bool
		want uint8
	}{
		{true, true, ChromaSubsampling420Colocated},
		{true, false, ChromaSubsampling422},
		{false, false, ChromaSubsampling444},
		{false, true, ChromaSubsampling420Colocated},
	} {
		if got := (Header{SubsamplingX: tt.x, SubsamplingY: tt.y}).ChromaSubsampling(); got != tt.want {
			t.Errorf("ChromaSubsampling(%v, %v) = %d, want %d", tt.x, tt.y, got, tt.want)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, tt := range headerTests {
		f.Add(tt.frame)
	}
	frames := mediatest.IVFFrames(f, "testdata/superframe.ivf")
	f.Add(frames[0][:64])
	f.Add(frames[1])
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		key := IsKeyFrame(b)
		if err != nil {
			if h != (Header{}) {
				t.Errorf("non-zero header with error: %+v", h)
			}
		} else {
			if key != h.KeyFrame {
				t.Errorf("IsKeyFrame %v, header %+v", key, h)
			}
			if h.BitDepth != 8 && h.BitDepth != 10 && h.BitDepth != 12 || h.Profile > 3 || h.ColorSpace > 7 {
				t.Errorf("field out of range: %+v", h)
			}
		}
		sub, err := Superframe(b)
		if err == nil {
			total := 0
			for _, s := range sub {
				if len(s) == 0 {
					t.Errorf("empty frame in superframe")
				}
				total += len(s)
			}
			if total > len(b) {
				t.Errorf("superframe frames longer than the input")
			}
		}
		CodecPrivate(h, 10)
	})
}

func BenchmarkIsKeyFrame(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if !IsKeyFrame(keyFrame320) {
			b.Fatal("not key")
		}
	}
}

func BenchmarkParseHeader(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseHeader(keyFrame320); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleParseHeader() {
	frame := []byte{0x82, 0x49, 0x83, 0x42, 0x00, 0x13, 0xf0, 0x0b, 0x36 /* ... */}
	h, err := ParseHeader(frame)
	if err != nil {
		panic(err)
	}
	fmt.Println(h.KeyFrame, h.Profile, h.BitDepth, h.Width, h.Height)
	fmt.Printf("% x\n", CodecPrivate(h, 0))
	// Output:
	// true 0 8 320 180
	// 01 01 00 03 01 08 04 01 01
}
