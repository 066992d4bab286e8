package webm_test

import (
	"bytes"
	"fmt"
	"log"
	"time"

	"github.com/gomediarecorder/mediarecorder/webm"
)

func Example() {
	var buf bytes.Buffer // a live stream; pass an *os.File and Seekable: true for a finished file
	w, err := webm.NewWriter(&buf, webm.Options{
		Tracks: []webm.TrackEntry{
			{Number: 1, Type: webm.TrackTypeVideo, CodecID: "V_VP8", PixelWidth: 640, PixelHeight: 480},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	frames := [][]byte{{0x10, 0x02, 0x00}, {0x11, 0x02, 0x00}, {0x11, 0x02, 0x00}} // VP8 frames
	for i, f := range frames {
		ts := time.Duration(i) * time.Second / 30
		if err := w.WriteFrame(1, ts, i == 0, f); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(w.Duration().Round(time.Millisecond), w.Offset() == int64(buf.Len()))
	// Output:
	// 100ms true
}
