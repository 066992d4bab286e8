//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Targets of issue 4 item 5, per recorded stream.
const (
	targetCPURatio = 0.10 // our CPU / GStreamer's CPU
	targetRSSMiB   = 1.0  // our RSS
)

// result is what one implementation measured.
type result struct {
	Impl        string  `json:"impl"`
	N           int     `json:"n"`
	WindowSecs  float64 `json:"window_s"` // measured wall time
	SendSecs    float64 `json:"send_s"`   // media sent per stream
	CPUTotalPct float64 `json:"cpu_total_pct"`
	CPUPct      float64 `json:"cpu_pct_per_stream"` // % of one core
	RSSAvgKB    int64   `json:"rss_avg_kb"`         // sum over processes, averaged over the window
	RSSPeakKB   int64   `json:"rss_peak_kb"`        // sum of VmHWM at the end of the window
	PSSKB       int64   `json:"pss_kb"`             // sum of Pss at the end of the window
	BaselineKB  int64   `json:"baseline_rss_kb"`    // ours: VmRSS before any stream
	RSSMiB      float64 `json:"rss_mib_per_stream"`
	PeakMiB     float64 `json:"peak_rss_mib_per_stream"`
	PSSMiB      float64 `json:"pss_mib_per_stream"`
	SenderPct   float64 `json:"sender_cpu_pct"`
	FinishSecs  float64 `json:"finish_s"` // from SIGINT to every process exited
	Files       []string
	Exit        []string    `json:"exit_errors,omitempty"`
	Ingest      *recordDone `json:"ingest,omitempty"` // ours only
}

type runConfig struct {
	impls                  []string
	n, base                int
	warmup, window         time.Duration
	video, audio, out      string
	sr                     bool
	cpuprofile, memprofile string
	gst                    string
}

// runCmd: run -impl ours,gst -n N -warmup D -window D -video V -audio A -out DIR
func runCmd(fs *flag.FlagSet) func() error {
	impl := fs.String("impl", "ours,gst", "implementations to measure, one after the other: ours, gst")
	n := fs.Int("n", 20, "number of streams")
	base := fs.Int("base", 20000, "first UDP port (stream i: base+4i video, base+4i+2 audio, +1 RTCP)")
	warmup := fs.Duration("warmup", 5*time.Second, "sending time before the measurement window")
	window := fs.Duration("window", 30*time.Second, "measurement window")
	video := fs.String("video", "", "VP8 IVF file (required)")
	audio := fs.String("audio", "", "Opus Ogg file (required)")
	out := fs.String("out", "", "output directory (required): OUT/IMPL/*.webm, OUT/results.json")
	sr := fs.Bool("sr", true, "senders send RTCP Sender Reports")
	cpuprofile := fs.String("cpuprofile", "", "CPU profile of our recorder over the window, to this file")
	memprofile := fs.String("memprofile", "", "heap profile of our recorder at the end, to this file")
	gst := fs.String("gst", "gst-launch-1.0", "gst-launch-1.0 binary")
	return func() error {
		if *video == "" || *audio == "" || *out == "" || *n < 1 || *window <= 0 || *warmup < 0 {
			return errors.New("-video, -audio, -out, -n >= 1 and -window > 0 are required")
		}
		cfg := runConfig{
			impls: strings.Split(*impl, ","), n: *n, base: *base, warmup: *warmup, window: *window,
			video: *video, audio: *audio, out: *out, sr: *sr,
			cpuprofile: *cpuprofile, memprofile: *memprofile, gst: *gst,
		}
		var results []*result
		for _, im := range cfg.impls {
			if im != "ours" && im != "gst" {
				return fmt.Errorf("unknown -impl %q", im)
			}
			slog.Info("rtpload run: measuring", "impl", im, "n", cfg.n, "warmup", cfg.warmup, "window", cfg.window)
			r, err := runImpl(cfg, im)
			if err != nil {
				return fmt.Errorf("%s: %w", im, err)
			}
			results = append(results, r)
		}
		b, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(cfg.out, "results.json"), b, 0o644); err != nil {
			return err
		}
		printTable(os.Stdout, results)
		return nil
	}
}

// proc is one measured recorder process.
type proc struct {
	cmd    *exec.Cmd
	pid    int
	ticks0 int64
	waited chan error
}

// runImpl records cfg.n streams with one implementation and measures it.
func runImpl(cfg runConfig, impl string) (*result, error) {
	dir, err := filepath.Abs(filepath.Join(cfg.out, impl))
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	res := &result{Impl: impl, N: cfg.n}
	var procs []*proc
	killAll := func() {
		for _, p := range procs {
			_ = p.cmd.Process.Kill()
			<-p.waited
		}
	}
	start := func(cmd *exec.Cmd) error {
		if err := cmd.Start(); err != nil {
			return err
		}
		p := &proc{cmd: cmd, pid: cmd.Process.Pid, waited: make(chan error, 1)}
		go func() { p.waited <- cmd.Wait() }()
		procs = append(procs, p)
		return nil
	}

	// The recorders.
	var oursOut *bufio.Reader
	switch impl {
	case "ours":
		args := []string{"record", "-n", strconv.Itoa(cfg.n), "-base", strconv.Itoa(cfg.base), "-dir", dir}
		if cfg.cpuprofile != "" {
			args = append(args, "-cpuprofile", cfg.cpuprofile)
		}
		if cfg.memprofile != "" {
			args = append(args, "-memprofile", cfg.memprofile)
		}
		cmd := exec.Command(self, args...)
		cmd.Stderr = os.Stderr
		// An os.Pipe rather than StdoutPipe: Wait, which runs at once on
		// its own goroutine, must not close it before the last line is read.
		pr, pw, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		defer pr.Close()
		cmd.Stdout = pw
		err = start(cmd)
		pw.Close()
		if err != nil {
			return nil, err
		}
		oursOut = bufio.NewReader(pr)
		var ready recordReady
		if err := readJSONLine(oursOut, &ready); err != nil || !ready.Ready {
			killAll()
			return nil, fmt.Errorf("recorder did not get ready: %v", err)
		}
		res.BaselineKB = ready.BaselineKB
	case "gst":
		for i := range cfg.n {
			f := filepath.Join(dir, fmt.Sprintf("gst-%02d.webm", i))
			cmd := exec.Command(cfg.gst, gstArgs(videoPort(cfg.base, i), audioPort(cfg.base, i), f)...)
			logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("gst-%02d.log", i)))
			if err != nil {
				killAll()
				return nil, err
			}
			cmd.Stdout, cmd.Stderr = logf, logf
			err = start(cmd)
			logf.Close()
			if err != nil {
				killAll()
				return nil, err
			}
		}
	}
	if err := waitPorts(cfg, 20*time.Second); err != nil {
		killAll()
		return nil, err
	}

	// The senders.
	sendDur := cfg.warmup + cfg.window
	res.SendSecs = sendDur.Seconds()
	sargs := []string{"send", "-n", strconv.Itoa(cfg.n), "-base", strconv.Itoa(cfg.base),
		"-duration", sendDur.String(), "-video", cfg.video, "-audio", cfg.audio, "-sr=" + strconv.FormatBool(cfg.sr)}
	sender := exec.Command(self, sargs...)
	sender.Stderr = os.Stderr
	if err := sender.Start(); err != nil {
		killAll()
		return nil, err
	}
	senderDone := make(chan error, 1)
	go func() { senderDone <- sender.Wait() }()
	time.Sleep(cfg.warmup)

	// The window.
	t0 := time.Now()
	for _, p := range procs {
		if p.ticks0, err = procCPUTicks(p.pid); err != nil {
			killAll()
			return nil, fmt.Errorf("recorder exited early: %w", err)
		}
	}
	sTicks0, _ := procCPUTicks(sender.Process.Pid)
	if impl == "ours" && cfg.cpuprofile != "" {
		_ = procs[0].cmd.Process.Signal(syscall.SIGUSR1)
	}
	var rssSum, samples int64
	end := t0.Add(cfg.window)
	tick := time.NewTicker(500 * time.Millisecond)
	for time.Now().Before(end) {
		select {
		case <-tick.C:
		case <-time.After(time.Until(end)):
		}
		var kb int64
		for _, p := range procs {
			kb += procStatus(p.pid)["VmRSS"]
		}
		rssSum += kb
		samples++
	}
	tick.Stop()
	var ticks int64
	for _, p := range procs {
		t, err := procCPUTicks(p.pid)
		if err != nil {
			killAll()
			return nil, fmt.Errorf("recorder exited during the window: %w", err)
		}
		ticks += t - p.ticks0
		res.RSSPeakKB += procStatus(p.pid)["VmHWM"]
		res.PSSKB += procPSS(p.pid)
	}
	sTicks1, _ := procCPUTicks(sender.Process.Pid)
	wall := time.Since(t0).Seconds()
	res.WindowSecs = wall
	res.CPUTotalPct = float64(ticks) / userHZ / wall * 100
	res.CPUPct = res.CPUTotalPct / float64(cfg.n)
	res.SenderPct = float64(sTicks1-sTicks0) / userHZ / wall * 100
	res.RSSAvgKB = rssSum / max(samples, 1)
	perStream := func(kb int64) float64 { return float64(kb-res.BaselineKB) / 1024 / float64(cfg.n) }
	res.RSSMiB = perStream(res.RSSAvgKB)
	res.PeakMiB = perStream(res.RSSPeakKB)
	res.PSSMiB = perStream(res.PSSKB)

	// Stop: the senders end, the jitter buffers drain, then SIGINT
	// finishes every file (gst-launch-1.0 -e sends EOS).
	if err := <-senderDone; err != nil {
		killAll()
		return nil, fmt.Errorf("sender: %w", err)
	}
	time.Sleep(500 * time.Millisecond)
	stopAt := time.Now()
	for _, p := range procs {
		_ = p.cmd.Process.Signal(os.Interrupt)
	}
	// Our recorder's last line: its ingest counts (read while waiting, so
	// that a hung recorder is still killed after the timeout).
	stats := make(chan error, 1)
	var done recordDone
	if oursOut != nil {
		go func() {
			err := readJSONLine(oursOut, &done)
			_, _ = io.Copy(io.Discard, oursOut)
			stats <- err
		}()
	}
	timeout := time.After(60 * time.Second)
	for i, p := range procs {
		select {
		case err := <-p.waited:
			if err != nil {
				res.Exit = append(res.Exit, fmt.Sprintf("process %d: %v", i, err))
			}
		case <-timeout:
			_ = p.cmd.Process.Kill()
			<-p.waited
			res.Exit = append(res.Exit, fmt.Sprintf("process %d: killed after 60 s", i))
		}
	}
	res.FinishSecs = time.Since(stopAt).Seconds()
	if oursOut != nil {
		if err := <-stats; err != nil {
			res.Exit = append(res.Exit, fmt.Sprintf("no final stats: %v", err))
		} else {
			res.Ingest = &done
		}
	}
	pattern := "ours-*.webm"
	if impl == "gst" {
		pattern = "gst-*.webm"
	}
	res.Files, _ = filepath.Glob(filepath.Join(dir, pattern))
	return res, nil
}

// gstArgs is the GStreamer pipeline for one stream.
func gstArgs(vport, aport int, file string) []string {
	return []string{"-e", "-q",
		"udpsrc", "port=" + strconv.Itoa(vport),
		"caps=application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96",
		"!", "rtpjitterbuffer", "!", "rtpvp8depay", "!", "mux.",
		"udpsrc", "port=" + strconv.Itoa(aport),
		"caps=application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111",
		"!", "rtpjitterbuffer", "!", "rtpopusdepay", "!", "opusparse", "!", "mux.",
		"webmmux", "name=mux", "!", "filesink", "location=" + file,
	}
}

// waitPorts waits until every RTP port of the run is bound.
func waitPorts(cfg runConfig, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		bound := boundUDPPorts()
		missing := 0
		for i := range cfg.n {
			if !bound[videoPort(cfg.base, i)] {
				missing++
			}
			if !bound[audioPort(cfg.base, i)] {
				missing++
			}
		}
		if missing == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d RTP ports still not bound after %v", missing, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readJSONLine decodes the next line of r that starts with '{' into v.
func readJSONLine(r *bufio.Reader, v any) error {
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && line[0] == '{' {
			return json.Unmarshal(line, v)
		}
		if err != nil {
			return err
		}
	}
}

// printTable prints the measurements side by side, with our ratio to
// GStreamer and the verdicts against the targets.
func printTable(w io.Writer, rs []*result) {
	var ours, gst *result
	for _, r := range rs {
		switch r.Impl {
		case "ours":
			ours = r
		case "gst":
			gst = r
		}
	}
	col := func(r *result, f func(*result) string) string {
		if r == nil {
			return "-"
		}
		return f(r)
	}
	ratio := func(f func(*result) float64) string {
		if ours == nil || gst == nil || f(gst) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.3f", f(ours)/f(gst))
	}
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	n := rs[0].N
	fmt.Fprintf(w, "\n%d streams of VP8 1 Mb/s + Opus 64 kb/s over RTP/UDP on loopback; window %.1f s after %.1f s of warm-up\n",
		n, rs[0].WindowSecs, rs[0].SendSecs-rs[0].WindowSecs)
	fmt.Fprintf(w, "%-28s%12s%12s%11s  %s\n", "per recorded stream", "ours", "gstreamer", "ours/gst", "target")
	row := func(name string, f func(*result) float64, format, target string) {
		fmt.Fprintf(w, "%-28s%12s%12s%11s  %s\n", name,
			col(ours, func(r *result) string { return fmt.Sprintf(format, f(r)) }),
			col(gst, func(r *result) string { return fmt.Sprintf(format, f(r)) }),
			ratio(f), target)
	}
	cpu := func(r *result) float64 { return r.CPUPct }
	rss := func(r *result) float64 { return r.RSSMiB }
	cpuTarget, rssTarget := "<= 1/10 of gstreamer", "< 1 MiB"
	if ours != nil && gst != nil {
		cpuTarget += "  " + verdict(ours.CPUPct <= targetCPURatio*gst.CPUPct)
	}
	if ours != nil {
		rssTarget += "  " + verdict(ours.RSSMiB < targetRSSMiB)
	}
	row("CPU % of a core", cpu, "%.3f", cpuTarget)
	row("RSS MiB (window average)", rss, "%.2f", rssTarget)
	row("peak RSS MiB (VmHWM)", func(r *result) float64 { return r.PeakMiB }, "%.2f", "")
	row("PSS MiB", func(r *result) float64 { return r.PSSMiB }, "%.2f", "")
	fmt.Fprintln(w, "total")
	fmt.Fprintf(w, "%-28s%12s%12s\n", "  CPU % of a core",
		col(ours, func(r *result) string { return fmt.Sprintf("%.2f", r.CPUTotalPct) }),
		col(gst, func(r *result) string { return fmt.Sprintf("%.2f", r.CPUTotalPct) }))
	fmt.Fprintf(w, "%-28s%12s%12s\n", "  RSS MiB (window average)",
		col(ours, func(r *result) string { return fmt.Sprintf("%.1f", float64(r.RSSAvgKB)/1024) }),
		col(gst, func(r *result) string { return fmt.Sprintf("%.1f", float64(r.RSSAvgKB)/1024) }))
	fmt.Fprintf(w, "%-28s%12s%12s\n", "  baseline RSS MiB",
		col(ours, func(r *result) string { return fmt.Sprintf("%.1f", float64(r.BaselineKB)/1024) }), "0")
	fmt.Fprintf(w, "%-28s%12s%12s\n", "  sender CPU % of a core",
		col(ours, func(r *result) string { return fmt.Sprintf("%.2f", r.SenderPct) }),
		col(gst, func(r *result) string { return fmt.Sprintf("%.2f", r.SenderPct) }))
	fmt.Fprintf(w, "%-28s%12s%12s\n", "  stop to files finished, s",
		col(ours, func(r *result) string { return fmt.Sprintf("%.2f", r.FinishSecs) }),
		col(gst, func(r *result) string { return fmt.Sprintf("%.2f", r.FinishSecs) }))
	if ours != nil && ours.Ingest != nil {
		in := ours.Ingest
		fmt.Fprintf(w, "ours: %d RTP packets, %d frames, %d lost, %d frames dropped by rtpsource, %d skipped and %d dropped by the recorders, %d errors\n",
			in.Packets, in.Frames, in.Lost, in.DroppedRTP, in.Skipped, in.DroppedRec, in.Errors)
	}
	for _, r := range rs {
		for _, e := range r.Exit {
			fmt.Fprintf(w, "%s: %s\n", r.Impl, e)
		}
	}
}
