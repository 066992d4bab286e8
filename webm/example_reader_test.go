package webm_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/gomediarecorder/mediarecorder/webm"
)

// liveStream returns a short live stream, as a browser's MediaRecorder
// hands it out: unknown sizes, no Duration, no Cues.
func liveStream() []byte {
	var buf bytes.Buffer
	w, err := webm.NewWriter(&buf, webm.Options{Tracks: []webm.TrackEntry{
		{Number: 1, Type: webm.TrackTypeVideo, CodecID: "V_VP8", PixelWidth: 640, PixelHeight: 480},
	}})
	if err != nil {
		log.Fatal(err)
	}
	for i := range 3 {
		if err := w.WriteFrame(1, time.Duration(i)*40*time.Millisecond, i == 0, []byte{byte(i)}); err != nil {
			log.Fatal(err)
		}
	}
	return buf.Bytes()
}

func ExampleReader() {
	r, err := webm.NewReader(bytes.NewReader(liveStream()))
	if err != nil {
		log.Fatal(err)
	}
	h := r.Header()
	fmt.Println(h.DocType, h.Tracks[0].CodecID, h.SegmentSize)
	for {
		f, err := r.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err) // a *webm.TruncatedError when the input was cut short
		}
		fmt.Println(f.Track, f.Timestamp, f.KeyFrame, f.Data)
	}
	// Output:
	// webm V_VP8 -1
	// 1 0s true [0]
	// 1 40ms false [1]
	// 1 80ms false [2]
}

func ExampleFix() {
	out, err := os.CreateTemp("", "fixed-*.webm")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(out.Name())
	defer out.Close()
	rep, err := webm.Fix(out, bytes.NewReader(liveStream()), webm.FixOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rep.Frames, rep.Duration)
	for _, p := range rep.Problems {
		fmt.Println(p)
	}
	out.Seek(0, io.SeekStart)
	p, err := webm.Probe(out)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Seekable, p.Duration, len(p.Problems))
	// Output:
	// 3 120ms
	// unknown-size Segment
	// unknown-size Clusters (1 of 1)
	// no Duration
	// no Cues
	// no SeekHead
	// true 120ms 0
}
