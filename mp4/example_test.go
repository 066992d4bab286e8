package mp4_test

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/gomediarecorder/mediarecorder/mp4"
)

// A live Opus stream: the init segment goes out with NewWriter, and each
// Flush hands out whole fragments.
func ExampleNewWriter() {
	var out bytes.Buffer
	w, err := mp4.NewWriter(&out, mp4.Options{Tracks: []mp4.Track{
		{ID: 1, Type: mp4.TrackTypeAudio, Codec: mp4.CodecOpus, Channels: 2, PreSkip: 312},
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println("init segment:", out.Len(), "bytes")
	packet := []byte{0xfc, 0xff, 0xfe} // a 20 ms stereo CELT packet (TOC 0xfc)
	for i := range 25 {
		ts := time.Duration(i) * 20 * time.Millisecond
		if err := w.WriteSample(1, ts, 20*time.Millisecond, true, packet); err != nil {
			panic(err)
		}
	}
	if err := w.Flush(); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	fmt.Println("duration:", w.Duration())

	r, err := mp4.Probe(bytes.NewReader(out.Bytes()))
	if err != nil {
		panic(err)
	}
	t := r.Tracks[0]
	fmt.Println(t.Codec, t.Channels, t.SampleRate, t.Samples, t.Duration)
	fmt.Println("fragments:", r.Fragments, "seekable:", r.Seekable)
	for _, p := range r.Problems {
		fmt.Println(p)
	}
	// Output:
	// init segment: 616 bytes
	// duration: 500ms
	// Opus 2 48000 25 500ms
	// fragments: 1 seekable: false
	// no duration in mvhd or mehd
	// no index (mfra or sidx)
}

// Probe describes a recording Chromium made (only its first fragment).
func ExampleProbe() {
	f, err := os.Open("testdata/chrome-av-5s-head.mp4")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	r, err := mp4.Probe(f)
	if err != nil {
		panic(err)
	}
	fmt.Println(r.MajorBrand, r.CompatibleBrands)
	for _, t := range r.Tracks {
		fmt.Printf("track %d: %s %s %dx%d %d ch, %d samples (%d sync), %v\n",
			t.ID, t.Type, t.Codec, t.Width, t.Height, t.Channels, t.Samples, t.SyncSamples, t.Duration)
	}
	fmt.Println(r.Duration, r.DurationSource, r.Fragments)
	for _, p := range r.Problems {
		fmt.Println(p)
	}
	// Output:
	// isom [isom iso6 iso2 vp09 mp41]
	// track 1: audio Opus 0x0 1 ch, 11 samples (11 sync), 621ms
	// track 2: video vp09 640x480 0 ch, 12 samples (1 sync), 597.95ms
	// 4.998s mvhd 1
	// track 1: mdhd duration 102.9375ms, but its samples last 621ms
	// track 2: mdhd duration 249.9ms, but its samples last 597.95ms
	// mvhd duration 4.998s, but the samples last 621ms
	// no index (mfra or sidx)
}
