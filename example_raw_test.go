package mediarecorder_test

import (
	"fmt"
	"math"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	_ "github.com/gomediarecorder/mediarecorder/encode/opus" // registers the Opus encoder
)

// A raw audio track (PCM) recorded as Opus in Ogg: the recorder encodes it
// at its audioBitsPerSecond.
func ExampleNewAudioTrack() {
	mic, err := mr.NewAudioTrack(48000, 1)
	if err != nil {
		panic(err)
	}
	rec, err := mr.New(mr.NewStream(mic), mr.Options{MimeType: "audio/ogg", AudioBitsPerSecond: 32000, AudioBitrateMode: mr.BitrateConstant})
	if err != nil {
		panic(err)
	}
	var size int64
	stopped := make(chan struct{})
	rec.OnDataAvailable(func(e mr.BlobEvent) { size += e.Data.Size() })
	rec.OnStop(func() { close(stopped) })
	if err := rec.Start(0); err != nil {
		panic(err)
	}
	start := mr.Now()
	pcm := make([]int16, 480) // 10 ms
	for i := range 100 {      // 1 s of a 440 Hz tone
		for j := range pcm {
			pcm[j] = int16(8000 * math.Sin(2*math.Pi*440*float64(i*480+j)/48000))
		}
		mic.WaitRoom()
		if err := mic.WriteInt16At(pcm, start+time.Duration(i)*10*time.Millisecond); err != nil {
			panic(err)
		}
	}
	mic.Stop() // the recording ends with its track
	<-stopped
	fmt.Println(size > 4000 && size < 5000) // 1 s at 32 kb/s, plus the Ogg pages and headers
	// Output: true
}
