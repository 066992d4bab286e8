//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// opts are the flags of `whipload publish`.
type opts struct {
	ready     string
	n         int
	rate      float64
	seconds   time.Duration
	settle    time.Duration
	window    time.Duration
	video     string
	audio     string
	check     bool
	decode    bool
	jobs      int
	out       string
	leakWait  time.Duration
	heapLimit float64 // KiB per recording beyond pion's own
	target    int     // concurrent recorded sessions the issue asks for
}

// runPublish is `whipload publish`: the load, the measurements, the
// checks and the table.
func runPublish(args []string) error {
	var o opts
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	fs.StringVar(&o.ready, "ready", "", "the server's -ready file (required)")
	fs.IntVar(&o.n, "n", 200, "publishers (WHIP sessions)")
	fs.Float64Var(&o.rate, "rate", 10, "publishers started per second")
	fs.DurationVar(&o.seconds, "seconds", 30*time.Second, "how long every session is recorded (a number is seconds)")
	fs.DurationVar(&o.settle, "settle", 5*time.Second, "wait after the last publisher connected, and after the recordings started, before measuring")
	fs.DurationVar(&o.window, "window", 10*time.Second, "CPU measuring window of the connected, not recording, phase")
	fs.StringVar(&o.video, "video", "", "VP8 IVF file every publisher sends, in a loop (required)")
	fs.StringVar(&o.audio, "audio", "", "Ogg Opus file every publisher sends, in a loop (required)")
	fs.BoolVar(&o.check, "check", true, "check every recorded file with ffprobe (packets, gaps)")
	fs.BoolVar(&o.decode, "decode", true, "and decode it with `ffmpeg -v error -i F -enc_time_base -1 -f null -` (must print nothing)")
	fs.IntVar(&o.jobs, "jobs", 2, "files checked at a time")
	fs.StringVar(&o.out, "out", "", "directory for profiles (heap, goroutines) and result.json; none when empty")
	fs.DurationVar(&o.leakWait, "leak-wait", 30*time.Second, "how long to wait for goroutines and fds to return to the baseline after the sessions end")
	fs.Float64Var(&o.heapLimit, "heap-target", 512, "target: KiB of heap per recording beyond the unrecorded session")
	fs.IntVar(&o.target, "target", 200, "target: concurrent recorded sessions with zero drops")
	// Bare numbers for the durations mean seconds.
	for i, a := range args {
		for _, name := range []string{"-seconds", "-settle", "-window", "-leak-wait"} {
			if a == name && i+1 < len(args) {
				if _, err := strconv.ParseFloat(args[i+1], 64); err == nil {
					args[i+1] += "s"
				}
			}
		}
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.ready == "" || o.video == "" || o.audio == "" || o.n < 1 || o.rate <= 0 {
		fmt.Fprintln(os.Stderr, "publish: -ready, -video, -audio are required; -n and -rate must be positive")
		return errUsage
	}
	return publishRun(context.Background(), o)
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
}

// readReady waits for the server's ready file.
func readReady(path string) (Ready, error) {
	var rd Ready
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			return rd, json.Unmarshal(b, &rd)
		}
		if time.Now().After(deadline) {
			return rd, fmt.Errorf("the server did not write %s: %w", path, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// client reads the server's stats and metrics and drives its API.
type client struct {
	rd   Ready
	http *http.Client
}

func (c *client) get(path string) ([]byte, error) {
	resp, err := c.http.Get(path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
	}
	return b, nil
}

func (c *client) stats(gc, detail bool) (ServerStats, error) {
	q := "?"
	if gc {
		q += "gc=1&"
	}
	if detail {
		q += "detail=1"
	}
	var st ServerStats
	b, err := c.get(c.rd.Stats + "/debug/stats" + q)
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(b, &st)
}

// metrics returns the server's /metrics samples by name (with labels).
func (c *client) metrics() (map[string]float64, error) {
	b, err := c.get(c.rd.URL + "/metrics")
	if err != nil {
		return nil, err
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			m[line[:i]] = v
		}
	}
	return m, nil
}

// save writes what GET url returns into dir/name (nothing without -out).
func (c *client) save(dir, name, url string) {
	if dir == "" {
		return
	}
	b, err := c.get(url)
	if err != nil {
		logf("saving %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		logf("saving %s: %v", name, err)
	}
}

// startRecording creates a recording of session over the API (the
// options AutoRecord uses: defaults, no timeslice) and returns its id.
func (c *client) startRecording(session string) (string, error) {
	resp, err := c.http.Post(c.rd.URL+"/api/recordings", "application/json", strings.NewReader(`{"session":"`+session+`"}`))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("POST /api/recordings: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	var r struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.ID == "" {
		return "", fmt.Errorf("POST /api/recordings: bad answer %s", b)
	}
	return r.ID, nil
}

// recordingsBySession lists the recordings (autorecord mode).
func (c *client) recordingsBySession() (map[string]string, error) {
	b, err := c.get(c.rd.URL + "/api/recordings")
	if err != nil {
		return nil, err
	}
	var l struct {
		Recordings []struct {
			ID      string `json:"id"`
			Session string `json:"session"`
		} `json:"recordings"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, r := range l.Recordings {
		m[r.Session] = r.ID
	}
	return m, nil
}

// phase is one measured state of the server.
type phase struct {
	Name       string
	Sessions   int
	Recordings int
	CPU        float64 // server CPU, % of one core (-1: not measured)
	PubCPU     float64 // publish process CPU, % of one core
	Machine    float64 // the whole machine's CPU use (/proc/stat), % of one core
	Proc       Proc    // after GC
}

// cpuWindow measures the CPU use of the server and of this process over
// d, and saves a CPU profile of the server over the same time as
// dir/profile (with -out).
func cpuWindow(c *client, d time.Duration, dir, profile string) (server, pub float64, machine machineCPU, err error) {
	a, err := c.stats(false, false)
	if err != nil {
		return 0, 0, machine, err
	}
	pa := sampleProc(false)
	var wg sync.WaitGroup
	if dir != "" && d >= 2*time.Second {
		wg.Go(func() {
			c.save(dir, profile, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", c.rd.Stats, min(int(d.Seconds())-1, 50)))
		})
	}
	if dir != "" {
		if f, err := os.Create(filepath.Join(dir, "publishers-"+profile)); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			} else {
				f.Close()
			}
		}
	}
	m0 := readMachineCPU()
	time.Sleep(d)
	wg.Wait()
	m1 := readMachineCPU()
	b, err := c.stats(false, false)
	if err != nil {
		return 0, 0, machine, err
	}
	pb := sampleProc(false)
	wall := b.Proc.Time.Sub(a.Proc.Time).Seconds()
	pwall := pb.Time.Sub(pa.Time).Seconds()
	server, pub = 100*(b.Proc.CPU-a.Proc.CPU)/wall, 100*(pb.CPU-pa.CPU)/pwall
	return server, pub, m1.busySince(m0), nil
}

// machineCPU is the machine-wide line of /proc/stat, in clock ticks.
type machineCPU struct{ busy, total float64 }

func readMachineCPU() machineCPU {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return machineCPU{}
	}
	var m machineCPU
	for i, v := range f[1:] {
		x, _ := strconv.ParseFloat(v, 64)
		if i >= 8 { // guest, guest_nice: already in user, nice
			break
		}
		m.total += x
		if i != 3 && i != 4 { // idle, iowait
			m.busy += x
		}
	}
	return m
}

// busySince returns the machine's CPU use since o, in % of one core
// (steal included: on a VM it is time taken by the host).
func (m machineCPU) busySince(o machineCPU) machineCPU {
	if m.total <= o.total {
		return machineCPU{}
	}
	frac := (m.busy - o.busy) / (m.total - o.total)
	return machineCPU{busy: 100 * frac * float64(runtime.NumCPU()), total: 100 * float64(runtime.NumCPU())}
}

// forEach runs f over the publishers, k at a time.
func forEach(pubs []*publisher, k int, f func(p *publisher)) {
	sem := make(chan struct{}, k)
	var wg sync.WaitGroup
	for _, p := range pubs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(p)
		})
	}
	wg.Wait()
}

func publishRun(ctx context.Context, o opts) error {
	rd, err := readReady(o.ready)
	if err != nil {
		return err
	}
	m, err := loadMedia(o.video, o.audio)
	if err != nil {
		return err
	}
	pa, err := newPubAPI()
	if err != nil {
		return err
	}
	if o.out != "" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			return err
		}
	}
	c := &client{rd: rd, http: pa.http}
	r := &report{o: o, m: m, rd: rd}

	// Warm up: one session, recorded a moment, ended; so that what the
	// first session initialises once (codec tables, JSON encoders, pools)
	// is in the baseline.
	warm, err := warmUp(ctx, c, pa, m)
	if err != nil {
		return fmt.Errorf("warm-up session: %w", err)
	}
	r.warmRec = warm

	// Baseline: the server idle.
	base, err := c.stats(true, false)
	if err != nil {
		return err
	}
	baseMet, err := c.metrics()
	if err != nil {
		return err
	}
	baseHeap, err := c.get(rd.Stats + "/debug/pprof/heap?debug=1")
	if err != nil {
		return err
	}
	c.save(o.out, "heap-baseline.pb.gz", rd.Stats+"/debug/pprof/heap")
	r.add(phase{Name: "baseline (idle)", CPU: -1, PubCPU: -1, Proc: base.Proc})
	logf("baseline: %d goroutines, %d fds, heap %.1f MiB", base.Proc.Goroutines, base.Proc.FDs, mib(base.Proc.HeapInuse))

	// Ramp up.
	logf("starting %d publishers, %.0f per second (VP8 %dx%d %.0f fps %.0f kb/s + Opus %.0f kb/s)",
		o.n, o.rate, m.Width, m.Height, m.FPS(), m.VideoKbps(), m.AudioKbps())
	pubs := make([]*publisher, o.n)
	var startErrs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range o.n {
		time.Sleep(time.Until(t0.Add(time.Duration(float64(i) / o.rate * float64(time.Second)))))
		wg.Go(func() {
			p, err := pa.start(ctx, i, rd.URL+"/whip", m)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				startErrs = append(startErrs, err)
				return
			}
			pubs[i] = p
		})
		if (i+1)%50 == 0 {
			logf("  %d started", i+1)
		}
	}
	wg.Wait()
	live := pubs[:0:0]
	for _, p := range pubs {
		if p != nil {
			live = append(live, p)
		}
	}
	r.connected, r.startErrs = len(live), startErrs
	logf("%d/%d publishers connected in %.1f s", len(live), o.n, time.Since(t0).Seconds())
	for i, err := range startErrs {
		if i < 5 {
			logf("  %v", err)
		}
	}

	if !rd.AutoRecord {
		// Connected, not recording: pion's (and rtpsource's) own cost.
		time.Sleep(o.settle)
		cpu, pcpu, mach, err := cpuWindow(c, o.window, o.out, "cpu-connected.pb.gz")
		if err != nil {
			return err
		}
		st, err := c.stats(true, false)
		if err != nil {
			return err
		}
		r.add(phase{Name: "connected, not recording", Sessions: len(live), CPU: cpu, PubCPU: pcpu, Machine: mach.busy, Proc: st.Proc})
		logf("connected: server CPU %.1f %%, heap %.1f MiB, %d goroutines", cpu, mib(st.Proc.HeapInuse), st.Proc.Goroutines)
		c.save(o.out, "heap-connected.pb.gz", rd.Stats+"/debug/pprof/heap")

		// Record every session over the API.
		var recErrs []error
		forEach(live, 8, func(p *publisher) {
			plis := p.plis.Load() // the recorder's first key-frame request may come before the answer
			id, err := c.startRecording(p.session)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				recErrs = append(recErrs, err)
				return
			}
			p.recID = id
			p.videoAtRec, p.audioAtRec, p.plisAtRec = p.videoSent.Load(), p.audioSent.Load(), plis
		})
		r.recErrs = recErrs
		logf("recording %d sessions", len(live)-len(recErrs))
	} else {
		for _, p := range live {
			// The server records from the tracks' arrival: count from
			// the connection.
			p.videoAtRec, p.audioAtRec = 0, 0
		}
	}
	recStart := time.Now()
	time.Sleep(o.settle)
	met, err := c.metrics()
	if err != nil {
		return err
	}
	r.recordingNow = int(met[`mediarecorder_recordings{state="recording"}`])
	window := max(time.Until(recStart.Add(o.seconds)), time.Second)
	cpu, pcpu, mach, err := cpuWindow(c, window, o.out, "cpu-recording.pb.gz")
	if err != nil {
		return err
	}
	st, err := c.stats(true, false)
	if err != nil {
		return err
	}
	recs := r.recordingNow
	r.add(phase{Name: "recording", Sessions: len(live), Recordings: recs, CPU: cpu, PubCPU: pcpu, Machine: mach.busy, Proc: st.Proc})
	logf("recording (%d live): server CPU %.1f %%, heap %.1f MiB, %d goroutines", recs, cpu, mib(st.Proc.HeapInuse), st.Proc.Goroutines)
	c.save(o.out, "heap-recording.pb.gz", rd.Stats+"/debug/pprof/heap")
	c.save(o.out, "goroutines-recording.txt", rd.Stats+"/debug/pprof/goroutine?debug=1")
	if rd.AutoRecord {
		bySession, err := c.recordingsBySession()
		if err != nil {
			return err
		}
		for _, p := range live {
			p.recID = bySession[p.session]
		}
	}

	// End: stop the media, let the jitter windows drain, end the sessions.
	forEach(live, len(live)+1, func(p *publisher) { p.stopSending() })
	time.Sleep(time.Second)
	var delErrs []error
	forEach(live, 8, func(p *publisher) {
		if err := pa.delete(ctx, p.location); err != nil {
			mu.Lock()
			delErrs = append(delErrs, err)
			mu.Unlock()
		}
	})
	r.delErrs = delErrs
	forEach(live, 16, func(p *publisher) { _ = p.pc.Close() })
	logf("sessions deleted; waiting for the recordings to finish")
	deadline := time.Now().Add(60 * time.Second)
	for {
		met, err = c.metrics()
		if err != nil {
			return err
		}
		s, err := c.stats(false, false)
		if err != nil {
			return err
		}
		if met["mediarecorder_sessions"] == 0 && met[`mediarecorder_recordings{state="recording"}`] == 0 &&
			s.Log.RecordingsStopped >= s.Log.RecordingsStarted {
			break
		}
		if time.Now().After(deadline) {
			logf("still %v sessions, %v recordings after 60 s", met["mediarecorder_sessions"], met[`mediarecorder_recordings{state="recording"}`])
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	r.metrics = met

	// Leak check: wait (up to leakWait) for goroutines and fds to return.
	var end ServerStats
	deadline = time.Now().Add(o.leakWait)
	for {
		end, err = c.stats(true, false)
		if err != nil {
			return err
		}
		if end.Proc.Goroutines <= base.Proc.Goroutines && end.Proc.FDs <= base.Proc.FDs || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	r.leakWaited = o.leakWait - time.Until(deadline)
	r.add(phase{Name: "ended (sessions deleted)", CPU: -1, PubCPU: -1, Proc: end.Proc})
	if endHeap, err := c.get(rd.Stats + "/debug/pprof/heap?debug=1"); err == nil {
		b, err1 := heapBreakdown(string(baseHeap))
		e, err2 := heapBreakdown(string(endHeap))
		if err := errors.Join(err1, err2); err != nil {
			logf("heap breakdown: %v", err)
		} else {
			r.heapDelta = map[string]float64{}
			for _, k := range []string{heapRuntimeG, heapCatalog, heapBench, heapOther} {
				r.heapDelta[k] = e[k] - b[k]
			}
		}
	}
	c.save(o.out, "goroutines-ended.txt", rd.Stats+"/debug/pprof/goroutine?debug=1")
	c.save(o.out, "heap-ended.pb.gz", rd.Stats+"/debug/pprof/heap")
	detail, err := c.stats(false, true)
	if err != nil {
		return err
	}
	r.log = detail.Log.since(base.Log) // not the warm-up's
	for k, v := range baseMet {
		if strings.HasSuffix(k, "_total") {
			r.metrics[k] -= v
		}
	}
	r.pubs = live

	// Check the files.
	if o.check {
		if _, err := exec.LookPath("ffprobe"); err != nil {
			logf("ffprobe not found: files not checked")
		} else {
			var paths []string
			for _, p := range live {
				if rl, ok := detail.Log.PerRecording[p.recID]; ok && rl.File != "" {
					paths = append(paths, filepath.Join(rd.Dir, rl.File))
				} else {
					paths = append(paths, "")
				}
			}
			var todo []string
			for _, p := range paths {
				if p != "" {
					todo = append(todo, p)
				}
			}
			logf("checking %d files (ffmpeg decode: %v, %d at a time)", len(todo), o.decode, o.jobs)
			t := time.Now()
			res := checkFiles(ctx, todo, m.FrameDur, m.PacketDur, o.decode, o.jobs, func(done int) {
				if done%50 == 0 {
					logf("  %d checked", done)
				}
			})
			logf("checked in %.0f s", time.Since(t).Seconds())
			byPath := map[string]fileCheck{}
			for _, fc := range res {
				byPath[fc.Path] = fc
			}
			r.files = make([]*fileCheck, len(live))
			for i, p := range paths {
				if fc, ok := byPath[p]; ok {
					r.files[i] = &fc
				}
			}
			if entries, err := filepath.Glob(filepath.Join(rd.Dir, "*.webm")); err == nil {
				r.filesInDir = len(entries)
				if rl, ok := detail.Log.PerRecording[warm]; ok && rl.File != "" {
					r.filesInDir-- // the warm-up's
				}
			}
		}
	}
	r.print(os.Stdout)
	if o.out != "" {
		b, _ := json.MarshalIndent(r.summary(), "", "  ")
		_ = os.WriteFile(filepath.Join(o.out, "result.json"), b, 0o644)
	}
	return nil
}

// warmUp runs one session through the whole cycle: connected, recorded
// for two seconds, ended. It returns the recording's id.
func warmUp(ctx context.Context, c *client, pa *pubAPI, m *Media) (string, error) {
	p, err := pa.start(ctx, -1, c.rd.URL+"/whip", m)
	if err != nil {
		return "", err
	}
	defer p.pc.Close()
	id := ""
	if !c.rd.AutoRecord {
		if id, err = c.startRecording(p.session); err != nil {
			return "", err
		}
	}
	time.Sleep(2 * time.Second)
	if c.rd.AutoRecord {
		bySession, err := c.recordingsBySession()
		if err != nil {
			return "", err
		}
		id = bySession[p.session]
	}
	p.stopSending()
	time.Sleep(300 * time.Millisecond)
	if err := pa.delete(ctx, p.location); err != nil {
		return "", err
	}
	_ = p.pc.Close()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		met, err := c.metrics()
		if err != nil {
			return "", err
		}
		if met["mediarecorder_sessions"] == 0 && met[`mediarecorder_recordings{state="recording"}`] == 0 {
			time.Sleep(time.Second) // let the PeerConnection's goroutines end
			return id, nil
		}
	}
	return "", errors.New("the warm-up session did not end within 20 s")
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// fileStartSlack is how many frames (or audio packets) of a session may
// be sent after the recording was created and still not be in its file:
// the publisher notes its counters when POST /api/recordings answers, and
// the recorder starts at the first key frame, which the publisher sends
// as soon as the key-frame request reaches it (a frame or so later).
const fileStartSlack = 2

// report gathers the figures and prints the table.
type report struct {
	o            opts
	m            *Media
	rd           Ready
	phases       []phase
	connected    int
	startErrs    []error
	recErrs      []error
	delErrs      []error
	recordingNow int
	metrics      map[string]float64
	log          LogStats
	pubs         []*publisher
	files        []*fileCheck // per publisher; nil: not checked
	filesInDir   int
	leakWaited   time.Duration
	warmRec      string
	heapDelta    map[string]float64 // live heap ended - baseline, by heapBreakdown category
}

func (r *report) add(p phase) { r.phases = append(r.phases, p) }

func (r *report) phase(name string) *phase {
	for i := range r.phases {
		if strings.HasPrefix(r.phases[i].Name, name) {
			return &r.phases[i]
		}
	}
	return nil
}

// summary is result.json, and the figures the table prints. Heap figures
// are live heap (HeapAlloc after two GCs).
type summary struct {
	N, Connected, Recorded    int
	RecordingConcurrently     int
	AutoRecord                bool
	ServerCPUPerRecording     float64 // % of one core, whole session while recorded
	ServerCPUPerSession       float64 // connected, not recording
	HeapPerRecordingKiB       float64 // beyond the unrecorded session; -1 in autorecord mode
	HeapPerSessionKiB         float64 // recorded session, total
	HeapPerSessionUnrecKiB    float64
	GoroutinesPerSession      float64 // recorded session, total
	GoroutinesPerSessionUnrec float64
	GoroutinesPerRecording    float64
	FDsPerSession             float64
	VideoSent, AudioSent      int64
	VideoRecv, AudioRecv      int // whole frames out of rtpsource
	TransitLost               int64
	SourceDropped             int
	PacketsLost               int
	RecorderDropped           uint64
	RecorderSkipped           uint64
	KeyFrameRequests          uint64
	FilesChecked, FilesBad    int
	FilesDTSWarning           int   // clean but for ffmpeg's dts line (see dtsWarning)
	FileDeficit               int64 // frames sent while recorded and not in the file, beyond fileStartSlack
	MaxMissingVideo           int64
	MaxMissingAudio           int64
	TimelineJumps             int
	MaxVideoStepMs            float64
	MaxAudioStepMs            float64
	Drops                     int64 // frames the server dropped or never got, whole sessions (unrecorded phase included): recorder + rtpsource + lost on the way
	DropsRecorded             int64 // frames missing from the recordings: recorder drops + sent while recorded but not in the files
	ZeroDrops                 bool  // no drop, no RTP loss, nothing missing from a file
	ZeroDropsRecorded         bool  // every frame sent while recorded is in its file
	PLIsBefore, PLIsRecording int64 // key-frame requests the publishers received before and while recorded
	LeakGoroutines, LeakFDs   int
	LeakHeapKiB               float64 // live heap, ended - baseline
	LeakCatalogKiB            float64 // of which: the server's list of finished recordings
	LeakRuntimeGKiB           float64 // the runtime's cache of goroutine descriptors
	LeakOtherKiB              float64 // the rest: a leak, beyond leakSlackKiB
	LeakPass                  bool
	TargetSessions            bool
	TargetHeap                bool
	PubMaxLateMs              float64
	PubLate                   int64
	PubSkipped                int64
	PubDisconnected           int
}

func kib(a, b uint64, n float64) float64 { return (float64(a) - float64(b)) / n / 1024 }

func (r *report) summary() summary {
	s := summary{N: r.o.n, Connected: r.connected, AutoRecord: r.rd.AutoRecord, RecordingConcurrently: r.recordingNow}
	base, conn, rec, end := r.phase("baseline"), r.phase("connected"), r.phase("recording"), r.phase("ended")
	n := float64(max(r.connected, 1))
	if rec != nil {
		s.ServerCPUPerRecording = rec.CPU / n
		s.HeapPerSessionKiB = kib(rec.Proc.HeapAlloc, base.Proc.HeapAlloc, n)
		s.GoroutinesPerSession = float64(rec.Proc.Goroutines-base.Proc.Goroutines) / n
		s.FDsPerSession = float64(rec.Proc.FDs-base.Proc.FDs) / n
	}
	s.HeapPerRecordingKiB = -1
	if conn != nil && rec != nil {
		s.ServerCPUPerSession = conn.CPU / n
		s.HeapPerSessionUnrecKiB = kib(conn.Proc.HeapAlloc, base.Proc.HeapAlloc, n)
		s.HeapPerRecordingKiB = kib(rec.Proc.HeapAlloc, conn.Proc.HeapAlloc, n)
		s.GoroutinesPerSessionUnrec = float64(conn.Proc.Goroutines-base.Proc.Goroutines) / n
		s.GoroutinesPerRecording = float64(rec.Proc.Goroutines-conn.Proc.Goroutines) / n
	}
	for _, p := range r.pubs {
		s.VideoSent += p.videoSent.Load()
		s.AudioSent += p.audioSent.Load()
		s.PubMaxLateMs = max(s.PubMaxLateMs, float64(p.maxLate.Load())/1e6)
		s.PubLate += p.late.Load()
		s.PubSkipped += p.skipped.Load()
		if p.seen(webrtc.PeerConnectionStateDisconnected) || p.seen(webrtc.PeerConnectionStateFailed) {
			s.PubDisconnected++
		}
	}
	s.VideoRecv, s.AudioRecv = r.log.Video.Frames, r.log.Audio.Frames
	s.TransitLost = max(0, s.VideoSent-int64(r.log.Video.Frames+r.log.Video.Dropped)) +
		max(0, s.AudioSent-int64(r.log.Audio.Frames+r.log.Audio.Dropped))
	s.SourceDropped = r.log.Video.Dropped + r.log.Audio.Dropped
	s.PacketsLost = r.log.Video.Lost + r.log.Audio.Lost
	s.RecorderDropped = uint64(r.metrics["mediarecorder_dropped_frames_total"])
	s.RecorderSkipped = r.log.RecSkipped
	s.KeyFrameRequests = uint64(r.metrics["mediarecorder_keyframe_requests_total"])
	s.MaxMissingVideo, s.MaxMissingAudio = -1<<62, -1<<62
	for i, fc := range r.files {
		if fc == nil {
			continue
		}
		s.FilesChecked++
		switch {
		case fc.bad():
			s.FilesBad++
		default:
			s.Recorded++
			if fc.DTSLines > 0 {
				s.FilesDTSWarning++
			}
		}
		s.TimelineJumps += fc.VideoJumps + fc.AudioJumps
		s.MaxVideoStepMs = max(s.MaxVideoStepMs, fc.MaxVideoGap*1000)
		s.MaxAudioStepMs = max(s.MaxAudioStepMs, fc.MaxAudioGap*1000)
		p := r.pubs[i]
		mv := p.videoSent.Load() - p.videoAtRec - int64(fc.VideoPackets)
		ma := p.audioSent.Load() - p.audioAtRec - int64(fc.AudioPackets)
		s.MaxMissingVideo, s.MaxMissingAudio = max(s.MaxMissingVideo, mv), max(s.MaxMissingAudio, ma)
		s.FileDeficit += max(0, mv-fileStartSlack) + max(0, ma-fileStartSlack)
	}
	if r.files == nil { // not checked: trust the server
		s.Recorded = r.log.RecordingsStopped
	}
	s.DropsRecorded = int64(s.RecorderDropped) + s.FileDeficit
	s.Drops = int64(s.RecorderDropped) + int64(s.SourceDropped) + s.TransitLost
	s.ZeroDrops = s.Drops == 0 && s.PacketsLost == 0 && s.FileDeficit == 0
	s.ZeroDropsRecorded = s.DropsRecorded == 0 && (r.files != nil || r.o.n == 0)
	for _, p := range r.pubs {
		s.PLIsBefore += p.plisAtRec
		s.PLIsRecording += p.plis.Load() - p.plisAtRec
	}
	if end != nil {
		s.LeakGoroutines = end.Proc.Goroutines - base.Proc.Goroutines
		s.LeakFDs = end.Proc.FDs - base.Proc.FDs
		s.LeakHeapKiB = kib(end.Proc.HeapAlloc, base.Proc.HeapAlloc, 1)
	}
	s.LeakOtherKiB = s.LeakHeapKiB
	if r.heapDelta != nil {
		s.LeakOtherKiB = r.heapDelta[heapOther] / 1024
		s.LeakCatalogKiB = r.heapDelta[heapCatalog] / 1024
		s.LeakRuntimeGKiB = r.heapDelta[heapRuntimeG] / 1024
	}
	s.LeakPass = s.LeakGoroutines <= 0 && s.LeakFDs <= 0 && s.LeakOtherKiB <= leakSlackKiB
	s.TargetSessions = r.o.n >= r.o.target && s.Recorded == r.o.n && s.RecordingConcurrently == r.o.n && s.ZeroDrops
	s.TargetHeap = s.HeapPerRecordingKiB >= 0 && s.HeapPerRecordingKiB < r.o.heapLimit
	return s
}

// leakSlackKiB is how much live heap beyond the baseline, not explained by
// the server's list of finished recordings (kept by design, for GET
// /api/recordings), the runtime's cache of goroutine descriptors or
// whipload's own bookkeeping, still counts as "back to baseline": maps
// that grew and do not shrink, pools, and the sampling error of the heap
// profile (one sample per 64 KiB allocated).
const leakSlackKiB = 512

// bad: the file cannot be probed, does not decode cleanly (but for the
// dtsWarning line), or lacks a track.
func (fc *fileCheck) bad() bool {
	return fc.Err != nil || fc.DecodeErr != nil || fc.Decode != "" || fc.VideoPackets == 0 || fc.AudioPackets == 0 ||
		strings.Join(fc.Codecs, "+") != "vp8+opus"
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func (r *report) print(w io.Writer) {
	s := r.summary()
	m := r.m
	fmt.Fprintf(w, "\n## whip-load: N=%d pion publishers on loopback, WHIP, every session recorded\n\n", r.o.n)
	mode := "the sessions are measured unrecorded first, then each is recorded through POST /api/recordings (AutoRecord's options: default MIME, no timeslice)"
	if r.rd.AutoRecord {
		mode = "server AutoRecord: true (no unrecorded phase)"
	}
	fmt.Fprintf(w, "media: VP8 %dx%d %.0f fps %.0f kb/s + Opus %.0f kb/s (%v packets), the same for every publisher, looped; %s\n",
		m.Width, m.Height, m.FPS(), m.VideoKbps(), m.AudioKbps(), m.PacketDur, mode)
	fmt.Fprintf(w, "machine: %d CPUs (GOMAXPROCS %d), shared with other work; server and publishers are separate processes on the same cores; each session recorded %v; publishers started at %.0f/s\n\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), r.o.seconds, r.o.rate)

	fmt.Fprintln(w, "| phase | sessions | recording | server CPU % | publishers CPU % | rest of the machine CPU % | live heap MiB | HeapInuse MiB | RSS MiB | goroutines | fds |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	for _, p := range r.phases {
		cpu, pcpu, other := "-", "-", "-"
		if p.CPU >= 0 {
			cpu, pcpu, other = fmt.Sprintf("%.1f", p.CPU), fmt.Sprintf("%.1f", p.PubCPU), fmt.Sprintf("%.1f", max(0, p.Machine-p.CPU-p.PubCPU))
		}
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s | %.1f | %.1f | %.1f | %d | %d |\n", p.Name, p.Sessions, p.Recordings, cpu, pcpu, other,
			mib(p.Proc.HeapAlloc), mib(p.Proc.HeapInuse), mib(p.Proc.RSS), p.Proc.Goroutines, p.Proc.FDs)
	}
	fmt.Fprintf(w, "\n(CPU: %% of one core, %d = all; \"rest of the machine\": other engineers' work, the kernel, steal, over the same window; heap after two GCs)\n", 100*runtime.NumCPU())
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| per session | server CPU % of a core | live heap KiB | goroutines |")
	fmt.Fprintln(w, "|---|---|---|---|")
	if s.HeapPerRecordingKiB >= 0 {
		fmt.Fprintf(w, "| connected, not recorded (pion + rtpsource) | %.2f | %.0f | %.1f |\n", s.ServerCPUPerSession, s.HeapPerSessionUnrecKiB, s.GoroutinesPerSessionUnrec)
		fmt.Fprintf(w, "| recorded, beyond that (recorder + file) | %.2f | %.0f | %.1f |\n", s.ServerCPUPerRecording-s.ServerCPUPerSession, s.HeapPerRecordingKiB, s.GoroutinesPerRecording)
	}
	fmt.Fprintf(w, "| recorded session, total | %.2f | %.0f | %.1f |\n", s.ServerCPUPerRecording, s.HeapPerSessionKiB, s.GoroutinesPerSession)
	fmt.Fprintln(w)

	fmt.Fprintln(w, "| frames | video | audio |")
	fmt.Fprintln(w, "|---|---|---|")
	var vAt, aAt int64
	for _, p := range r.pubs {
		vAt += p.videoSent.Load() - p.videoAtRec
		aAt += p.audioSent.Load() - p.audioAtRec
	}
	fmt.Fprintf(w, "| sent by the publishers | %d | %d |\n", s.VideoSent, s.AudioSent)
	fmt.Fprintf(w, "| whole out of rtpsource (server) | %d | %d |\n", r.log.Video.Frames, r.log.Audio.Frames)
	fmt.Fprintf(w, "| dropped by rtpsource (incomplete, waiting for a key frame) | %d | %d |\n", r.log.Video.Dropped, r.log.Audio.Dropped)
	fmt.Fprintf(w, "| RTP packets lost (sequence holes) | %d | %d |\n", r.log.Video.Lost, r.log.Audio.Lost)
	if r.files != nil {
		var vp, ap, vj, aj int64
		for _, fc := range r.files {
			if fc != nil {
				vp += int64(fc.VideoPackets)
				ap += int64(fc.AudioPackets)
				vj += int64(fc.VideoJumps)
				aj += int64(fc.AudioJumps)
			}
		}
		from := "from the answer to POST /api/recordings"
		if r.rd.AutoRecord {
			from = "from the connection: AutoRecord"
		}
		fmt.Fprintf(w, "| sent while recorded (%s) | %d | %d |\n", from, vAt, aAt)
		fmt.Fprintf(w, "| in the files (ffprobe packets) | %d | %d |\n", vp, ap)
		fmt.Fprintf(w, "| most of one session's sent-while-recorded missing from its file (negative: more in the file) | %d | %d |\n", s.MaxMissingVideo, s.MaxMissingAudio)
		fmt.Fprintf(w, "| timestamp steps outside 0.5-1.5 frame durations (all files) | %d | %d |\n", vj, aj)
		fmt.Fprintf(w, "| largest timestamp step, ms | %.0f | %.0f |\n", s.MaxVideoStepMs, s.MaxAudioStepMs)
	}
	fmt.Fprintf(w, "\nrecorder: dropped %d (server /metrics mediarecorder_dropped_frames_total), skipped %d (video before the first key frame), key-frame requests %d (/metrics); rtpsource key-frame requests %d\n",
		s.RecorderDropped, s.RecorderSkipped, s.KeyFrameRequests, r.log.Video.KeyFrameRequests)
	var jumps int64
	for _, p := range r.pubs {
		jumps += p.keyJumps.Load()
	}
	fmt.Fprintf(w, "publishers: %d/%d connected, %d went disconnected/failed; key-frame requests (PLI) received: %d before the recordings, %d since (one per recording start is expected; every other one follows a drop), %d jumps to a key frame; sending on schedule: at worst %.1f ms late, %d samples later than their own duration, %d sample slots skipped when more than %v late (a gap in the media's timeline, no burst)\n",
		r.connected, r.o.n, s.PubDisconnected, s.PLIsBefore, s.PLIsRecording, jumps, s.PubMaxLateMs, s.PubLate, s.PubSkipped, maxCatchUp)
	fmt.Fprintf(w, "server: %d sessions, %d recordings started, %d stopped, %d recording at once; %d warnings logged; PeerConnection states %v\n",
		r.log.Sessions, r.log.RecordingsStarted, r.log.RecordingsStopped, r.recordingNow, r.log.Warnings, r.log.ConnStates)
	for _, l := range r.log.LastWarnings {
		fmt.Fprintf(w, "  warning: %s\n", l)
	}
	for _, errs := range [][]error{r.startErrs, r.recErrs, r.delErrs} {
		for i, err := range errs {
			if i == 3 {
				fmt.Fprintf(w, "  ... %d more\n", len(errs)-3)
				break
			}
			fmt.Fprintf(w, "  error: %v\n", err)
		}
	}

	if r.files != nil {
		minD, maxD := 1e9, 0.0
		var bad []*fileCheck
		for _, fc := range r.files {
			if fc == nil {
				continue
			}
			minD, maxD = min(minD, fc.Duration), max(maxD, fc.Duration)
			if fc.bad() {
				bad = append(bad, fc)
			}
		}
		size := "-"
		for _, fc := range r.files {
			if fc != nil && !fc.bad() {
				size = fmt.Sprintf("%dx%d", fc.Width, fc.Height)
				break
			}
		}
		how := "ffprobe (packets)"
		if r.o.decode {
			how = "`ffmpeg -v error -i F -enc_time_base -1 -f null -` (as mediatest.DecodeVFR) and ffprobe (packets)"
		}
		fmt.Fprintf(w, "files: %d of %d sessions have one (%d .webm in the directory); checked with %s: %d clean vp8+opus %s, %d bad; durations %.1f-%.1f s\n",
			countNonNil(r.files), len(r.pubs), r.filesInDir, how, s.Recorded, size, s.FilesBad, minD, maxD)
		if s.FilesDTSWarning > 0 {
			fmt.Fprintf(w, "  of the clean files, %d are not silent under ffmpeg: only %q lines (ffmpeg guessed 30000/1001 fps from the millisecond timestamps; ffprobe shows them increasing)\n",
				s.FilesDTSWarning, dtsWarning)
		}
		for i, fc := range bad {
			if i == 5 {
				fmt.Fprintf(w, "  ... %d more bad files\n", len(bad)-5)
				break
			}
			fmt.Fprintf(w, "  bad: %s: codecs %v, probe %v, decode %v %q, %d video %d audio packets\n", fc.Path, fc.Codecs, fc.Err, fc.DecodeErr, firstLines(fc.Decode, 3), fc.VideoPackets, fc.AudioPackets)
		}
	}
	if end, base := r.phase("ended"), r.phase("baseline"); end != nil {
		fmt.Fprintf(w, "after the sessions ended (waited %.0f s for goroutines and fds; GC): goroutines %+d, fds %+d, live heap %+.0f KiB, HeapInuse %+.1f MiB, RSS %+.1f MiB (the baseline follows a warm-up session)\n",
			r.leakWaited.Seconds(), s.LeakGoroutines, s.LeakFDs, s.LeakHeapKiB,
			mib(end.Proc.HeapInuse)-mib(base.Proc.HeapInuse), mib(end.Proc.RSS)-mib(base.Proc.RSS))
		if r.heapDelta != nil {
			n := float64(max(r.connected, 1))
			fmt.Fprintf(w, "  live heap growth by heap profile (sampled every 64 KiB): %s %+.0f KiB (%.1f KiB per recording); %s %+.0f KiB (%.1f KiB per session); %s %+.0f KiB; %s %+.0f KiB (leak if over %d KiB)\n",
				heapCatalog, s.LeakCatalogKiB, s.LeakCatalogKiB/n, heapRuntimeG, s.LeakRuntimeGKiB, s.LeakRuntimeGKiB/n,
				heapBench, r.heapDelta[heapBench]/1024, heapOther, s.LeakOtherKiB, leakSlackKiB)
		}
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | figure | |")
	fmt.Fprintln(w, "|---|---|---|")
	fmt.Fprintf(w, "| >= %d concurrent recorded sessions, zero dropped frames | %d recording at once, %d files clean; frames dropped by the server over the whole sessions (unrecorded phase included): %d (recorder %d, rtpsource %d, lost on the way %d), RTP packets lost %d; frames sent while recorded missing from the files: %d | %s |\n",
		r.o.target, s.RecordingConcurrently, s.Recorded, s.Drops, s.RecorderDropped, s.SourceDropped, s.TransitLost, s.PacketsLost, s.FileDeficit, passFail(s.TargetSessions))
	if s.HeapPerRecordingKiB >= 0 {
		fmt.Fprintf(w, "| < %.0f KiB heap per recording beyond pion's own | %.0f KiB | %s |\n", r.o.heapLimit, s.HeapPerRecordingKiB, passFail(s.TargetHeap))
	} else {
		fmt.Fprintf(w, "| < %.0f KiB heap per recording beyond pion's own | not measured with -autorecord (%.0f KiB per session in all) | - |\n", r.o.heapLimit, s.HeapPerSessionKiB)
	}
	fmt.Fprintf(w, "| no leak once all sessions end | goroutines %+d, fds %+d, live heap %+.0f KiB, of which %+.0f KiB not the recordings list nor the runtime's goroutine cache | %s |\n",
		s.LeakGoroutines, s.LeakFDs, s.LeakHeapKiB, s.LeakOtherKiB, passFail(s.LeakPass))
	fmt.Fprintf(w, "\nRESULT n=%d connected=%d recorded=%d drops=%d missing_from_files=%d zero_drops=%t zero_drops_recorded=%t server_cpu_pct=%.0f cpu_per_rec=%.2f heap_per_rec_kib=%.0f heap_per_session_kib=%.0f goroutines_per_session=%.1f timeline_jumps=%d leak=%s\n",
		r.o.n, r.connected, s.Recorded, s.Drops, s.FileDeficit, s.ZeroDrops && s.Recorded == r.o.n && r.connected == r.o.n,
		s.ZeroDropsRecorded && s.Recorded == r.o.n && r.connected == r.o.n, s.ServerCPUPerRecording*float64(r.connected),
		s.ServerCPUPerRecording, s.HeapPerRecordingKiB, s.HeapPerSessionKiB, s.GoroutinesPerSession, s.TimelineJumps, passFail(s.LeakPass))
}

func countNonNil(fs []*fileCheck) int {
	n := 0
	for _, f := range fs {
		if f != nil {
			n++
		}
	}
	return n
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " / ")
}
