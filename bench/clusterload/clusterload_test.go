// Package clusterload is the driver of bench/cluster-load.sh: N pion
// publishers recording through one single-node server on the local disk
// (bbolt), then N publishers spread over three nodes recording into
// SeaweedFS with a shared PostgreSQL catalog, in one run, and a table of
// what each costs. It is a test only to reuse internal/pgtest and
// internal/s3test; it runs only with CLUSTERLOAD=1 (not a timed test).
package clusterload

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/internal/opusfile"
	"github.com/gomediarecorder/mediarecorder/internal/pgtest"
	"github.com/gomediarecorder/mediarecorder/internal/s3test"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

var (
	flagN       = flag.Int("n", 12, "recordings (publishers) per configuration")
	flagSeconds = flag.Int("seconds", 30, "how long every recording runs")
	flagOut     = flag.String("out", "", "write the report here too")
	flagFlush   = flag.Duration("flush", 0, "the nodes' -flush-interval (0: the default, 1 s in a cluster)")
)

const token = "bench"

// node is one `mediarecorder serve` process.
type node struct {
	name, url, log string
	cmd            *exec.Cmd
	exit           chan struct{}
}

func buildBinary(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "mediarecorder")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/mediarecorder")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func startNode(t *testing.T, bin, name string, extra, env []string) *node {
	port := freePort(t)
	dir := t.TempDir()
	n := &node{name: name, url: fmt.Sprintf("http://127.0.0.1:%d", port), log: filepath.Join(dir, "node.log"), exit: make(chan struct{})}
	f, err := os.Create(n.log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	args := append([]string{"serve", "-addr", fmt.Sprintf("127.0.0.1:%d", port), "-dir", filepath.Join(dir, "rec"),
		"-advertise", n.url, "-token", token, "-capacity", "0", "-sessions-per-ip", "0", "-conns-per-ip", "0"}, extra...)
	n.cmd = exec.Command(bin, args...)
	n.cmd.Env = append(os.Environ(), env...)
	n.cmd.Stdout, n.cmd.Stderr = f, f
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = n.cmd.Wait(); close(n.exit) }()
	t.Cleanup(func() { n.kill(syscall.SIGTERM) })
	for deadline := time.Now().Add(time.Minute); ; {
		if _, err := get(n.url + "/api/recordings"); err == nil {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start", name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (n *node) kill(sig syscall.Signal) {
	select {
	case <-n.exit:
		return
	default:
	}
	_ = n.cmd.Process.Signal(sig)
	select {
	case <-n.exit:
	case <-time.After(60 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.exit
	}
}

// cpu is the process's user+system CPU time.
func (n *node) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * time.Second / 100 // USER_HZ
}

// heap is the process's in-use heap (its /metrics), in bytes.
func (n *node) heap() int64 {
	b, err := get(n.url + "/metrics")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "go_memstats_heap_inuse_bytes "); ok {
			h, _ := strconv.ParseInt(v, 10, 64)
			return h
		}
	}
	return 0
}

// rss is the process's resident memory in bytes.
func (n *node) rss() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", n.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func request(method, url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func get(url string) ([]byte, error) {
	st, b, err := request("GET", url, nil)
	if err == nil && st != 200 {
		err = fmt.Errorf("GET %s: %d %s", url, st, b)
	}
	return b, err
}

// recMeta is the part of a recording's JSON the bench reads.
type recMeta struct {
	ID        string  `json:"id"`
	State     string  `json:"state"`
	Size      int64   `json:"size"`
	Duration  float64 `json:"duration"`
	Recovered bool    `json:"recovered"`
	Lost      float64 `json:"lost"`
	Node      string  `json:"node"`
}

// clip is the media every publisher sends.
type clip struct {
	video, audio [][]byte
}

func loadClip(t *testing.T) clip {
	_, pkts, err := opusfile.Read(mediatest.Testdata(t, "opus-stereo.ogg"))
	if err != nil {
		t.Fatal(err)
	}
	c := clip{video: mediatest.IVFFrames(t, mediatest.Testdata(t, "vp8.ivf"))}
	for _, p := range pkts {
		c.audio = append(c.audio, p.Data)
	}
	return c
}

// publisher is one pion WHIP publisher.
type publisher struct {
	pc      *webrtc.PeerConnection
	session string
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func newAPI() *webrtc.API {
	m := &webrtc.MediaEngine{}
	_ = m.RegisterDefaultCodecs()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	ir := &interceptor.Registry{}
	_ = webrtc.RegisterDefaultInterceptors(m, ir)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(ir))
}

func publish(api *webrtc.API, base string, c clip) (*publisher, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	video, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "pub")
	audio, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "pub")
	for _, tr := range []webrtc.TrackLocal{video, audio} {
		sender, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			pc.Close()
			return nil, err
		}
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := sender.Sender().Read(buf); err != nil {
					return
				}
			}
		}()
	}
	offer, _ := pc.CreateOffer(nil)
	gathered := webrtc.GatheringCompletePromise(pc)
	_ = pc.SetLocalDescription(offer)
	<-gathered
	req, _ := http.NewRequest("POST", base+"/whip", strings.NewReader(pc.LocalDescription().SDP))
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		pc.Close()
		return nil, err
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		pc.Close()
		return nil, fmt.Errorf("POST /whip: %d %s", resp.StatusCode, answer)
	}
	_, session, _ := strings.Cut(resp.Header.Get("Location"), "/whip/")
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		pc.Close()
		return nil, err
	}
	select {
	case <-connected:
	case <-time.After(20 * time.Second):
		pc.Close()
		return nil, errors.New("the publisher did not connect")
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &publisher{pc: pc, session: session, cancel: cancel}
	send := func(tr *webrtc.TrackLocalStaticSample, samples [][]byte, d time.Duration) {
		defer p.wg.Done()
		tick := time.NewTicker(d)
		defer tick.Stop()
		for i := 0; ; i++ {
			_ = tr.WriteSample(media.Sample{Data: samples[i%len(samples)], Duration: d})
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}
	p.wg.Add(2)
	go send(video, c.video, time.Second/30)
	go send(audio, c.audio, 20*time.Millisecond)
	return p, nil
}

func (p *publisher) close() {
	p.cancel()
	p.wg.Wait()
	_ = p.pc.Close()
}

// result is what one configuration measured.
type result struct {
	name                string
	recordings          int
	seconds             float64 // recording window
	cpuPerRec           float64 // CPU seconds per recording-second (all server processes)
	cpuIdle             float64 // CPU seconds per second of the idle nodes, before the publishers
	cpuPerRecNet        float64 // cpuPerRec less the idle nodes' share
	rssPerRec           float64 // MiB of resident memory growth per live recording
	heapPerRec          float64 // MiB of in-use heap growth per live recording (mean of 5 samples)
	mbps                float64 // recorded (and, for S3, uploaded) megabits per second, all recordings
	stopMedian, stopMax time.Duration
	failover            time.Duration
	failoverRecs        int
	failoverLost        []float64
	errors              []string
}

// run records n recordings spread over nodes for d, and measures.
func run(t *testing.T, name string, nodes []*node, n int, d time.Duration, c clip) *result {
	res := &result{name: name, recordings: n}
	api := newAPI()
	time.Sleep(2 * time.Second) // let start-up settle
	var idle0, idle1 time.Duration
	for _, nd := range nodes {
		idle0 += nd.cpu()
	}
	time.Sleep(5 * time.Second)
	for _, nd := range nodes {
		idle1 += nd.cpu()
	}
	res.cpuIdle = (idle1 - idle0).Seconds() / 5
	rss0, heap0 := map[*node]int64{}, map[*node]int64{}
	for _, nd := range nodes {
		rss0[nd], heap0[nd] = nd.rss(), nd.heap()
	}
	pubs := make([]*publisher, n)
	ids := make([]string, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			nd := nodes[i%len(nodes)]
			p, err := publish(api, nd.url, c)
			if err != nil {
				mu.Lock()
				res.errors = append(res.errors, err.Error())
				mu.Unlock()
				return
			}
			pubs[i] = p
			st, b, err := request("POST", nd.url+"/api/recordings", []byte(`{"session":"`+p.session+`"}`))
			if err != nil || st != http.StatusCreated {
				mu.Lock()
				res.errors = append(res.errors, fmt.Sprintf("create: %d %s %v", st, b, err))
				mu.Unlock()
				return
			}
			var m recMeta
			_ = json.Unmarshal(b, &m)
			ids[i] = m.ID
		}()
	}
	wg.Wait()
	cpu0 := time.Duration(0)
	for _, nd := range nodes {
		cpu0 += nd.cpu()
	}
	start := time.Now()
	var heapSum int64
	for i := range 5 {
		time.Sleep(d / 5)
		_ = i
		for _, nd := range nodes {
			heapSum += nd.heap() - heap0[nd]
		}
	}
	var cpu1 time.Duration
	var rss int64
	for _, nd := range nodes {
		cpu1 += nd.cpu()
		rss += nd.rss() - rss0[nd]
	}
	window := time.Since(start)
	live := 0
	for _, id := range ids {
		if id != "" {
			live++
		}
	}
	res.seconds = window.Seconds()
	if live > 0 {
		res.cpuPerRec = (cpu1 - cpu0).Seconds() / window.Seconds() / float64(live)
		res.cpuPerRecNet = ((cpu1-cpu0).Seconds()/window.Seconds() - res.cpuIdle) / float64(live)
		res.rssPerRec = float64(rss) / float64(live) / (1 << 20)
		res.heapPerRec = float64(heapSum) / 5 / float64(live) / (1 << 20)
	}

	// Failover (cluster only): lose the last node with its disk.
	all := nodes
	var victim *node
	if len(nodes) > 1 {
		victim = nodes[len(nodes)-1]
		var theirs []string
		for i, id := range ids {
			if id != "" && i%len(nodes) == len(nodes)-1 {
				theirs = append(theirs, id)
			}
		}
		killed := time.Now()
		victim.kill(syscall.SIGKILL)
		for _, id := range theirs {
			for time.Since(killed) < 2*time.Minute {
				b, err := get(nodes[0].url + "/api/recordings/" + id)
				var m recMeta
				if err == nil && json.Unmarshal(b, &m) == nil && m.State == "inactive" {
					if !m.Recovered {
						res.errors = append(res.errors, id+": finished but not marked recovered")
					}
					res.failoverLost = append(res.failoverLost, m.Lost)
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
		res.failover = time.Since(killed)
		res.failoverRecs = len(theirs)
	}

	// Stop every recording that is still live on its node; the stop call
	// returns once the file (object) is finished.
	var stops []time.Duration
	var bytes int64
	for i, id := range ids {
		if id == "" {
			continue
		}
		nd := all[i%len(all)]
		if nd == victim {
			if b2, err := get(all[0].url + "/api/recordings/" + id); err == nil {
				var m recMeta
				_ = json.Unmarshal(b2, &m)
				bytes += m.Size
			}
			continue
		}
		t0 := time.Now()
		st, b, err := request("POST", nd.url+"/api/recordings/"+id+"/stop", nil)
		el := time.Since(t0)
		var m recMeta
		_ = json.Unmarshal(b, &m)
		if err == nil && st == 200 {
			stops = append(stops, el)
		}
		if b2, err := get(nd.url + "/api/recordings/" + id); err == nil {
			_ = json.Unmarshal(b2, &m)
			bytes += m.Size
		}
	}
	for _, p := range pubs {
		if p != nil {
			p.close()
		}
	}
	slices.Sort(stops)
	if len(stops) > 0 {
		res.stopMedian, res.stopMax = stops[len(stops)/2], stops[len(stops)-1]
	}
	res.mbps = float64(bytes) * 8 / 1e6 / time.Since(start).Seconds()
	return res
}

func (r *result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-30s %3d rec  CPU %.4f s/s per rec (%.4f less the idle nodes' %.4f s/s)  heap %+.2f MiB, RSS %+.2f MiB per rec  %.2f Mb/s stored  stop→finished median %v max %v",
		r.name, r.recordings, r.cpuPerRec, r.cpuPerRecNet, r.cpuIdle, r.heapPerRec, r.rssPerRec, r.mbps, r.stopMedian.Round(time.Millisecond), r.stopMax.Round(time.Millisecond))
	if r.failoverRecs > 0 {
		fmt.Fprintf(&b, "  failover of %d rec: %v (lost by catalog ≥ %v s)", r.failoverRecs, r.failover.Round(100*time.Millisecond), r.failoverLost)
	}
	if len(r.errors) > 0 {
		fmt.Fprintf(&b, "\n  errors: %v", r.errors)
	}
	return b.String()
}

// TestClusterLoad is bench/cluster-load.sh's run.
func TestClusterLoad(t *testing.T) {
	if os.Getenv("CLUSTERLOAD") != "1" {
		t.Skip("the cluster load benchmark: run bench/cluster-load.sh")
	}
	pg := pgtest.Start(t)
	dsn := pg.NewDB(t)
	s3 := s3test.Start(t)
	bin := buildBinary(t)
	c := loadClip(t)
	d := time.Duration(*flagSeconds) * time.Second

	local := startNode(t, bin, "local", nil, nil)
	r1 := run(t, "single node, local disk", []*node{local}, *flagN, d, c)
	local.kill(syscall.SIGTERM)
	// What one of the cluster's nodes records, alone: a process's fixed
	// work (GC, the RTP reader, the muxing grid) shared by fewer.
	third := startNode(t, bin, "local-third", nil, nil)
	r0 := run(t, fmt.Sprintf("single node, local, %d rec", max(*flagN/3, 1)), []*node{third}, max(*flagN/3, 1), d, c)
	third.kill(syscall.SIGTERM)

	env := []string{
		"AWS_ACCESS_KEY_ID=" + s3test.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s3test.SecretKey,
		"AWS_REGION=" + s3test.Region, "AWS_ENDPOINT_URL_S3=" + s3.Endpoint,
	}
	single := startNode(t, bin, "single-s3", []string{"-store", "s3://" + s3.Bucket + "/single/", "-flush-interval", flagFlush.String()}, env)
	r2 := run(t, "single node, SeaweedFS", []*node{single}, *flagN, d, c)
	single.kill(syscall.SIGTERM)

	var nodes []*node
	for i := range 3 {
		nodes = append(nodes, startNode(t, bin, fmt.Sprintf("node%d", i), []string{"-store", "s3://" + s3.Bucket + "/bench/", "-catalog", dsn, "-flush-interval", flagFlush.String()}, env))
	}
	r3 := run(t, "3 nodes, SeaweedFS+PostgreSQL", nodes, *flagN, d, c)

	report := fmt.Sprintf("cluster-load: %d recordings of %d s each (VP8+Opus test clip), flush interval %v\n%s\n%s\n%s\n%s\n"+
		"CPU per recording vs the local disk: the store (one node) %+.0f %%, the cluster %+.0f %% (vs one node with a third of the recordings: %+.0f %%)\n",
		*flagN, *flagSeconds, *flagFlush, r1, r0, r2, r3, 100*(r2.cpuPerRec/r1.cpuPerRec-1), 100*(r3.cpuPerRec/r1.cpuPerRec-1), 100*(r3.cpuPerRec/r0.cpuPerRec-1))
	// Commit times, from the nodes' logs.
	for _, nd := range append([]*node{local, single}, nodes...) {
		f, err := os.Open(nd.log)
		if err != nil {
			continue
		}
		var commits []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if i := strings.Index(sc.Text(), " commit="); i >= 0 {
				commits = append(commits, strings.Fields(sc.Text()[i+8:])[0])
			}
		}
		f.Close()
		report += fmt.Sprintf("%s commit times: %v\n", nd.name, commits)
	}
	t.Log("\n" + report)
	fmt.Println(report)
	if *flagOut != "" {
		_ = os.WriteFile(*flagOut, []byte(report), 0o644)
	}
}
