// Command files records media files into one seekable file: the tracks of
// every input (IVF, Ogg Opus, H.264 Annex B, WAV, WebM/Matroska) go to one
// Recorder, which writes them side by side, in sync, without transcoding.
// Run it from the module root:
//
//	go run ./examples/files -o out.webm testdata/vp8.ivf testdata/opus-stereo.ogg
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/filesource"
)

func main() {
	out := flag.String("o", "out.webm", "output file")
	mime := flag.String("mime", "", `MIME type, e.g. "video/x-matroska" (default: the recorder's choice)`)
	flag.Parse()
	if flag.NArg() == 0 {
		log.Fatal("usage: files [-o out.webm] [-mime type] input...")
	}
	if err := record(context.Background(), *out, *mime, flag.Args()...); err != nil {
		log.Fatal(err)
	}
}

// record records the tracks of inputs into the file out.
func record(ctx context.Context, out, mime string, inputs ...string) error {
	var files []*filesource.File
	var tracks []mediarecorder.Track
	for _, in := range inputs {
		f, err := filesource.Open(in, filesource.Options{})
		if err != nil {
			return err
		}
		defer f.Close()
		files = append(files, f)
		for _, t := range f.Tracks() {
			tracks = append(tracks, t)
		}
	}
	stream := mediarecorder.NewStream(tracks...)
	// Refuse what Start would refuse before creating the file.
	if _, _, err := mediarecorder.ContainerFor(stream, mime); err != nil {
		return err
	}
	rec, err := mediarecorder.New(stream, mediarecorder.Options{MimeType: mime})
	if err != nil {
		return err
	}
	w, err := os.Create(out)
	if err != nil {
		return err
	}
	defer w.Close()
	if err := rec.StartFile(w, 0); err != nil {
		return err
	}
	// Play feeds the tracks as fast as the recorder takes them and stops
	// them at the end of each file; the recorder stops when all have ended.
	if err := filesource.Play(ctx, files, nil); err != nil {
		return err
	}
	if err := rec.Wait(ctx); err != nil { // the file is finished: Duration, Cues
		return err
	}
	fmt.Printf("%s: %d tracks, %v\n", out, len(tracks), rec.Duration().Round(time.Millisecond))
	return w.Close()
}
