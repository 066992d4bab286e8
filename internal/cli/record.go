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

// recordCmd: record -o OUT [-mime TYPE] [-timeslice D] [-duration D] [-realtime]
// [-audio-bitrate R] [-video-bitrate R] INPUT...
func recordCmd(fs *flag.FlagSet, stdout, stderr io.Writer) func() error {
	out := fs.String("o", "", "output `file` (required): its extension (.webm, .mkv, .ogg/.opus, .mp4/.m4a) picks the container;\n"+
		"a regular file is written to a temporary file and renamed when complete; - (standard output),\n"+
		"a FIFO or a device gets a live recording, written in place")
	mime := fs.String("mime", "", "MIME `type` of the recording, e.g. video/webm;codecs=vp8,opus (default: OUT's extension\n"+
		"names the container, the recorder picks the codecs); it must agree with OUT's extension")
	var timeslice, duration time.Duration
	durationVar(fs, &timeslice, "timeslice", 0, "deliver the recording in blobs, one each `duration` of media; 0: one blob")
	durationVar(fs, &duration, "duration", 0, "stop after this much wall `time`; 0: at the end of the inputs")
	realtime := fs.Bool("realtime", false, "feed the inputs in real time instead of as fast as possible")
	var audioBps, videoBps uint64
	fs.Var(bitrateFlag{&audioBps}, "audio-bitrate", "audio bit `rate` for encoders, in bits per second: e.g. 64k (k, M, G as in ffmpeg)")
	fs.Var(bitrateFlag{&videoBps}, "video-bitrate", "video bit `rate` for encoders, in bits per second: e.g. 1M (k, M, G as in ffmpeg)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), recordUsage)
		fs.PrintDefaults()
	}
	return func() error {
		if *out == "" {
			return usageError{"-o OUT is required"}
		}
		if fs.NArg() == 0 {
			return usageError{"no INPUT"}
		}
		if err := checkMime(*out, *mime); err != nil {
			return err
		}
		ctx, stop := signalContext()
		defer stop()
		if duration > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, duration)
			defer cancel()
		}
		return recordFunc(ctx, recordConfig{
			out: *out, mime: *mime, timeslice: timeslice, realtime: *realtime,
			audioBps: audioBps, videoBps: videoBps,
			inputs: fs.Args(), stdout: stdout, stderr: stderr,
		})
	}
}

const recordUsage = `usage: mediarecorder record -o OUT [flags] INPUT...

Records the tracks of the inputs through a MediaRecorder into OUT, a finished,
seekable file (a live recording when OUT is -, a FIFO or a device).
Flags may come before or after the inputs.

Inputs:
  .ivf              VP8, VP9 or AV1 in IVF
  .ogg, .opus       Ogg Opus
  .h264, .264       H.264 Annex B
  .wav              16-bit PCM WAV (encoded to Opus when the recording encodes video)
  .y4m              raw video (YUV4MPEG2), encoded to VP8/VP9 (a build with -tags libvpx)
  .webm, .mkv       WebM/Matroska (VP8, VP9, AV1, H.264, Opus, PCM)
  .sdp              RTP over UDP as the SDP describes it (what ffmpeg -f rtp -sdp_file or
                    GStreamer send): recorded until -duration, 10 s of silence, or Ctrl-C

Examples:
  mediarecorder record -o out.webm video.ivf audio.ogg
  mediarecorder record -o out.mp4 -timeslice 1s camera.h264 mic.opus
  mediarecorder record -o - stream.sdp -duration 30s | ffplay -
  mediarecorder record -o out.webm -video-bitrate 1M -audio-bitrate 64k in.y4m in.wav

Flags:
`

// recordFunc runs a recording; tests replace it to see the configuration
// the command line made.
var recordFunc = record

// rtpIdle ends an RTP input that has sent nothing for this long.
const rtpIdle = 10 * time.Second

type recordConfig struct {
	out, mime string
	// audioBps and videoBps go to Options.AudioBitsPerSecond and
	// VideoBitsPerSecond (0: not set).
	audioBps, videoBps uint64
	timeslice          time.Duration
	realtime           bool
	inputs             []string
	stdout             io.Writer // for -o -
	stderr             io.Writer
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
	rec, err := mr.New(mr.NewStream(tracks...), recorderOptions(c, tracks))
	if err != nil {
		return fmt.Errorf("%s: %w", c.out, err)
	}
	o, err := openOut(ctx, c.out, c.stdout)
	if err != nil {
		return err
	}
	// The inputs stop early when the output fails (a reader went away).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	var recErr, writeErr error
	var typ string
	sw := &streamWriter{out: o, slice: c.timeslice}
	rec.OnDataAvailable(func(e mr.BlobEvent) {
		typ = e.Data.Type()
		if o.isStream() && writeErr == nil {
			if writeErr = sw.write(e); writeErr != nil {
				cancel()
			}
		}
	})
	rec.OnError(func(err error) { recErr = err })
	rec.OnStop(func() { close(done) })
	// Live inputs (RTP, -realtime) are recorded crash-safe: flushed every
	// second, fsync'd every 5 s and at the end. A remux of files at full
	// speed is not live: a crash loses only the temporary file, and the
	// inputs are still there, so it leaves durability to the kernel.
	live := c.realtime || len(rtps) > 0
	if o.isStream() {
		// A stream cannot be finished in place: it is a live recording
		// (no Duration or Cues), written blob by blob.
		if sw.slice <= 0 {
			sw.slice = streamSlice
		}
		err = rec.Start(sw.slice)
	} else {
		var w io.WriteSeeker = o.tmp
		if !live {
			w = unsynced{o.tmp}
		}
		err = rec.StartFile(w, c.timeslice)
	}
	if err != nil {
		o.discard()
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
			if o.isStream() {
				sw.wait(ctx, d)
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
	// The recorder finishes OUT and fires stop. A signal now (a second
	// Ctrl-C, or the first after the inputs ended) gives up waiting.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case <-done:
	case s := <-sig:
		o.discard()
		return fmt.Errorf("%s: %v before the recording was finished", c.out, s)
	}
	recErr = errors.Join(recErr, stopErr)
	switch {
	case writeErr != nil:
		o.discard()
		return writeErr
	case playErr != nil && !errors.Is(playErr, context.Canceled) && !errors.Is(playErr, context.DeadlineExceeded):
		o.discard()
		return playErr
	case recErr != nil:
		o.discard()
		return fmt.Errorf("%s: %w", c.out, recErr)
	}
	st := rec.Stats()
	if empty, err := o.empty(); err != nil || empty {
		o.discard()
		if err != nil {
			return err
		}
		return noFrames(o.name, st)
	}
	if st.Skipped > 0 || st.Dropped > 0 {
		fmt.Fprintf(c.stderr, "mediarecorder record: %s: %d samples skipped, %d dropped\n", c.out, st.Skipped, st.Dropped)
	}
	if err := o.commit(live); err != nil {
		return err
	}
	if isTerminal(c.stderr) {
		fmt.Fprintf(c.stderr, "mediarecorder record: wrote %s (%s, %.2f s of media)\n", o.name, typ, fed.Seconds())
	}
	return nil
}

// recorderOptions are the Recorder's options for c: the MIME type from
// -mime or else OUT's extension, and the bit rates.
func recorderOptions(c recordConfig, tracks []mr.Track) mr.Options {
	mime := c.mime
	if mime == "" {
		mime = mimeForOut(c.out, tracks)
	}
	return mr.Options{MimeType: mime, AudioBitsPerSecond: c.audioBps, VideoBitsPerSecond: c.videoBps}
}

// noFrames is the error for a recording that holds no media.
func noFrames(out string, st mr.Stats) error {
	if st.Skipped > 0 {
		return fmt.Errorf("%s: no frames recorded: all %d samples of the inputs were unusable", out, st.Skipped)
	}
	return fmt.Errorf("%s: no frames recorded: the inputs hold none", out)
}
