package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// A readinessCheck is one thing /readyz checks: it returns nil when the
// server can rely on it. Further storage (a bucket, a database) adds its
// own check in readinessChecks.
type readinessCheck interface {
	// Name names the check in /readyz's answer.
	Name() string
	// Ready reports whether the check passes.
	Ready(ctx context.Context) error
}

// checkFunc is a readinessCheck made of a name and a function.
type checkFunc struct {
	name string
	fn   func(context.Context) error
}

func (c checkFunc) Name() string                    { return c.name }
func (c checkFunc) Ready(ctx context.Context) error { return c.fn(ctx) }

// readinessChecks are the checks of /readyz: the recordings directory
// takes a file, the catalog takes a write.
func (s *Server) readinessChecks() []readinessCheck {
	return []readinessCheck{
		checkFunc{"storage", func(context.Context) error {
			f, err := os.CreateTemp(s.cfg.Dir, ".ready-*")
			if err != nil {
				return err
			}
			_, werr := f.Write([]byte("ok"))
			cerr := f.Close()
			os.Remove(f.Name())
			return errors.Join(werr, cerr)
		}},
		checkFunc{"catalog", func(ctx context.Context) error {
			// A heartbeat is a write to the catalog (bbolt or PostgreSQL).
			return s.heartbeat(ctx)
		}},
	}
}

// opsState is what the operations endpoints keep.
type opsState struct {
	draining bool // set under Server.mu
	finished histogram

	mu   sync.Mutex
	rate map[string]rateSample // by session and SSRC: the last bytes counted
}

type rateSample struct {
	bytes uint64
	at    time.Time
}

// opsRoutes adds the operations routes to m.
func (s *Server) opsRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	m.HandleFunc("GET /readyz", s.handleReady)
	m.HandleFunc("GET /api/config", s.handleConfig)
	m.HandleFunc("GET /api/sessions/{session}", s.handleSession)
	m.HandleFunc("GET /debug/pprof/", pprof.Index)
	m.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	m.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}

// handleReady answers 200 when every readiness check passes, else 503
// with the failures; 503 too while draining.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var lines []string
	ok := true
	s.mu.Lock()
	draining, closed := s.ops.draining, s.closed
	s.mu.Unlock()
	if draining || closed {
		ok = false
		lines = append(lines, "draining: the server is shutting down")
	}
	if !closed {
		for _, c := range s.readinessChecks() {
			if err := c.Ready(ctx); err != nil {
				ok = false
				lines = append(lines, c.Name()+": "+oneLine(err.Error()))
			} else {
				lines = append(lines, c.Name()+": ok")
			}
		}
	}
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_, _ = io.WriteString(w, strings.Join(lines, "\n")+"\n")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// refuseDraining answers a new WHIP offer while the server drains: 503
// with Retry-After, so the publisher tries again (another instance, or
// this one after its restart). It reports whether it answered.
func (s *Server) refuseDraining(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost || r.URL.Path != "/whip" {
		return false
	}
	s.mu.Lock()
	draining := s.ops.draining
	s.mu.Unlock()
	if !draining {
		return false
	}
	w.Header().Set("Retry-After", "5")
	writeError(w, http.StatusServiceUnavailable, "InvalidStateError", "the server is draining: try again shortly")
	return true
}

// Drain stops taking new WHIP sessions (POST /whip answers 503 with
// Retry-After, /readyz 503) and waits until every running recording has
// ended by itself (its publisher left, or a client stopped it), or ctx
// ends. Then call Shutdown, which stops the recordings still running and
// finishes their files.
func (s *Server) Drain(ctx context.Context) error {
	s.mu.Lock()
	s.ops.draining = true
	s.mu.Unlock()
	s.log.Info("draining: new WHIP sessions are refused", "recordings", s.liveRecordings())
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for s.liveRecordings() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// liveRecordings counts the recordings whose recorder runs.
func (s *Server) liveRecordings() int {
	s.mu.Lock()
	recs := make([]*recording, 0, len(s.recs))
	for _, rc := range s.recs {
		recs = append(recs, rc)
	}
	s.mu.Unlock()
	n := 0
	for _, rc := range recs {
		rc.mu.Lock()
		if rc.rec != nil {
			n++
		}
		rc.mu.Unlock()
	}
	return n
}

// histogram is a Prometheus histogram with fixed buckets.
type histogram struct {
	mu     sync.Mutex
	counts [len(finishBuckets) + 1]uint64
	sum    float64
}

// finishBuckets are the upper bounds (seconds) of the stop-to-finished
// histogram.
var finishBuckets = [...]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

func (h *histogram) observe(v float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := sort.SearchFloat64s(finishBuckets[:], v)
	h.counts[i]++
	h.sum += v
}

// write writes the histogram in the text exposition format.
func (h *histogram) write(w io.Writer, name, help string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	var cum uint64
	for i, le := range finishBuckets {
		cum += h.counts[i]
		fmt.Fprintf(w, "%s_bucket{le=\"%s\"} %d\n", name, strconv.FormatFloat(le, 'g', -1, 64), cum)
	}
	cum += h.counts[len(finishBuckets)]
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %g\n%s_count %d\n", name, cum, name, h.sum, name, cum)
}

// handleAllMetrics is GET /metrics: the server's metrics, then those of
// the sessions' RTP streams, the Go runtime and the process.
func (s *Server) handleAllMetrics(w http.ResponseWriter, r *http.Request) {
	s.handleMetrics(w, r)
	s.ops.finished.write(w, "mediarecorder_stop_to_finished_seconds", "Time from the beginning of a recording's stop (a stop request, DELETE, its WHIP session ending, an error) to its file being finished.")
	s.writeRetentionMetrics(w) // retention.go
	s.writeRTPMetrics(w)
	writeRuntimeMetrics(w)
	writeProcessMetrics(w)
}

// family is one metric with its samples.
type family struct {
	name, typ, help string
	samples         []string
}

func (f *family) add(labels string, v float64) {
	f.samples = append(f.samples, fmt.Sprintf("%s{%s} %s", f.name, labels, strconv.FormatFloat(v, 'g', -1, 64)))
}

func writeFamilies(w io.Writer, fams ...*family) {
	for _, f := range fams {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.typ)
		for _, l := range f.samples {
			fmt.Fprintln(w, l)
		}
	}
}

// writeRTPMetrics writes, per session and incoming RTP stream, what
// pion's statistics say: packets, loss, jitter, NACKs and PLIs sent,
// bytes and the bitrate since the previous scrape.
func (s *Server) writeRTPMetrics(w io.Writer) {
	s.mu.Lock()
	sessions := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.mu.Unlock()
	sort.Slice(sessions, func(i, j int) bool { return sessions[i].id < sessions[j].id })
	packets := &family{name: "mediarecorder_rtp_packets_received_total", typ: "counter", help: "RTP packets received, per session and stream."}
	lost := &family{name: "mediarecorder_rtp_packets_lost_total", typ: "counter", help: "RTP packets lost (RFC 3550 cumulative loss), per session and stream."}
	jitter := &family{name: "mediarecorder_rtp_jitter_seconds", typ: "gauge", help: "RTP interarrival jitter, per session and stream."}
	nacks := &family{name: "mediarecorder_rtp_nacks_total", typ: "counter", help: "NACKs sent to the publisher, per session and stream."}
	plis := &family{name: "mediarecorder_rtp_plis_total", typ: "counter", help: "PLIs (key-frame requests) sent to the publisher, per session and stream."}
	bytes := &family{name: "mediarecorder_rtp_bytes_received_total", typ: "counter", help: "RTP payload bytes received, per session and stream."}
	rate := &family{name: "mediarecorder_rtp_bitrate_bits_per_second", typ: "gauge", help: "Received bitrate since the previous scrape (since the session began on the first), per session and stream."}
	now := time.Now()
	seen := map[string]bool{}
	s.ops.mu.Lock()
	if s.ops.rate == nil {
		s.ops.rate = map[string]rateSample{}
	}
	for _, ss := range sessions {
		for _, st := range ss.pc.GetStats() {
			in, ok := st.(webrtc.InboundRTPStreamStats)
			if !ok {
				continue
			}
			key := ss.id + "/" + strconv.FormatUint(uint64(in.SSRC), 10)
			seen[key] = true
			labels := fmt.Sprintf(`session=%q,kind=%q,ssrc="%d"`, ss.id, in.Kind, in.SSRC)
			packets.add(labels, float64(in.PacketsReceived))
			lost.add(labels, float64(max(in.PacketsLost, 0)))
			jitter.add(labels, in.Jitter)
			nacks.add(labels, float64(in.NACKCount))
			plis.add(labels, float64(in.PLICount))
			bytes.add(labels, float64(in.BytesReceived))
			prev, ok := s.ops.rate[key]
			if !ok {
				prev = rateSample{at: ss.created}
			}
			if dt := now.Sub(prev.at).Seconds(); dt > 0 && in.BytesReceived >= prev.bytes {
				rate.add(labels, float64(in.BytesReceived-prev.bytes)*8/dt)
			}
			s.ops.rate[key] = rateSample{bytes: in.BytesReceived, at: now}
		}
	}
	for k := range s.ops.rate {
		if !seen[k] {
			delete(s.ops.rate, k)
		}
	}
	s.ops.mu.Unlock()
	writeFamilies(w, packets, lost, jitter, nacks, plis, bytes, rate)
}

// writeRuntimeMetrics writes the Go runtime's metrics under the names
// client_golang uses.
func writeRuntimeMetrics(w io.Writer) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	g := func(name, typ, help string, v float64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", name, help, name, typ, name, strconv.FormatFloat(v, 'g', -1, 64))
	}
	g("go_goroutines", "gauge", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine()))
	g("go_memstats_alloc_bytes", "gauge", "Number of bytes allocated in heap and currently in use.", float64(ms.HeapAlloc))
	g("go_memstats_sys_bytes", "gauge", "Number of bytes obtained from system.", float64(ms.Sys))
	g("go_memstats_heap_inuse_bytes", "gauge", "Number of heap bytes that are in use.", float64(ms.HeapInuse))
	g("go_memstats_heap_objects", "gauge", "Number of currently allocated objects.", float64(ms.HeapObjects))
	g("go_memstats_next_gc_bytes", "gauge", "Number of heap bytes when next garbage collection will take place.", float64(ms.NextGC))
	g("go_gc_cycles_total", "counter", "Completed GC cycles.", float64(ms.NumGC))
	g("go_gc_pause_seconds_total", "counter", "Total time the world was stopped for GC.", float64(ms.PauseTotalNs)/1e9)
	fmt.Fprintf(w, "# HELP go_info Information about the Go environment.\n# TYPE go_info gauge\ngo_info{version=%q} 1\n", runtime.Version())
}

// processStart is when the process began, near enough.
var processStart = time.Now()

// writeProcessMetrics writes the process's metrics (Linux /proc; the
// ones it cannot read are left out).
func writeProcessMetrics(w io.Writer) {
	g := func(name, typ, help string, v float64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", name, help, name, typ, name, strconv.FormatFloat(v, 'g', -1, 64))
	}
	g("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", float64(processStart.UnixNano())/1e9)
	if b, err := os.ReadFile("/proc/self/stat"); err == nil {
		// Fields after the command name (which may hold spaces), from field 3.
		if i := strings.LastIndexByte(string(b), ')'); i > 0 {
			f := strings.Fields(string(b[i+1:]))
			if len(f) > 22 {
				utime, _ := strconv.ParseFloat(f[11], 64)
				stime, _ := strconv.ParseFloat(f[12], 64)
				vsize, _ := strconv.ParseFloat(f[20], 64)
				rss, _ := strconv.ParseFloat(f[21], 64)
				const ticks = 100 // USER_HZ on Linux
				g("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", (utime+stime)/ticks)
				g("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", vsize)
				g("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", rss*float64(os.Getpagesize()))
			}
		}
	}
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		g("process_open_fds", "gauge", "Number of open file descriptors.", float64(len(ents)))
	}
}
