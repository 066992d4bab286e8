package filesource_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gomediarecorder/mediarecorder/filesource"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// writeFile writes data to a new file named name and returns its path.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// wavHeader returns a RIFF WAVE header with a fmt chunk fmtBody and a data
// chunk header declaring dataLen bytes.
func wavHeader(fmtBody []byte, dataLen uint32) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WAVE")
	b = append(b, "fmt "...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(fmtBody)))
	b = append(b, fmtBody...)
	if len(fmtBody)%2 == 1 {
		b = append(b, 0)
	}
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, dataLen)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8)+dataLen)
	return b
}

// wavFmt returns a 16-byte fmt chunk body.
func wavFmt(tag, channels uint16, rate uint32, bits uint16) []byte {
	align := channels * bits / 8
	b := binary.LittleEndian.AppendUint16(nil, tag)
	b = binary.LittleEndian.AppendUint16(b, channels)
	b = binary.LittleEndian.AppendUint32(b, rate)
	b = binary.LittleEndian.AppendUint32(b, rate*uint32(align))
	b = binary.LittleEndian.AppendUint16(b, align)
	return binary.LittleEndian.AppendUint16(b, bits)
}

// wavExtensible returns a WAVE_FORMAT_EXTENSIBLE fmt body with subformat sub.
func wavExtensible(channels uint16, rate uint32, sub uint16) []byte {
	b := wavFmt(0xfffe, channels, rate, 16)
	b = binary.LittleEndian.AppendUint16(b, 22)
	b = binary.LittleEndian.AppendUint16(b, 16) // valid bits
	b = binary.LittleEndian.AppendUint32(b, 3)  // channel mask
	b = binary.LittleEndian.AppendUint16(b, sub)
	return append(b, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71)
}

func ivfHeader(fourcc string, frames uint32) []byte {
	b := []byte("DKIF\x00\x00\x20\x00")
	b = append(b, fourcc...)
	b = binary.LittleEndian.AppendUint16(b, 320)
	b = binary.LittleEndian.AppendUint16(b, 240)
	b = binary.LittleEndian.AppendUint32(b, 30)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, frames)
	return binary.LittleEndian.AppendUint32(b, 0)
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	pcm := make([]byte, 100)
	cases := []struct {
		name string
		path string
		want error
	}{
		{"missing", filepath.Join(dir, "nope.ivf"), fs.ErrNotExist},
		{"directory", dir, filesource.ErrUnknownFormat},
		{"not-a-directory", filepath.Join(writeFile(t, "file", []byte("x")), "x.ivf"), syscall.ENOTDIR},
		{"empty", writeFile(t, "empty.ivf", nil), filesource.ErrEmptyFile},
		{"empty-noext", writeFile(t, "empty", nil), filesource.ErrEmptyFile},
		{"garbage", writeFile(t, "garbage.bin", []byte("hello, this is not media")), filesource.ErrUnknownFormat},
		{"garbage-ivf", writeFile(t, "garbage.ivf", []byte("hello, this is not media")), filesource.ErrInvalidFile},
		{"ivf-short-header", writeFile(t, "short.ivf", []byte("DKIF\x00\x00\x20\x00VP80")), filesource.ErrTruncated},
		{"ivf-fourcc", writeFile(t, "h265.ivf", ivfHeader("H265", 0)), filesource.ErrUnsupportedCodec},
		{"ivf-timebase", writeFile(t, "tb.ivf", append(ivfHeader("VP80", 0)[:16], make([]byte, 16)...)), filesource.ErrInvalidFile},
		{"wav-float", writeFile(t, "float.wav", append(wavHeader(wavFmt(3, 1, 48000, 32), 100), pcm...)), filesource.ErrUnsupportedCodec},
		{"wav-24bit", writeFile(t, "24.wav", append(wavHeader(wavFmt(1, 1, 48000, 24), 99), pcm[:99]...)), filesource.ErrUnsupportedCodec},
		{"wav-alaw", writeFile(t, "alaw.wav", append(wavHeader(wavFmt(6, 1, 8000, 8), 100), pcm...)), filesource.ErrUnsupportedCodec},
		{"wav-ext-float", writeFile(t, "extf.wav", append(wavHeader(wavExtensible(2, 48000, 3), 100), pcm...)), filesource.ErrUnsupportedCodec},
		{"wav-no-data", writeFile(t, "nodata.wav", wavHeader(wavFmt(1, 1, 48000, 16), 0)[:36]), filesource.ErrInvalidFile},
		{"wav-no-fmt", writeFile(t, "nofmt.wav", []byte("RIFF\x04\x00\x00\x00WAVE")), filesource.ErrInvalidFile},
		{"wav-short-fmt", writeFile(t, "shortfmt.wav", []byte("RIFF\x10\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00")), filesource.ErrTruncated},
		{"wav-zero-rate", writeFile(t, "rate.wav", append(wavHeader(wavFmt(1, 1, 0, 16), 100), pcm...)), filesource.ErrInvalidFile},
		{"h264-no-au", writeFile(t, "x.h264", []byte{0, 0, 0, 1}), filesource.ErrInvalidFile},
		{"ogg-garbage", writeFile(t, "x.ogg", []byte("OggS but not really a page at all, no")), filesource.ErrInvalidFile},
		{"ogg-short", writeFile(t, "short.ogg", []byte("OggS\x00\x02")), filesource.ErrTruncated},
		{"ebml-doctype", writeFile(t, "x.mkv", []byte{0x1a, 0x45, 0xdf, 0xa3, 0x87, 0x42, 0x82, 0x84, 'a', 'b', 'c', 'd'}), filesource.ErrUnknownFormat},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := filesource.Open(c.path, filesource.Options{})
			if err == nil {
				f.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, c.want) {
				t.Errorf("Open: %v, want %v", err, c.want)
			}
			var fe *filesource.Error
			if !errors.As(err, &fe) || fe.Path != c.path {
				t.Errorf("Open: %v (%T) is not an *Error for %s", err, err, c.path)
			}
			if !strings.Contains(err.Error(), c.path) || !strings.HasPrefix(err.Error(), "filesource: ") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads everything")
	}
	p := writeFile(t, "secret.ivf", ivfHeader("VP80", 0))
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	_, err := filesource.Open(p, filesource.Options{})
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), p) {
		t.Errorf("Open: %v", err)
	}
}

func TestTruncatedIVF(t *testing.T) {
	src := mediatest.Testdata(t, "vp8.ivf")
	_, frames, err := mediatest.ReadIVF(src)
	if err != nil {
		t.Fatal(err)
	}
	// Cut inside frame 40: after its header and 10 bytes of its data.
	off := int64(32)
	for _, fr := range frames[:40] {
		off += 12 + int64(len(fr.Data))
	}
	p := cut(t, src, off+12+10, "cut.ivf")
	f := open(t, p, filesource.Options{})
	r := recordFiles(t, context.Background(), f)
	checkTruncated(t, r.playErr, p, off)
	mediatest.Decode(t, r.path)
	if got := mediatest.FFprobe(t, r.path).Streams[0].NbReadFrames; got != 40 {
		t.Errorf("recorded %d frames, want the 40 before the cut", got)
	}
}

func TestTruncatedOgg(t *testing.T) {
	src := mediatest.Testdata(t, "opus-stereo.ogg")
	p := cut(t, src, 10000, "cut.ogg")
	f := open(t, p, filesource.Options{})
	r := recordFiles(t, context.Background(), f)
	checkTruncated(t, r.playErr, p, -1)
	mediatest.Decode(t, r.path)
	got := mediatest.FFprobe(t, r.path).Streams[0].NbReadFrames
	if got < 40 || got > 60 {
		t.Errorf("recorded %d packets from half the file", got)
	}
}

func TestTruncatedWAV(t *testing.T) {
	src := mediatest.Testdata(t, "pcm.wav")
	p := cut(t, src, 44+48000*2-1, "cut.wav") // 1 s of audio, less one byte
	f := open(t, p, filesource.Options{})
	if d, ok := f.Duration(); !ok || d < 999*1e6 || d > 1e9 {
		t.Errorf("Duration = %v, %v; want 1 s (what the file holds)", d, ok)
	}
	r := recordFiles(t, context.Background(), f)
	checkTruncated(t, r.playErr, p, 44+48000*2-2)
	mediatest.Decode(t, r.path)
	if d := mediatest.FFprobe(t, r.path).Duration; d < 0.98 || d > 1.01 {
		t.Errorf("recorded %.3f s, want 1 s", d)
	}
}

// checkTruncated checks that err reports the truncation of path, at byte
// off unless off is -1.
func checkTruncated(t *testing.T, err error, path string, off int64) {
	t.Helper()
	if !errors.Is(err, filesource.ErrTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Play = %v, want a truncation error", err)
	}
	var fe *filesource.Error
	if !errors.As(err, &fe) || fe.Path != path || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	if fe != nil && (off >= 0 && fe.Offset != off || fe.Offset < 0) {
		t.Errorf("error at byte %d, want %d", fe.Offset, off)
	}
	if fe != nil && !strings.Contains(err.Error(), "at byte "+strconv.FormatInt(fe.Offset, 10)) {
		t.Errorf("error %q does not give the offset", err)
	}
	t.Log(err)
}

func TestPlayTwice(t *testing.T) {
	f := open(t, mediatest.Testdata(t, "pcm.wav"), filesource.Options{})
	defer f.Close()
	ctx := context.Background()
	if err := filesource.Play(ctx, []*filesource.File{f, f}, nil); !errors.Is(err, filesource.ErrPlayed) {
		t.Errorf("Play with a file twice = %v", err)
	}
	if err := filesource.Play(ctx, []*filesource.File{f}, nil); err != nil {
		t.Fatal(err)
	}
	if err := filesource.Play(ctx, []*filesource.File{f}, nil); !errors.Is(err, filesource.ErrPlayed) {
		t.Errorf("second Play = %v", err)
	}
	g := open(t, mediatest.Testdata(t, "pcm.wav"), filesource.Options{})
	g.Close()
	if g.Tracks()[0].ReadyState() != "ended" {
		t.Error("Close left the track live")
	}
	if err := filesource.Play(ctx, []*filesource.File{g}, nil); !errors.Is(err, filesource.ErrClosed) {
		t.Errorf("Play after Close = %v", err)
	}
	if err := filesource.Play(ctx, nil, nil); err != nil {
		t.Errorf("Play of nothing = %v", err)
	}
}
