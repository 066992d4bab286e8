package filesource

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/ogg"
	"github.com/gomediarecorder/mediarecorder/webm"
)

// drain reads every sample of src, copying the data.
func drain(t testing.TB, src source) ([]sample, error) {
	t.Helper()
	var out []sample
	for {
		s, err := src.next()
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return out, err
		}
		s.data = append([]byte(nil), s.data...)
		out = append(out, s)
		if len(out) > 1e6 {
			t.Fatal("endless source")
		}
	}
}

func openTestdata(t testing.TB, name string, opt Options) *File {
	t.Helper()
	f, err := Open(mediatest.Testdata(t, name), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// checkSpacing checks that samples follow each other without gaps, the
// first at first, each lasting dur (the last one lastDur).
func checkSpacing(t *testing.T, ss []sample, n int, first, dur, lastDur time.Duration) {
	t.Helper()
	if len(ss) != n {
		t.Fatalf("%d samples, want %d", len(ss), n)
	}
	at := first
	for i, s := range ss {
		want := dur
		if i == len(ss)-1 {
			want = lastDur
		}
		if d := s.pts - at; d < -time.Microsecond || d > time.Microsecond || s.dur-want < -time.Microsecond || s.dur-want > time.Microsecond {
			t.Fatalf("sample %d at %v for %v, want %v for %v", i, s.pts, s.dur, at, want)
		}
		if len(s.data) == 0 {
			t.Fatalf("sample %d is empty", i)
		}
		at = s.pts + s.dur
	}
}

func TestSourceTimestamps(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name            string
		n               int
		first, dur, end time.Duration
	}{
		{"vp8.ivf", 60, 0, time.Second / 30, time.Second / 30},
		{"av1.ivf", 60, 0, time.Second / 30, time.Second / 30},
		{"vp8-resize.ivf", 60, 0, time.Second / 30, time.Second / 30},
		{"h264.h264", 60, 0, time.Second / 30, time.Second / 30},
		{"h264-high.h264", 30, 0, time.Second / 30, time.Second / 30},
		// Pre-skip 312 samples: the first packet starts 6.5 ms early; the
		// last one is trimmed to end at 2 s (648 and 1608 samples cut).
		{"opus-stereo.ogg", 101, -6500 * time.Microsecond, 20 * ms, 6500 * time.Microsecond},
		{"opus-mono-60ms.ogg", 34, -6500 * time.Microsecond, 60 * ms, 26500 * time.Microsecond},
		{"pcm.wav", 100, 0, 20 * ms, 20 * ms},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := openTestdata(t, c.name, Options{FrameRate: 25})
			ss, err := drain(t, f.src)
			if err != nil {
				t.Fatal(err)
			}
			checkSpacing(t, ss, c.n, c.first, c.dur, c.end)
		})
	}
}

func TestAnnexBFrameRate(t *testing.T) {
	// Two access units of non-IDR slices, no SPS: Options.FrameRate.
	data := []byte{0, 0, 0, 1, 0x41, 0x9a, 0x01, 0, 0, 1, 0x41, 0x9a, 0x02}
	info, err := openAnnexB(bytes.NewReader(data), 25)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := drain(t, info.src)
	if err != nil {
		t.Fatal(err)
	}
	checkSpacing(t, ss, 2, 0, 40*time.Millisecond, 40*time.Millisecond)
}

func TestWAVSampleDuration(t *testing.T) {
	f := openTestdata(t, "pcm.wav", Options{PCMSampleDuration: 30 * time.Millisecond})
	ss, err := drain(t, f.src)
	if err != nil {
		t.Fatal(err)
	}
	// 2 s in 30 ms pieces: 66 of them, then 20 ms.
	checkSpacing(t, ss, 67, 0, 30*time.Millisecond, 20*time.Millisecond)
	if len(ss[0].data) != 1440*2 {
		t.Errorf("%d bytes per sample", len(ss[0].data))
	}
}

func TestWAVExtensibleAndChunks(t *testing.T) {
	// WAVE_FORMAT_EXTENSIBLE stereo PCM, a LIST chunk of odd size before
	// the data, and a data size of 0xFFFFFFFF (written to a stream).
	var b []byte
	b = append(b, "RIFF\xff\xff\xff\xffWAVE"...)
	b = append(b, "fmt \x28\x00\x00\x00"...)
	b = binary.LittleEndian.AppendUint16(b, 0xfffe)
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint32(b, 8000)
	b = binary.LittleEndian.AppendUint32(b, 32000)
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = append(b, 22, 0, 16, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71)
	b = append(b, "LIST\x03\x00\x00\x00abc\x00"...)
	b = append(b, "data\xff\xff\xff\xff"...)
	b = append(b, make([]byte, 8000*4/2+3)...) // 0.5 s and a partial block
	info, err := openWAV(bytes.NewReader(b), int64(len(b)), 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if c := info.codecs[0]; c.MimeType != "audio/PCM" || c.ClockRate != 8000 || c.Channels != 2 {
		t.Errorf("codec %+v", c)
	}
	if !info.hasDur || info.dur != 500*time.Millisecond {
		t.Errorf("duration %v %v", info.dur, info.hasDur)
	}
	ss, err := drain(t, info.src)
	if err != nil {
		t.Fatal(err)
	}
	checkSpacing(t, ss, 5, 0, 100*time.Millisecond, 100*time.Millisecond)
}

func TestIVFSpacing(t *testing.T) {
	// Time base 1/90000, frames at 0, 3000, 6000, 6000 (a repeated pts),
	// 12000: durations from the next frame, the last as the spacing before.
	var b []byte
	b = append(b, "DKIF\x00\x00\x20\x00VP80\x40\x01\xf0\x00"...)
	b = binary.LittleEndian.AppendUint32(b, 90000)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = append(b, make([]byte, 8)...)
	for _, pts := range []uint64{0, 3000, 6000, 6000, 12000} {
		b = binary.LittleEndian.AppendUint32(b, 2)
		b = binary.LittleEndian.AppendUint64(b, pts)
		b = append(b, 0xaa, 0xbb)
	}
	info, err := openIVF(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if info.hasDur {
		t.Error("duration known from a zero length field")
	}
	ss, err := drain(t, info.src)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ pts, dur time.Duration }{
		{0, 33333333}, {33333333, 33333333}, {66666666, 33333334}, {66666666, 66666667}, {133333333, 66666667},
	}
	if len(ss) != len(want) {
		t.Fatalf("%d samples", len(ss))
	}
	for i, w := range want {
		if ss[i].pts != w.pts || ss[i].dur != w.dur {
			t.Errorf("frame %d at %v for %v, want %v for %v", i, ss[i].pts, ss[i].dur, w.pts, w.dur)
		}
	}
}

// TestOggDamagedPage checks that a page with a bad checksum loses its
// packets only: the packets after it keep their times.
func TestOggDamagedPage(t *testing.T) {
	src := mediatest.Testdata(t, "opus-stereo.ogg")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := drain(t, openTestdata(t, "opus-stereo.ogg", Options{}).src)
	if err != nil {
		t.Fatal(err)
	}
	// Damage the end of the first audio page (the third page). (A lost
	// page just before a trimmed last page would shift that page's
	// packets by the trim: there is no telling it from a gap.)
	off := 0
	for range 3 {
		i := bytes.Index(data[off+1:], []byte("OggS"))
		off += 1 + i
	}
	data[off-10] ^= 0xff
	p := filepath.Join(t.TempDir(), "damaged.ogg")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ss, err := drain(t, f.src)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) >= len(whole) || len(ss) < len(whole)-60 {
		t.Fatalf("%d packets of %d", len(ss), len(whole))
	}
	// Every packet left is one of the original ones, at its time.
	j := 0
	for _, s := range ss {
		for j < len(whole) && !bytes.Equal(whole[j].data, s.data) {
			j++
		}
		if j == len(whole) {
			t.Fatal("a packet is not in the original")
		}
		if whole[j].pts != s.pts || whole[j].dur != s.dur {
			t.Errorf("packet %d at %v for %v, was at %v for %v", j, s.pts, s.dur, whole[j].pts, whole[j].dur)
		}
	}
}

func TestDetect(t *testing.T) {
	ebml := func(doc string) []byte {
		b := []byte{0x1a, 0x45, 0xdf, 0xa3, byte(0x80 | (7 + len(doc))), 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, byte(0x80 | len(doc))}
		return append(b, doc...)
	}
	cases := []struct {
		head []byte
		name string
		want Format
		err  error
	}{
		{[]byte("DKIF\x00\x00\x20\x00VP80"), "x", FormatIVF, nil},
		{[]byte("OggS\x00\x02"), "x.bin", FormatOgg, nil},
		{[]byte("RIFF\x00\x00\x00\x00WAVEfmt "), "x.ivf", FormatWAV, nil},
		{ebml("webm"), "x.mkv", FormatWebM, nil},
		{ebml("matroska"), "x.webm", FormatMatroska, nil},
		{ebml("foo"), "x.webm", "", ErrUnknownFormat},
		{[]byte{0x1a, 0x45, 0xdf, 0xa3}, "x.webm", FormatWebM, nil},
		{[]byte{0x1a, 0x45, 0xdf, 0xa3}, "x", FormatMatroska, nil},
		{[]byte{0, 0, 0, 1, 0x67, 0x42}, "x", FormatH264, nil},
		{[]byte{0, 0, 1, 0x09, 0xf0}, "x", FormatH264, nil},
		{[]byte{0, 0, 1, 0xe7}, "x", "", ErrUnknownFormat}, // forbidden bit
		{[]byte{0, 0, 1, 0x40}, "x.264", FormatH264, nil},  // by extension
		{[]byte("garbage"), "x.OPUS", FormatOgg, nil},
		{[]byte("garbage"), "x.wav", FormatWAV, nil},
		{[]byte("garbage"), "x.h264", FormatH264, nil},
		{[]byte("garbage"), "x.mkv", FormatMatroska, nil},
		{[]byte("garbage"), "x.webm", FormatWebM, nil},
		{[]byte("garbage"), "x.mp4", "", ErrUnknownFormat},
		{nil, "", "", ErrUnknownFormat},
	}
	for _, c := range cases {
		got, err := detect(c.head, c.name)
		if got != c.want || !errors.Is(err, c.err) || (err == nil) != (c.err == nil) {
			t.Errorf("detect(%q, %q) = %q, %v; want %q, %v", c.head, c.name, got, err, c.want, c.err)
		}
	}
}

// smallOggStream is a whole small Ogg Opus stream: five 20 ms packets,
// 10 ms pre-skip, pages of 40 ms, the last packet trimmed to end at 85 ms.
func smallOggStream(tb testing.TB) []byte {
	tb.Helper()
	var b bytes.Buffer
	h := opus.DefaultHead(1, 48000)
	h.PreSkip = 480
	w, err := ogg.NewOpusWriter(&b, h, opus.Tags{Vendor: "x"}, ogg.OpusWriterOptions{Serial: 7, MaxPageDuration: 40 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range 5 {
		if err := w.WritePacket([]byte{0xf8, byte(i), 1, 2, 3}, time.Duration(i)*20*time.Millisecond-10*time.Millisecond); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.CloseAt(85 * time.Millisecond); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func TestOggSmallStream(t *testing.T) {
	data := smallOggStream(t)
	b := bytes.NewBuffer(data)
	info, err := openOgg(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if !info.hasDur || info.dur != 85*time.Millisecond {
		t.Errorf("Duration %v %v, want 85ms", info.dur, info.hasDur)
	}
	if c := info.codecs[0]; c.MimeType != "audio/opus" || c.Channels != 1 || c.ClockRate != 48000 {
		t.Errorf("codec %+v", c)
	}
	ss, err := drain(t, info.src)
	if err != nil {
		t.Fatal(err)
	}
	checkSpacing(t, ss, 5, -10*time.Millisecond, 20*time.Millisecond, 15*time.Millisecond)
}

func TestOggSecondStream(t *testing.T) {
	// A stream of another codec first: its BOS page comes first, its
	// pages are interleaved with the Opus ones.
	data, err := os.ReadFile(mediatest.Testdata(t, "opus-stereo.ogg"))
	if err != nil {
		t.Fatal(err)
	}
	other := ogg.Page{Flags: ogg.FlagBOS, Serial: 99, Segments: []byte{10}, Body: []byte("\x80theora\x03\x02\x01")}
	pb, err := other.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	other.Flags, other.Sequence, other.Granule = 0, 1, 0
	pb2, err := other.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// BOS pages first, then the other stream's second page among the
	// Opus pages (after OpusTags, at byte 121).
	mixed := append(append(append(append([]byte(nil), pb...), data[:121]...), pb2...), data[121:]...)
	info, err := openOgg(bytes.NewReader(mixed), int64(len(mixed)))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := drain(t, info.src)
	if err != nil {
		t.Fatal(err)
	}
	checkSpacing(t, ss, 101, -6500*time.Microsecond, 20*time.Millisecond, 6500*time.Microsecond)

	// Only the other stream: no Opus.
	if _, err := openOgg(bytes.NewReader(pb), int64(len(pb))); !errors.Is(err, ErrUnsupportedCodec) {
		t.Errorf("Ogg without Opus: %v", err)
	}
}

func TestWebMSource(t *testing.T) {
	info, err := openWebM(bytes.NewReader(webmSeed(t, "matroska")))
	if err != nil {
		t.Fatal(err)
	}
	if len(info.codecs) != 3 || info.codecs[0].MimeType != "video/VP8" || info.codecs[1].MimeType != "audio/opus" ||
		info.codecs[1].Channels != 2 || info.codecs[2].MimeType != "video/H264" {
		t.Fatalf("codecs %+v", info.codecs)
	}
	ss, err := drain(t, info.src)
	if err != nil {
		t.Fatal(err)
	}
	// The writer stores milliseconds: 0, 33, 67. The last frame of a
	// video track lasts as long as the one before it.
	ms := time.Millisecond
	want := []struct {
		track    int
		pts, dur time.Duration
	}{
		{0, 0, 33 * ms}, {1, -6500 * time.Microsecond, 20 * ms}, {2, 0, 33 * ms},
		{0, 33 * ms, 34 * ms}, {1, 26500 * time.Microsecond, 20 * ms}, {2, 33 * ms, 33 * ms},
		{0, 67 * ms, 34 * ms}, {1, 60500 * time.Microsecond, 20 * ms},
	}
	if len(ss) != len(want) {
		t.Fatalf("%d frames, want %d", len(ss), len(want))
	}
	for i, w := range want {
		if s := ss[i]; s.track != w.track || s.pts != w.pts || s.dur != w.dur {
			t.Errorf("frame %d: track %d at %v for %v, want track %d at %v for %v", i, s.track, s.pts, s.dur, w.track, w.pts, w.dur)
		}
	}
	if !h264.IsAnnexB(ss[2].data) || !h264.IsKeyFrame(ss[2].data) || !hasSPS(ss[2].data) {
		t.Error("the H.264 key frame is not an Annex B access unit with its SPS")
	}
}

func TestWebMH264Prefix(t *testing.T) {
	// avcC with 2-byte NAL unit lengths, and a key frame without SPS/PPS:
	// they come from the avcC, before the first key frame only.
	sps := []byte{0x67, 0x42, 0xc0, 0x0d, 0xda, 0x05, 0x07, 0xec, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0f, 0x03, 0xc5, 0x0a, 0xa8}
	pps := []byte{0x68, 0xce, 0x0f, 0xc8}
	avcc, err := h264.AVCDecoderConfigurationRecord([][]byte{sps}, [][]byte{pps})
	if err != nil {
		t.Fatal(err)
	}
	avcc[4] = 0xfc | 1 // lengthSizeMinusOne 1
	idr := []byte{0x65, 0x88, 0x84, 0x00}
	p := []byte{0x41, 0x9a, 0x02}
	frame := func(nalus ...[]byte) []byte {
		var b []byte
		for _, n := range nalus {
			b = append(b, byte(len(n)>>8), byte(len(n)))
			b = append(b, n...)
		}
		return b
	}
	var b bytes.Buffer
	w, err := webm.NewWriter(&b, webm.Options{DocType: "matroska", Tracks: []webm.TrackEntry{
		{Number: 1, Type: webm.TrackTypeVideo, CodecID: "V_MPEG4/ISO/AVC", CodecPrivate: avcc, PixelWidth: 64, PixelHeight: 64},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i, fr := range [][]byte{frame(p), frame(idr), frame(p), frame(idr)} {
		if err := w.WriteFrame(1, time.Duration(i)*40*time.Millisecond, fr[2] == 0x65, fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := openWebM(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := drain(t, info.src)
	if err != nil {
		t.Fatal(err)
	}
	sc := []byte{0, 0, 0, 1}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	want := [][]byte{cat(sc, p), cat(sc, sps, sc, pps, sc, idr), cat(sc, p), cat(sc, idr)}
	if len(ss) != len(want) {
		t.Fatalf("%d frames", len(ss))
	}
	for i, w := range want {
		if !bytes.Equal(ss[i].data, w) {
			t.Errorf("frame %d = % x, want % x", i, ss[i].data, w)
		}
		if ss[i].dur != 40*time.Millisecond {
			t.Errorf("frame %d lasts %v", i, ss[i].dur)
		}
	}
}
