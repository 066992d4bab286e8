//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/rtpsource"
)

// recordReady is the line record prints on stdout once every stream
// listens.
type recordReady struct {
	Ready      bool  `json:"ready"`
	BaselineKB int64 `json:"baseline_rss_kb"` // VmRSS before any stream was set up
}

// recordDone is the line record prints on stdout when every file is
// finished.
type recordDone struct {
	Done         bool    `json:"done"`
	Files        int     `json:"files"`
	Errors       int     `json:"errors"`
	FinishSecs   float64 `json:"finish_s"` // from the signal to the last file finished
	Packets      int     `json:"rtp_packets"`
	Frames       int     `json:"frames"`
	Lost         int     `json:"rtp_lost"`
	DroppedRTP   int     `json:"frames_dropped_rtp"` // by rtpsource: incomplete or waiting for a key frame
	Skipped      uint64  `json:"samples_skipped"`    // by the Recorder
	DroppedRec   uint64  `json:"samples_dropped"`    // by the Recorder (slow consumer)
	KeyFrameReqs int     `json:"key_frame_requests"`
}

// recordCmd: record -n N -base PORT -dir DIR [-cpuprofile F] [-memprofile F]
func recordCmd(fs *flag.FlagSet) func() error {
	n := fs.Int("n", 20, "number of streams")
	base := fs.Int("base", 20000, "first UDP port (stream i: base+4i video, base+4i+2 audio, +1 RTCP)")
	dir := fs.String("dir", "", "directory for the SDP files and recordings (required)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile from SIGUSR1 to SIGINT/SIGTERM to this file")
	memprofile := fs.String("memprofile", "", "write a heap profile at SIGINT/SIGTERM to this file (samples every 4 KiB allocated: costs CPU)")
	return func() error {
		if *dir == "" || *n < 0 {
			return errors.New("-dir is required and -n must not be negative")
		}
		return record(recordConfig{n: *n, base: *base, dir: *dir, cpuprofile: *cpuprofile, memprofile: *memprofile})
	}
}

type recordConfig struct {
	n, base                int
	dir                    string
	cpuprofile, memprofile string
}

// stream is one recorded sender.
type stream struct {
	src  *rtpsource.UDPSource
	rec  *mr.Recorder
	file *os.File
	done chan struct{}
	err  error // from the error event
}

// record records cfg.n streams in this process, each through
// rtpsource.ListenSDP and a Recorder writing a file with StartFile (what
// `mediarecorder record IN.sdp` does), until SIGINT or SIGTERM; then it
// stops them all and finishes every file.
func record(cfg recordConfig) error {
	if cfg.memprofile != "" {
		runtime.MemProfileRate = 4096 // every 4 KiB buffer shows; costs some CPU
	}
	baseline := procStatus(os.Getpid())["VmRSS"]
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGUSR1)
	if err := os.MkdirAll(cfg.dir, 0o755); err != nil {
		return err
	}

	streams := make([]*stream, 0, cfg.n)
	defer func() {
		for _, s := range streams {
			s.src.Close()
			s.file.Close()
		}
	}()
	for i := range cfg.n {
		s, err := startStream(cfg, i)
		if err != nil {
			return err
		}
		streams = append(streams, s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	runErrs := make([]error, len(streams))
	for i, s := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runErrs[i] = s.src.Run(ctx, 0)
		}()
	}
	if err := printJSON(recordReady{Ready: true, BaselineKB: baseline}); err != nil {
		return err
	}

	profiling := false
	for s := range sig {
		if s != syscall.SIGUSR1 {
			break
		}
		if cfg.cpuprofile != "" && !profiling {
			f, err := os.Create(cfg.cpuprofile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			profiling = true
		}
	}
	if profiling {
		pprof.StopCPUProfile()
	}
	if cfg.memprofile != "" {
		if err := writeHeapProfile(cfg.memprofile); err != nil {
			return err
		}
	}

	// Stop: the sources stop their tracks, so the recorders stop by
	// themselves and finish their files; Stop covers one still running.
	stopAt := time.Now()
	cancel()
	wg.Wait()
	res := recordDone{Done: true, Files: len(streams)}
	var errs []error
	for i, s := range streams {
		if err := s.rec.Stop(); err != nil && !errors.Is(err, mr.ErrInvalidState) {
			errs = append(errs, fmt.Errorf("stream %d: stop: %w", i, err))
		}
		<-s.done
		if s.err != nil {
			errs = append(errs, fmt.Errorf("stream %d: %w", i, s.err))
		}
		if runErrs[i] != nil {
			errs = append(errs, fmt.Errorf("stream %d: %w", i, runErrs[i]))
		}
		if err := s.file.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stream %d: %w", i, err))
		}
		st := s.rec.Stats()
		res.Skipped += st.Skipped
		res.DroppedRec += st.Dropped
		for _, t := range s.src.Tracks() {
			ts := t.Stats()
			res.Packets += ts.Packets
			res.Frames += ts.Frames
			res.Lost += ts.Lost
			res.DroppedRTP += ts.Dropped
			res.KeyFrameReqs += ts.KeyFrameRequests
		}
	}
	res.FinishSecs = time.Since(stopAt).Seconds()
	res.Errors = len(errs)
	if err := printJSON(res); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// startStream writes the SDP file of stream i, listens on its ports and
// starts its Recorder on its file.
func startStream(cfg recordConfig, i int) (*stream, error) {
	sdpPath := filepath.Join(cfg.dir, fmt.Sprintf("stream-%02d.sdp", i))
	if err := os.WriteFile(sdpPath, []byte(sdpFile(cfg.base, i)), 0o644); err != nil {
		return nil, err
	}
	src, err := rtpsource.ListenSDP(sdpPath, rtpsource.Options{})
	if err != nil {
		return nil, err
	}
	var tracks []mr.Track
	for _, t := range src.Tracks() {
		tracks = append(tracks, t)
	}
	rec, err := mr.New(mr.NewStream(tracks...), mr.Options{})
	if err != nil {
		src.Close()
		return nil, err
	}
	f, err := os.Create(filepath.Join(cfg.dir, fmt.Sprintf("ours-%02d.webm", i)))
	if err != nil {
		src.Close()
		return nil, err
	}
	s := &stream{src: src, rec: rec, file: f, done: make(chan struct{})}
	rec.OnError(func(err error) { s.err = err })
	rec.OnStop(func() { close(s.done) })
	if err := rec.StartFile(f, 0); err != nil {
		src.Close()
		f.Close()
		return nil, err
	}
	return s, nil
}

// sdpFile describes stream i as `ffmpeg -f rtp -sdp_file` would.
func sdpFile(base, i int) string {
	return fmt.Sprintf("v=0\r\n"+
		"o=- 0 0 IN IP4 127.0.0.1\r\n"+
		"s=rtpload stream %d\r\n"+
		"c=IN IP4 127.0.0.1\r\n"+
		"t=0 0\r\n"+
		"m=video %d RTP/AVP %d\r\n"+
		"a=rtpmap:%d VP8/90000\r\n"+
		"m=audio %d RTP/AVP %d\r\n"+
		"a=rtpmap:%d opus/48000/2\r\n",
		i, videoPort(base, i), vp8PT, vp8PT, audioPort(base, i), opusPT, opusPT)
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Printf("%s\n", b)
	return err
}
