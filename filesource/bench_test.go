package filesource_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/filesource"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/ogg"
)

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchFiles makes, once per test binary, the benchmark inputs: a 10 s
// VP8 IVF (1 Mb/s, libvpx realtime), the same frames looped to 10 minutes,
// and opus-stereo.ogg's 64 kb/s packets looped to 10 minutes.
func benchFiles(b *testing.B) (ivf10s, ivf10min, ogg10min string) {
	b.Helper()
	ffmpegBin := mediatest.RequireTool(b, "ffmpeg")
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "filesource-bench")
		if benchErr != nil {
			return
		}
		benchErr = makeBenchFiles(ffmpegBin, mediatest.Testdata(b, "opus-stereo.ogg"))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return filepath.Join(benchDir, "10s.ivf"), filepath.Join(benchDir, "10min.ivf"), filepath.Join(benchDir, "10min.ogg")
}

func makeBenchFiles(ffmpegBin, opusSrc string) error {
	short := filepath.Join(benchDir, "10s.ivf")
	out, err := execCombined(ffmpegBin, "-nostdin", "-v", "error", "-y", "-f", "lavfi",
		"-i", "testsrc2=size=640x360:rate=30:duration=10", "-pix_fmt", "yuv420p",
		"-c:v", "libvpx", "-b:v", "1M", "-g", "60", "-deadline", "realtime", "-cpu-used", "8", short)
	if err != nil {
		return errorf("ffmpeg: %v: %s", err, out)
	}
	h, frames, err := mediatest.ReadIVF(short)
	if err != nil {
		return err
	}
	// 60 loops of the 10 s: 10 minutes.
	long, err := os.Create(filepath.Join(benchDir, "10min.ivf"))
	if err != nil {
		return err
	}
	defer long.Close()
	hdr := make([]byte, 32)
	copy(hdr, "DKIF\x00\x00\x20\x00VP80")
	le16(hdr[12:], h.Width)
	le16(hdr[14:], h.Height)
	le32(hdr[16:], h.TimebaseDen)
	le32(hdr[20:], h.TimebaseNum)
	le32(hdr[24:], uint32(60*len(frames)))
	w := newBufWriter(long)
	w.Write(hdr)
	var fh [12]byte
	for loop := range 60 {
		for i, f := range frames {
			le32(fh[:], uint32(len(f.Data)))
			le64(fh[4:], uint64(loop*len(frames)+i))
			w.Write(fh[:])
			w.Write(f.Data)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	// Opus: the 101 packets of opus-stereo.ogg, looped 300 times.
	src, err := os.Open(opusSrc)
	if err != nil {
		return err
	}
	defer src.Close()
	pr := ogg.NewPacketReader(src)
	var pkts [][]byte
	for i := 0; ; i++ {
		p, _, err := pr.NextPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if i >= 2 {
			pkts = append(pkts, append([]byte(nil), p...))
		}
	}
	of, err := os.Create(filepath.Join(benchDir, "10min.ogg"))
	if err != nil {
		return err
	}
	defer of.Close()
	ow := newBufWriter(of)
	ogw, err := ogg.NewOpusWriter(ow, opus.DefaultHead(2, 48000), opus.Tags{Vendor: "bench"}, ogg.OpusWriterOptions{Serial: 1})
	if err != nil {
		return err
	}
	pts := -6500 * time.Microsecond
	for range 300 {
		for _, p := range pkts[:100] {
			if err := ogw.WritePacket(p, pts); err != nil {
				return err
			}
			pts += 20 * time.Millisecond
		}
	}
	if err := ogw.Close(); err != nil {
		return err
	}
	return ow.Flush()
}

// recordAll records files through a Recorder (one blob) and returns the
// blob's size.
func recordAll(b *testing.B, files []*filesource.File) int64 {
	var tracks []mr.Track
	for _, f := range files {
		for _, t := range f.Tracks() {
			tracks = append(tracks, t)
		}
	}
	rec, err := mr.New(mr.NewStream(tracks...), mr.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var size int64
	done := make(chan struct{})
	rec.OnDataAvailable(func(e mr.BlobEvent) { size += e.Data.Size() })
	rec.OnStop(func() { close(done) })
	if err := rec.Start(0); err != nil {
		b.Fatal(err)
	}
	if err := filesource.Play(context.Background(), files, nil); err != nil {
		b.Fatal(err)
	}
	<-done
	if s := rec.Stats(); s.Dropped > 0 || s.Skipped > 0 {
		b.Fatalf("recorder stats %+v", s)
	}
	return size
}

func openAll(b *testing.B, paths ...string) (files []*filesource.File, bytes int64) {
	for _, p := range paths {
		f, err := filesource.Open(p, filesource.Options{})
		if err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, f)
		bytes += fi.Size()
	}
	return files, bytes
}

// BenchmarkPlayIVF plays a 10 s, 1 Mb/s VP8 IVF (300 frames): "read"
// into tracks nobody records, "record" through a Recorder into one WebM
// blob. MB/s counts the input file.
func BenchmarkPlayIVF(b *testing.B) {
	short, _, _ := benchFiles(b)
	b.Run("read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			files, n := openAll(b, short)
			b.SetBytes(n)
			b.StartTimer()
			if err := filesource.Play(context.Background(), files, nil); err != nil {
				b.Fatal(err)
			}
			files[0].Close()
		}
	})
	b.Run("record", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			files, n := openAll(b, short)
			b.SetBytes(n)
			if recordAll(b, files) == 0 {
				b.Fatal("empty recording")
			}
			files[0].Close()
		}
	})
}

// BenchmarkRemux10Min is the remux target: 10 minutes of 1 Mb/s VP8 and
// 64 kb/s Opus (two files) through Open, Play, a Recorder and its WebM
// writer into one blob.
func BenchmarkRemux10Min(b *testing.B) {
	_, long, oggLong := benchFiles(b)
	b.ReportAllocs()
	for b.Loop() {
		files, n := openAll(b, long, oggLong)
		b.SetBytes(n)
		if recordAll(b, files) == 0 {
			b.Fatal("empty recording")
		}
		for _, f := range files {
			f.Close()
		}
	}
}
