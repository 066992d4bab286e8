package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	_ "github.com/gomediarecorder/mediarecorder/encode/opus" // raw audio (WAV with Y4M) to Opus
	_ "github.com/gomediarecorder/mediarecorder/encode/vpx"  // raw video (Y4M) to VP8/VP9: built with -tags libvpx
	"github.com/gomediarecorder/mediarecorder/filesource"
	"github.com/gomediarecorder/mediarecorder/rtpsource"
)

// recordCmd: record -o OUT [-mime TYPE] [-timeslice D] [-duration D] [-realtime] INPUT...
func recordCmd(fs *flag.FlagSet, stdout, stderr io.Writer) func() error {
	out := fs.String("o", "", "output file (required); written to a temporary file and renamed when complete")
	mime := fs.String("mime", "", "MIME type of the recording, e.g. video/webm;codecs=vp8,opus (default: the recorder's choice)")
	timeslice := fs.Duration("timeslice", 0, "deliver the recording in blobs of this much media (0: one blob)")
	duration := fs.Duration("duration", 0, "stop after this much wall time (0: at the end of the inputs)")
	realtime := fs.Bool("realtime", false, "feed the inputs in real time instead of as fast as possible")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: mediarecorder record -o OUT [flags] INPUT...\n\n"+
			"Records the tracks of the inputs (IVF, Ogg Opus, H.264 Annex B, WAV, WebM/Matroska,\n"+
			"Y4M raw video, encoded; with it WAV is encoded too)\n"+
			"through a MediaRecorder into OUT, a finished, seekable file.\n\n")
		fs.PrintDefaults()
	}
	return func() error {
		if *out == "" {
			return usageError{"-o OUT is required"}
		}
		if fs.NArg() == 0 {
			return usageError{"no INPUT"}
		}
		if *timeslice < 0 || *duration < 0 {
			return usageError{"-timeslice and -duration must not be negative"}
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if *duration > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, *duration)
			defer cancel()
		}
		return record(ctx, recordConfig{
			out: *out, mime: *mime, timeslice: *timeslice, realtime: *realtime,
			inputs: fs.Args(), stderr: stderr,
		})
	}
}

// rtpIdle ends an RTP input that has sent nothing for this long.
const rtpIdle = 10 * time.Second

type recordConfig struct {
	out, mime string
	timeslice time.Duration
	realtime  bool
	inputs    []string
	stderr    io.Writer
}

// record runs one recording through the Recorder's public API: New,
// StartFile, the events, Stop (by the end of the inputs).
func record(ctx context.Context, c recordConfig) error {
	var files []*filesource.File
	var rtps []*rtpsource.UDPSource
	defer func() {
		for _, f := range files {
			f.Close()
		}
		for _, r := range rtps {
			r.Close()
		}
	}()
	var tracks []mr.Track
	var total time.Duration
	// With raw video (Y4M) the recording encodes, as a browser's does:
	// WAV audio then goes to Opus too, instead of staying PCM.
	encoding := false
	for _, in := range c.inputs {
		encoding = encoding || strings.EqualFold(filepath.Ext(in), ".y4m")
	}
	for _, in := range c.inputs {
		if strings.EqualFold(filepath.Ext(in), ".sdp") {
			src, err := rtpsource.ListenSDP(in, rtpsource.Options{})
			if err != nil {
				return err
			}
			rtps = append(rtps, src)
			for _, t := range src.Tracks() {
				tracks = append(tracks, t)
			}
			continue
		}
		f, err := filesource.Open(in, filesource.Options{Realtime: c.realtime, RawAudio: encoding})
		if err != nil {
			return err
		}
		files = append(files, f)
		tracks = append(tracks, f.AllTracks()...)
		if d, ok := f.Duration(); ok {
			total = max(total, d)
		}
	}
	rec, err := mr.New(mr.NewStream(tracks...), mr.Options{MimeType: c.mime})
	if err != nil {
		return fmt.Errorf("%s: %w", c.out, err)
	}
	tmp, err := createTemp(c.out)
	if err != nil {
		return err
	}
	done := make(chan struct{})
	var recErr error
	var typ string
	rec.OnDataAvailable(func(e mr.BlobEvent) { typ = e.Data.Type() })
	rec.OnError(func(err error) { recErr = err })
	rec.OnStop(func() { close(done) })
	// Live inputs (RTP, -realtime) are recorded crash-safe: flushed every
	// second, fsync'd every 5 s and at the end. A remux of files at full
	// speed is not live: a crash loses only the temporary file, and the
	// inputs are still there, so it leaves durability to the kernel.
	live := c.realtime || len(rtps) > 0
	var w io.WriteSeeker = tmp
	if !live {
		w = unsynced{tmp}
	}
	if err := rec.StartFile(w, c.timeslice); err != nil {
		discard(tmp)
		return fmt.Errorf("%s: %w", c.out, err)
	}

	bar := newProgress(c.stderr, total.Milliseconds(), 3000, "recording", false)
	var fed time.Duration
	// RTP streams run until -duration, SIGINT/SIGTERM, or 10 s of silence;
	// files until their end.
	rtpErrs := make(chan error, len(rtps))
	for _, src := range rtps {
		go func() { rtpErrs <- src.Run(ctx, rtpIdle) }()
	}
	var playErr error
	if len(files) > 0 {
		label := "recording"
		if encoding {
			label = "encoding"
		}
		began := time.Now()
		playErr = filesource.Play(ctx, files, func(d time.Duration) {
			fed = d
			bar.set(d.Milliseconds())
			if el := time.Since(began); el > 0 {
				bar.describe(fmt.Sprintf("%s %.1fx", label, d.Seconds()/el.Seconds())) // media time per wall time
			}
		})
	}
	for range rtps {
		playErr = errors.Join(playErr, <-rtpErrs)
	}
	bar.done()
	// The tracks have ended (or were stopped): the recorder stops by
	// itself; Stop covers a recorder still running.
	stopErr := rec.Stop()
	if errors.Is(stopErr, mr.ErrInvalidState) {
		stopErr = nil // it had stopped already
	}
	<-done
	recErr = errors.Join(recErr, stopErr)
	switch {
	case playErr != nil && !errors.Is(playErr, context.Canceled) && !errors.Is(playErr, context.DeadlineExceeded):
		discard(tmp)
		return playErr
	case recErr != nil:
		discard(tmp)
		return fmt.Errorf("%s: %w", c.out, recErr)
	}
	if st := rec.Stats(); st.Skipped > 0 || st.Dropped > 0 {
		fmt.Fprintf(c.stderr, "mediarecorder record: %s: %d samples skipped, %d dropped\n", c.out, st.Skipped, st.Dropped)
	}
	if err := commit(tmp, c.out, live); err != nil {
		return err
	}
	if isTerminal(c.stderr) {
		fmt.Fprintf(c.stderr, "mediarecorder record: wrote %s (%s, %.2f s of media)\n", c.out, typ, fed.Seconds())
	}
	return nil
}
