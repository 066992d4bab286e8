package mediarecorder_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// BenchmarkRecorder measures the whole path of one sample: SampleTrack →
// recorder buffer → interleaving → WebM muxer → blob, for ~1 KB VP8 frames
// (real frames from testdata, looped) recorded with a 1 s timeslice.
func BenchmarkRecorder(b *testing.B) {
	_, frames, err := mediatest.ReadIVF(mediatest.Testdata(b, "vp8.ivf"))
	if err != nil {
		b.Fatal(err)
	}
	// Frames of about 1 KB: the key frame (so the file starts right) and
	// deltas near 1 KB.
	samples := []mr.Sample{{Data: frames[0].Data, Duration: time.Second / 30}}
	for _, f := range frames[1:30] {
		samples = append(samples, mr.Sample{Data: f.Data, Duration: time.Second / 30})
	}
	var bytes int
	for _, s := range samples {
		bytes += len(s.Data)
	}
	tr := mr.NewSampleTrack(mr.Codec{MimeType: "video/VP8", ClockRate: 90000})
	r, err := mr.New(mr.NewStream(tr), mr.Options{})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	var out int64
	r.OnDataAvailable(func(e mr.BlobEvent) { out += e.Data.Size() })
	r.OnStop(func() { close(done) })
	if err := r.Start(time.Second); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(bytes / len(samples)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// WriteSampleWait lets the recorder keep up: the benchmark
		// measures the work, not drops of a full buffer.
		if err := tr.WriteSampleWait(samples[i%len(samples)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := r.Stop(); err != nil {
		b.Fatal(err)
	}
	<-done
	b.StopTimer()
	if d := r.Stats().Dropped; d != 0 {
		b.Fatalf("%d samples dropped", d)
	}
	if out == 0 {
		b.Fatal("no output")
	}
}

// BenchmarkRecordFileHour records one hour of media (the VP8 and Opus test
// clips, looped) into a file, fed faster than real time, and reports the
// peak heap and the heap after 10 and 60 minutes of media: the memory of a
// file recording must not grow with its length (target: peak < 16 MiB).
func BenchmarkRecordFileHour(b *testing.B) {
	v := loadIVF(b, "vp8.ivf", "video/VP8")
	a := loadOpus(b, "opus-stereo.ogg")
	for range b.N {
		path := filepath.Join(b.TempDir(), "hour.webm")
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		fd := newFeeder(v, a)
		fd.loop, fd.wait = true, true
		r, err := mr.New(fd.stream(), mr.Options{})
		if err != nil {
			b.Fatal(err)
		}
		c := collect(r)
		runtime.GC()
		var peak uint64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		heapAt := func() float64 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return float64(ms.HeapAlloc) / (1 << 20)
		}
		if err := r.StartFile(f, 0); err != nil {
			b.Fatal(err)
		}
		fd.feedUntil(b, 10*time.Minute)
		at10 := heapAt()
		fd.feedUntil(b, 60*time.Minute)
		at60 := heapAt()
		must(b, r.Stop())
		c.wait(b)
		close(stop)
		<-sampled
		st, _ := f.Stat()
		f.Close()
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(at10, "heap-10min-MiB")
		b.ReportMetric(at60, "heap-60min-MiB")
		b.ReportMetric(float64(st.Size())/(1<<20), "file-MiB")
		if r.Stats().Dropped != 0 {
			b.Fatalf("dropped %d", r.Stats().Dropped)
		}
	}
}
