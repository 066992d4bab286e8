package mediarecorder_test

import (
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
