package codec_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/internal/codec"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/mp4"
	"github.com/gomediarecorder/mediarecorder/webm"
)

// row is what each row must say: the test table the round trip, the
// container constants and the lookups are checked against.
type row struct {
	c          *codec.Codec
	name       string
	kind       codec.Kind
	mimeNames  []string // codecs-parameter entries naming it (any case)
	rtp        []string // track MIME types naming it
	matroska   string   // the webm package's constant
	mp4        []string // sample entries; the first is the mp4 package's constant
	ivf        []string
	recordable bool
}

var rows = []row{
	{codec.VP8, "vp8", codec.Video, []string{"vp8", "VP8", "vp8.0"}, []string{"video/VP8", "video/vp8"}, webm.CodecIDVP8, nil, []string{"VP80", "vp80"}, true},
	{codec.VP9, "vp9", codec.Video, []string{"vp9", "vp9.0", "vp09.00.10.08"}, []string{"video/VP9"}, webm.CodecIDVP9, []string{mp4.CodecVP09}, []string{"VP90", "vp90"}, true},
	{codec.AV1, "av1", codec.Video, []string{"av1", "av01.0.04M.08"}, []string{"video/AV1"}, webm.CodecIDAV1, []string{mp4.CodecAV01}, []string{"AV01", "av01"}, true},
	{codec.H264, "h264", codec.Video, []string{"avc1", "h264", "avc3", "avc1.42E01F", "AVC3.640028"}, []string{"video/H264", "video/h264"}, webm.CodecIDH264, []string{mp4.CodecAVC1, "avc3"}, nil, true},
	{codec.Opus, "opus", codec.Audio, []string{"opus", "Opus"}, []string{"audio/opus", "audio/OPUS"}, webm.CodecIDOpus, []string{mp4.CodecOpus}, nil, true},
	{codec.PCM, "pcm", codec.Audio, []string{"pcm"}, []string{"audio/PCM", "audio/pcm", "audio/L16"}, webm.CodecIDPCM, nil, nil, true},
	{codec.Vorbis, "vorbis", codec.Audio, []string{"vorbis"}, []string{"audio/vorbis"}, webm.CodecIDVorbis, nil, nil, false},
	{codec.AAC, "aac", codec.Audio, []string{"mp4a.40.2"}, nil, "A_AAC", []string{"mp4a"}, nil, false},
}

// TestRoundTrip looks every name of every row up and gets the row back:
// codecs name ↔ RTP MIME type ↔ Matroska CodecID ↔ MP4 sample entry ↔ IVF
// FourCC. The Matroska IDs and sample entries are those the webm and mp4
// packages export.
func TestRoundTrip(t *testing.T) {
	if len(rows) != len(codec.Table) {
		t.Fatalf("the test knows %d rows, the table has %d", len(rows), len(codec.Table))
	}
	for i, r := range rows {
		c := r.c
		if codec.Table[i] != c {
			t.Errorf("Table[%d] = %s, want %s", i, codec.Table[i].Name, c.Name)
		}
		if c.Name != r.name || c.Kind != r.kind || c.Recordable() != r.recordable {
			t.Errorf("%s: name %q kind %q recordable %v, want %q %q %v", r.name, c.Name, c.Kind, c.Recordable(), r.name, r.kind, r.recordable)
		}
		if c.MIMEName != "" && codec.ByMIMEName(c.MIMEName) != c {
			t.Errorf("%s: ByMIMEName(MIMEName %q) is not the row", r.name, c.MIMEName)
		}
		if r.recordable && c.MIMEName == "" {
			t.Errorf("%s: recordable without a MIMEName", r.name)
		}
		for _, n := range r.mimeNames {
			if got := codec.ByMIMEName(n); got != c {
				t.Errorf("ByMIMEName(%q) = %v, want %s", n, got, r.name)
			}
		}
		if c.RTPMimeType != "" && codec.ByRTPMimeType(c.RTPMimeType) != c {
			t.Errorf("%s: ByRTPMimeType(RTPMimeType %q) is not the row", r.name, c.RTPMimeType)
		}
		for _, m := range r.rtp {
			if got := codec.ByRTPMimeType(m); got != c {
				t.Errorf("ByRTPMimeType(%q) = %v, want %s", m, got, r.name)
			}
			if kind, _, _ := strings.Cut(m, "/"); codec.Kind(kind) != c.Kind {
				t.Errorf("%s: RTP type %q of another kind", r.name, m)
			}
		}
		if c.MatroskaID != r.matroska {
			t.Errorf("%s: MatroskaID %q, want %q", r.name, c.MatroskaID, r.matroska)
		}
		if codec.ByMatroskaID(c.MatroskaID) != c {
			t.Errorf("ByMatroskaID(%q) is not %s", c.MatroskaID, r.name)
		}
		if len(r.mp4) == 0 && c.MP4Entry != "" || len(r.mp4) > 0 && c.MP4Entry != r.mp4[0] {
			t.Errorf("%s: MP4Entry %q, want %v", r.name, c.MP4Entry, r.mp4)
		}
		for _, e := range r.mp4 {
			if got := codec.ByMP4Entry(e); got != c {
				t.Errorf("ByMP4Entry(%q) = %v, want %s", e, got, r.name)
			}
		}
		if len(r.ivf) == 0 && c.IVFFourCC != "" || len(r.ivf) > 0 && c.IVFFourCC != r.ivf[0] {
			t.Errorf("%s: IVFFourCC %q, want %v", r.name, c.IVFFourCC, r.ivf)
		}
		for _, f := range r.ivf {
			if got := codec.ByIVFFourCC(f); got != c {
				t.Errorf("ByIVFFourCC(%q) = %v, want %s", f, got, r.name)
			}
		}
		if c.Kind == codec.Video && c.ClockRate != 90000 {
			t.Errorf("%s: video clock rate %d, want 90000", r.name, c.ClockRate)
		}
		if c.Ogg && c.Kind != codec.Audio {
			t.Errorf("%s: Ogg holds audio only", r.name)
		}
		if c.Reorders != (c == codec.H264) || (c.BitDepth == 16) != (c == codec.PCM) || (c.SeekPreRoll == 80*time.Millisecond) != (c == codec.Opus) {
			t.Errorf("%s: Reorders %v, BitDepth %d, SeekPreRoll %v", r.name, c.Reorders, c.BitDepth, c.SeekPreRoll)
		}
	}
	for _, n := range []string{"", "vp10", "vp09", "av01", "avc2", "h265", "hev1.1.6.L93.B0", "flac", "mp3"} {
		if c := codec.ByMIMEName(n); c != nil {
			t.Errorf("ByMIMEName(%q) = %s, want nil", n, c.Name)
		}
	}
	for _, n := range []string{"", "video/H265", "audio/PCMU", "video/vp8x", "vp8"} {
		if c := codec.ByRTPMimeType(n); c != nil {
			t.Errorf("ByRTPMimeType(%q) = %s, want nil", n, c.Name)
		}
	}
	if c := codec.ByMatroskaID("v_vp8"); c != nil {
		t.Errorf("ByMatroskaID is case sensitive, as Matroska is; got %s", c.Name)
	}
	for _, e := range []string{"", "opus", "hvc1", "mp4v"} {
		if c := codec.ByMP4Entry(e); c != nil {
			t.Errorf("ByMP4Entry(%q) = %s, want nil", e, c.Name)
		}
	}
	if c := codec.ByIVFFourCC("H264"); c != nil {
		t.Errorf("ByIVFFourCC(H264) = %s, want nil", c.Name)
	}
}

// TestChain goes round each row through its names, each looked up from
// the row the previous one led to: RTP MIME type → Matroska CodecID → MP4
// sample entry → codecs name → IVF FourCC, skipping the names a row does
// not have.
func TestChain(t *testing.T) {
	steps := []struct {
		name func(*codec.Codec) string
		by   func(string) *codec.Codec
	}{
		{func(c *codec.Codec) string { return c.RTPMimeType }, codec.ByRTPMimeType},
		{func(c *codec.Codec) string { return c.MatroskaID }, codec.ByMatroskaID},
		{func(c *codec.Codec) string { return c.MP4Entry }, codec.ByMP4Entry},
		{func(c *codec.Codec) string { return c.MIMEName }, codec.ByMIMEName},
		{func(c *codec.Codec) string { return c.IVFFourCC }, codec.ByIVFFourCC},
	}
	for _, c := range codec.Table {
		at := c
		for _, s := range steps {
			n := s.name(at)
			if n == "" {
				continue
			}
			if at = s.by(n); at != c {
				t.Fatalf("%s: %q leads to %v", c.Name, n, at)
			}
		}
	}
}

// TestNamesUnique: no name, type or ID belongs to two rows.
func TestNamesUnique(t *testing.T) {
	seen := map[string]string{}
	add := func(space, v, name string) {
		if v == "" {
			return
		}
		k := space + ":" + strings.ToLower(v)
		if space == "matroska" || space == "mp4" {
			k = space + ":" + v // case sensitive
		}
		if o, ok := seen[k]; ok {
			t.Errorf("%s %q names %s and %s", space, v, o, name)
		}
		seen[k] = name
	}
	for _, r := range rows {
		add("name", r.c.Name, r.name)
		add("rtp", r.c.RTPMimeType, r.name)
		add("matroska", r.c.MatroskaID, r.name)
		add("mp4", r.c.MP4Entry, r.name)
		add("ivf", r.c.IVFFourCC, r.name)
	}
}

// ivfFrames returns the frames of a testdata IVF file.
func ivfFrames(t *testing.T, name string) [][]byte {
	t.Helper()
	return mediatest.IVFFrames(t, mediatest.Testdata(t, name))
}

// h264AUs returns the access units of a testdata Annex B file.
func h264AUs(t *testing.T, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(mediatest.Testdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	var aus [][]byte
	r := h264.NewAccessUnitReader(bytes.NewReader(b))
	for au, err := r.Next(); err == nil; au, err = r.Next() {
		aus = append(aus, bytes.Clone(au))
	}
	if len(aus) == 0 {
		t.Fatalf("%s: no access units", name)
	}
	return aus
}

// TestVideoRows runs the video rows over real streams (ffmpeg's, see
// testdata/README.md): each is valid, key frames are at 0 and 30, the
// first frame configures the size, the container frame is converted where
// the container wants it.
func TestVideoRows(t *testing.T) {
	cases := []struct {
		c      *codec.Codec
		frames [][]byte
		keys   []int
		w, h   uint32
	}{
		{codec.VP8, ivfFrames(t, "vp8.ivf"), []int{0, 30}, 320, 240},
		{codec.VP9, ivfFrames(t, "vp9.ivf"), []int{0, 30}, 320, 240},
		{codec.AV1, ivfFrames(t, "av1.ivf"), []int{0, 30}, 320, 240},
		{codec.H264, h264AUs(t, "h264.h264"), []int{0, 30}, 320, 240},
	}
	for _, tc := range cases {
		t.Run(tc.c.Name, func(t *testing.T) {
			var d codec.KeyFrameDetector
			var keys []int
			var scratch []byte
			for i, f := range tc.frames {
				if !tc.c.Valid(f) {
					t.Errorf("frame %d not valid", i)
				}
				k := d.IsKeyFrame(tc.c, f)
				if k != tc.c.IsKeyFrame(f) {
					t.Errorf("frame %d: the detector says %v, the frame alone %v", i, k, !k)
				}
				if k {
					keys = append(keys, i)
				}
				out, err := tc.c.ContainerFrame(&scratch, f)
				if err != nil || len(out) == 0 {
					t.Fatalf("frame %d: ContainerFrame: %d bytes, %v", i, len(out), err)
				}
				switch tc.c {
				case codec.H264:
					back, ok := h264.AppendAnnexB(nil, out)
					if !ok || h264.AVCCLen(f) != len(out) || !bytes.Equal(back, h264AnnexB4(f)) {
						t.Errorf("frame %d: not length-prefixed", i)
					}
				case codec.VP8, codec.VP9:
					if &out[0] != &f[0] {
						t.Errorf("frame %d: copied", i)
					}
				}
				if tc.c.Duration(f, 0, 0) != 0 {
					t.Errorf("frame %d: a video frame has a duration", i)
				}
			}
			if !slicesEqual(keys, tc.keys) {
				t.Errorf("key frames %v, want %v", keys, tc.keys)
			}
			cfg, err := tc.c.Configure(codec.Params{ClockRate: 90000}, tc.frames[0])
			if err != nil || cfg.Width != tc.w || cfg.Height != tc.h {
				t.Errorf("Configure: %dx%d, %v; want %dx%d", cfg.Width, cfg.Height, err, tc.w, tc.h)
			}
			if _, err := tc.c.Configure(codec.Params{}, tc.frames[1]); err != codec.ErrNotConfigurable {
				t.Errorf("Configure(a delta frame) = %v, want ErrNotConfigurable", err)
			}
			if tc.c.Valid(nil) || tc.c.IsKeyFrame(nil) {
				t.Error("an empty sample is valid or a key frame")
			}
		})
	}
}

// h264AnnexB4 is au with 4-byte start codes.
func h264AnnexB4(au []byte) []byte {
	var out []byte
	for n, rest := h264.NextNALU(au); n != nil; n, rest = h264.NextNALU(rest) {
		out = append(append(out, 0, 0, 0, 1), n...)
	}
	return out
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestH264Sprop: parameter sets sent out of band configure the track.
func TestH264Sprop(t *testing.T) {
	// ffmpeg's 320x240 Constrained Baseline SPS and its PPS.
	aus := h264AUs(t, "h264.h264")
	var sps, pps []byte
	for n, rest := h264.NextNALU(aus[0]); n != nil; n, rest = h264.NextNALU(rest) {
		switch h264.NALUType(n) {
		case h264.NALUTypeSPS:
			sps = n
		case h264.NALUTypePPS:
			pps = n
		}
	}
	fmtp := "packetization-mode=1;sprop-parameter-sets=" + b64(sps) + "," + b64(pps)
	var slice []byte
	for n, rest := h264.NextNALU(aus[0]); n != nil; n, rest = h264.NextNALU(rest) {
		if h264.NALUType(n) == h264.NALUTypeIDR {
			slice = append([]byte{0, 0, 0, 1}, n...)
		}
	}
	cfg, err := codec.H264.Configure(codec.Params{SDPFmtpLine: fmtp}, slice)
	if err != nil || cfg.Width != 320 || cfg.Height != 240 || len(cfg.H264SPS) != 1 || len(cfg.H264PPS) != 1 {
		t.Fatalf("Configure with sprop: %+v, %v", cfg, err)
	}
	if _, err := codec.H264.Configure(codec.Params{}, slice); err != codec.ErrNotConfigurable {
		t.Errorf("Configure without parameter sets = %v", err)
	}
}

// TestAudioRows: Opus from its TOC, PCM from its size.
func TestAudioRows(t *testing.T) {
	opus20 := []byte{0xfc, 0xff, 0xfe} // CELT FB 20 ms, stereo, one frame
	if !codec.Opus.Valid(opus20) || !codec.Opus.IsKeyFrame(opus20) {
		t.Error("an Opus packet is not valid or not a key frame")
	}
	if d := codec.Opus.Duration(opus20, 0, 0); d != 20*time.Millisecond {
		t.Errorf("Opus duration %v, want 20ms", d)
	}
	cfg, err := codec.Opus.Configure(codec.Params{}, opus20)
	if err != nil || cfg.Channels != 2 || cfg.SampleRate != 48000 {
		t.Errorf("Opus Configure: %+v, %v", cfg, err)
	}
	if h, err := opus.ParseHead(cfg.CodecPrivate); err != nil || h.Channels != 2 || h.PreSkip != 0 || h.InputSampleRate != 48000 {
		t.Errorf("Opus CodecPrivate %x: %+v, %v", cfg.CodecPrivate, h, err)
	}
	cfg, _ = codec.Opus.Configure(codec.Params{Channels: 1}, opus20)
	if cfg.Channels != 1 {
		t.Errorf("Opus channels %d, want the producer's 1", cfg.Channels)
	}
	cfg, _ = codec.Opus.Configure(codec.Params{Channels: 1, SDPFmtpLine: "minptime=10;Stereo=1"}, opus20)
	if cfg.Channels != 2 {
		t.Errorf("Opus channels %d, want 2 (stereo=1)", cfg.Channels)
	}
	if codec.Opus.Valid([]byte{0x03}) {
		t.Error("a code 3 packet without its count byte is valid")
	}
	cfg, err = codec.PCM.Configure(codec.Params{ClockRate: 44100, Channels: 2}, nil)
	if err != nil || cfg.SampleRate != 44100 || cfg.Channels != 2 {
		t.Errorf("PCM Configure: %+v, %v", cfg, err)
	}
	if d := codec.PCM.Duration(make([]byte, 44100*4/10), cfg.SampleRate, cfg.Channels); d != 100*time.Millisecond {
		t.Errorf("PCM duration %v, want 100ms", d)
	}
	if codec.PCM.Valid([]byte{1, 2, 3}) || !codec.PCM.Valid([]byte{1, 2}) {
		t.Error("PCM validity is not whole 16-bit samples")
	}
	if _, err := codec.Vorbis.Configure(codec.Params{}, []byte{1}); err != codec.ErrNotConfigurable {
		t.Errorf("Vorbis configures: %v", err)
	}
	var nilCodec *codec.Codec
	if nilCodec.Valid([]byte{1}) || nilCodec.IsKeyFrame([]byte{1}) || nilCodec.Recordable() {
		t.Error("the nil row does something")
	}
}

// FuzzRows feeds any bytes to every row: nothing panics, and what
// Configure accepts is valid.
func FuzzRows(f *testing.F) {
	f.Add([]byte{0xfc, 0xff, 0xfe})
	f.Add([]byte{0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e})
	f.Add([]byte{0x12, 0x00, 0x0a, 0x0b, 0x00, 0x00, 0x00, 0x24, 0xc4, 0xff, 0xdf, 0x00, 0x68, 0x02})
	f.Add([]byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00})
	f.Add([]byte{0x82, 0x49, 0x83, 0x42, 0x00, 0x13, 0xf0, 0x0e, 0xf6})
	f.Fuzz(func(t *testing.T, data []byte) {
		var scratch []byte
		for _, c := range codec.Table {
			_ = c.Valid(data)
			_ = c.IsKeyFrame(data)
			var d codec.KeyFrameDetector
			_ = d.IsKeyFrame(c, data)
			_ = d.IsKeyFrame(c, data)
			cfg, err := c.Configure(codec.Params{SDPFmtpLine: "sprop-parameter-sets=" + b64(data)}, data)
			_, _ = c.ContainerFrame(&scratch, data)
			_ = c.Duration(data, cfg.SampleRate, cfg.Channels)
			if err == nil && c.Kind == codec.Video && (cfg.Width == 0 || cfg.Height == 0) {
				t.Errorf("%s configured a 0 size", c.Name)
			}
		}
	})
}
