package filesource_test

import (
	"bytes"
	"context"
	"fmt"
	"log"

	mr "github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/filesource"
)

// Record a file: Open it, give its tracks to a Recorder, Play it. The
// recorder stops by itself when the tracks end.
func Example() {
	f, err := filesource.Open("../testdata/vp8.ivf", filesource.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	d, _ := f.Duration()
	fmt.Println(f.Format(), f.Tracks()[0].Codec().MimeType, d)

	var tracks []mr.Track
	for _, t := range f.Tracks() {
		tracks = append(tracks, t)
	}
	rec, err := mr.New(mr.NewStream(tracks...), mr.Options{})
	if err != nil {
		log.Fatal(err)
	}
	var webm []byte
	stopped := make(chan struct{})
	rec.OnDataAvailable(func(e mr.BlobEvent) { webm = append(webm, e.Data.Bytes()...) })
	rec.OnStop(func() { close(stopped) })
	if err := rec.Start(0); err != nil {
		log.Fatal(err)
	}
	if err := filesource.Play(context.Background(), []*filesource.File{f}, nil); err != nil {
		log.Fatal(err)
	}
	<-stopped
	s := rec.Stats()
	fmt.Println("EBML file:", bytes.HasPrefix(webm, []byte{0x1a, 0x45, 0xdf, 0xa3}), "dropped:", s.Dropped, "skipped:", s.Skipped)
	// Output:
	// ivf video/VP8 2s
	// EBML file: true dropped: 0 skipped: 0
}
