package mediarecorder_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/gomediarecorder/mediarecorder"
)

// pcm returns 20 ms of 48 kHz mono 16-bit PCM: a quiet ramp.
func pcm(i int) mediarecorder.Sample {
	b := make([]byte, 960*2)
	for j := range b {
		b[j] = byte(i + j)
	}
	return mediarecorder.Sample{Data: b, Duration: 20 * time.Millisecond}
}

// Record a track into memory: the blobs of dataavailable events,
// concatenated, are one file.
func Example() {
	audio := mediarecorder.NewSampleTrack(mediarecorder.Codec{MimeType: "audio/PCM", ClockRate: 48000, Channels: 1})
	rec, err := mediarecorder.New(mediarecorder.NewStream(audio), mediarecorder.Options{MimeType: "audio/webm"})
	if err != nil {
		log.Fatal(err) // a *DOMException: NotSupportedError for a type it cannot record
	}
	var file bytes.Buffer
	rec.OnStart(func() { fmt.Println("start") })
	rec.OnDataAvailable(func(e mediarecorder.BlobEvent) {
		fmt.Println("dataavailable:", e.Data.Type())
		file.Write(e.Data.Bytes())
	})
	rec.OnStop(func() { fmt.Println("stop") })

	if err := rec.Start(0); err != nil {
		log.Fatal(err)
	}
	for i := range 50 { // one second
		if err := audio.WriteSampleWait(pcm(i)); err != nil {
			log.Fatal(err)
		}
	}
	if err := rec.Stop(); err != nil {
		log.Fatal(err)
	}
	if err := rec.Wait(context.Background()); err != nil { // the stop event has been delivered
		log.Fatal(err)
	}
	fmt.Printf("a WebM file: %t\n", bytes.HasPrefix(file.Bytes(), []byte{0x1a, 0x45, 0xdf, 0xa3}))
	// Output:
	// start
	// dataavailable: audio/webm;codecs=pcm
	// stop
	// a WebM file: true
}

// Record straight into a file: it is finished (Duration, Cues) once Done is
// closed, and only then may it be closed.
func ExampleRecorder_StartFile() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	f, err := os.Create(filepath.Join(dir, "out.webm"))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	audio := mediarecorder.NewSampleTrack(mediarecorder.Codec{MimeType: "audio/PCM", ClockRate: 48000, Channels: 1})
	rec, err := mediarecorder.New(mediarecorder.NewStream(audio), mediarecorder.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if err := rec.StartFile(f, 0); err != nil {
		log.Fatal(err)
	}
	for i := range 50 {
		if err := audio.WriteSampleWait(pcm(i)); err != nil {
			log.Fatal(err)
		}
	}
	audio.Stop() // every track ended: the recorder stops by itself
	<-rec.Done()
	if err := rec.Wait(context.Background()); err != nil {
		log.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("state:", rec.State())
	fmt.Println("more than a second of PCM:", st.Size() > 96000)
	// Output:
	// state: inactive
	// more than a second of PCM: true
}

// Stop on an inactive recorder is an InvalidStateError.
func ExampleRecorder_Stop_inactive() {
	audio := mediarecorder.NewSampleTrack(mediarecorder.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2})
	rec, err := mediarecorder.New(mediarecorder.NewStream(audio), mediarecorder.Options{})
	if err != nil {
		log.Fatal(err)
	}
	err = rec.Stop()
	fmt.Println(err)
	// Output:
	// InvalidStateError: stop() while inactive
}

func ExampleIsTypeSupported() {
	for _, t := range []string{"video/webm;codecs=vp9,opus", "video/mp4;codecs=avc1,opus", "audio/ogg;codecs=opus", "video/webm;codecs=h264", "audio/banana"} {
		fmt.Println(t, mediarecorder.IsTypeSupported(t))
	}
	// Output:
	// video/webm;codecs=vp9,opus true
	// video/mp4;codecs=avc1,opus true
	// audio/ogg;codecs=opus true
	// video/webm;codecs=h264 false
	// audio/banana false
}
