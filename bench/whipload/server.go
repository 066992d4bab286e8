//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/gomediarecorder/mediarecorder/server"
)

// errUsage reports bad flags (exit status 2); the flag package has
// printed why.
var errUsage = errors.New("usage")

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "%s: unexpected arguments %q\n", fs.Name(), fs.Args())
		return errUsage
	}
	return nil
}

// runServer is `whipload server`: the recording server under test, and
// the side listener the publish process measures it through.
func runServer(args []string) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address of the recording server")
	statsAddr := fs.String("stats-addr", "127.0.0.1:0", "listen address of /debug/stats and /debug/pprof")
	dir := fs.String("dir", "", "recordings directory (required)")
	auto := fs.Bool("autorecord", false, "record every WHIP session as soon as its tracks arrive (server.Config.AutoRecord); without it the publish process starts the recordings over the API, after measuring the sessions unrecorded")
	ready := fs.String("ready", "", "write the URLs (JSON) to this file once listening (required)")
	level := fs.String("log", "warn", "server log level printed on stderr: debug, info, warn, error")
	memRate := fs.Int("memprofilerate", 64<<10, "runtime.MemProfileRate: bytes between heap profile samples (the runtime's default is 512 KiB, too coarse to see a few KiB per session)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" || *ready == "" {
		fmt.Fprintln(os.Stderr, "server: -dir and -ready are required")
		return errUsage
	}
	runtime.MemProfileRate = *memRate
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("-log: %w", err)
	}
	capt := newCapture(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	// Every publisher comes from loopback, hundreds at once: no session
	// bounds, and time to connect under load.
	srv, err := server.New(server.Config{Dir: *dir, AutoRecord: *auto, Logger: slog.New(capt),
		Capacity: -1, SessionsPerAddr: -1, ConnectTimeout: time.Minute})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	sln, err := net.Listen("tcp", *statsAddr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()

	side := http.NewServeMux()
	side.HandleFunc("GET /debug/stats", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		st := ServerStats{Proc: sampleProc(q.Get("gc") == "1"), Log: capt.stats(q.Get("detail") == "1")}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	})
	side.HandleFunc("/debug/pprof/", pprof.Index)
	side.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	side.HandleFunc("/debug/pprof/profile", pprof.Profile)
	side.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	side.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ss := &http.Server{Handler: side, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = ss.Serve(sln) }()

	absDir, _ := filepath.Abs(*dir)
	b, _ := json.Marshal(Ready{
		URL: "http://" + ln.Addr().String(), Stats: "http://" + sln.Addr().String(),
		Dir: absDir, AutoRecord: *auto, PID: os.Getpid(),
	})
	tmp := *ready + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, *ready); err != nil {
		return err
	}
	slog.Info("whipload server listening", "url", "http://"+ln.Addr().String(), "stats", "http://"+sln.Addr().String(), "dir", absDir)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err = srv.Shutdown(ctx)
	_ = hs.Shutdown(ctx)
	_ = ss.Shutdown(ctx)
	return err
}

// capture is a slog.Handler in front of the server's logger: it adds up
// what the server logs about sessions, tracks and recordings (the
// rtpsource and recorder statistics reach the outside only that way and
// through /metrics), then passes records at the printed level on.
type capture struct {
	next slog.Handler

	mu  sync.Mutex
	st  LogStats
	per map[string]map[string]KindStats
	rec map[string]RecLog
}

func newCapture(next slog.Handler) *capture {
	return &capture{
		next: next,
		st:   LogStats{ConnStates: map[string]int{}},
		per:  map[string]map[string]KindStats{},
		rec:  map[string]RecLog{},
	}
}

// Enabled is true from Debug up: the connection states are logged at
// Debug.
func (c *capture) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelDebug }

// WithAttrs and WithGroup are not used by the server; the records of a
// derived logger are still counted, with the attributes of the record
// only.
func (c *capture) WithAttrs(as []slog.Attr) slog.Handler {
	return &derived{capture: c, next: c.next.WithAttrs(as)}
}

func (c *capture) WithGroup(name string) slog.Handler {
	return &derived{capture: c, next: c.next.WithGroup(name)}
}

type derived struct {
	*capture
	next slog.Handler
}

func (d *derived) Handle(ctx context.Context, r slog.Record) error {
	d.count(r)
	if d.next.Enabled(ctx, r.Level) {
		return d.next.Handle(ctx, r)
	}
	return nil
}

func (c *capture) Handle(ctx context.Context, r slog.Record) error {
	c.count(r)
	if c.next.Enabled(ctx, r.Level) {
		return c.next.Handle(ctx, r)
	}
	return nil
}

func (c *capture) count(r slog.Record) {
	attrs := map[string]slog.Value{}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.Resolve()
		return true
	})
	str := func(k string) string {
		if v, ok := attrs[k]; ok {
			return v.String()
		}
		return ""
	}
	num := func(k string) int64 {
		v, ok := attrs[k]
		if !ok {
			return 0
		}
		switch v.Kind() {
		case slog.KindInt64:
			return v.Int64()
		case slog.KindUint64:
			return int64(v.Uint64())
		case slog.KindFloat64:
			return int64(v.Float64())
		}
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.Level >= slog.LevelWarn {
		c.st.Warnings++
		line := r.Message
		r.Attrs(func(a slog.Attr) bool {
			line += " " + a.String()
			return true
		})
		if len(c.st.LastWarnings) >= 20 {
			c.st.LastWarnings = c.st.LastWarnings[1:]
		}
		c.st.LastWarnings = append(c.st.LastWarnings, line)
	}
	switch r.Message {
	case "whip: session":
		c.st.Sessions++
	case "whip: session ended":
		c.st.SessionsEnded++
	case "whip: connection state":
		c.st.ConnStates[str("state")]++
	case "whip: track ended":
		k := KindStats{Tracks: 1, Packets: int(num("packets")), Frames: int(num("frames")), Dropped: int(num("dropped")),
			Lost: int(num("lost")), KeyFrameRequests: int(num("keyFrameRequests"))}
		kind := str("kind")
		if kind == "video" {
			c.st.Video.add(k)
		} else {
			c.st.Audio.add(k)
		}
		s := str("session")
		if c.per[s] == nil {
			c.per[s] = map[string]KindStats{}
		}
		old := c.per[s][kind]
		old.add(k)
		c.per[s][kind] = old
	case "recording started":
		c.st.RecordingsStarted++
		id := str("recording")
		rl := c.rec[id]
		rl.Session, rl.File = str("session"), str("file")
		c.rec[id] = rl
	case "recording stopped":
		c.st.RecordingsStopped++
		id := str("recording")
		rl := c.rec[id]
		rl.Stopped = true
		rl.Dropped, rl.Skipped, rl.KeyFrameRequests = uint64(num("dropped")), uint64(num("skipped")), uint64(num("keyFrameRequests"))
		rl.Size = num("size")
		if v, ok := attrs["duration"]; ok && v.Kind() == slog.KindFloat64 {
			rl.Duration = v.Float64()
		}
		c.rec[id] = rl
		c.st.RecDropped += rl.Dropped
		c.st.RecSkipped += rl.Skipped
		c.st.RecKeyRequests += rl.KeyFrameRequests
	}
}

// stats returns a copy of what was counted.
func (c *capture) stats(detail bool) LogStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	st.ConnStates = maps.Clone(c.st.ConnStates)
	st.LastWarnings = append([]string(nil), c.st.LastWarnings...)
	if detail {
		st.PerSession = make(map[string]map[string]KindStats, len(c.per))
		for k, v := range c.per {
			st.PerSession[k] = maps.Clone(v)
		}
		st.PerRecording = maps.Clone(c.rec)
	}
	return st
}
