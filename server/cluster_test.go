package server

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/internal/pgtest"
	"github.com/gomediarecorder/mediarecorder/internal/s3test"
	"github.com/gomediarecorder/mediarecorder/storage"
)

// lossBound is the most a recording loses when its node is lost with its
// disk, in a cluster with the default flush interval (1 s): the
// interval, the recorder's own flush (whole elements reach the spool at
// least every second) and the Cluster cut off by the repair (webm.Fix
// keeps whole Clusters; the recorder closes one at least every second
// with timeslice 0... and at each key frame), with a second of slack for
// a loaded machine. README.md states it.
const lossBound = 4.0

// clusterNode is one `mediarecorder serve` process of a test cluster.
type clusterNode struct {
	t    *testing.T
	name string
	url  string
	args []string
	env  []string
	log  string
	cmd  *exec.Cmd
	exit chan struct{}
}

// buildBinary builds cmd/mediarecorder into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mediarecorder")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/mediarecorder")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freePort returns a TCP port free on loopback now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startNode starts a node and waits until its API answers.
func startNode(t *testing.T, bin, name string, extra []string, env []string) *clusterNode {
	t.Helper()
	port := freePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	dir := t.TempDir()
	n := &clusterNode{
		t: t, name: name, url: url, env: env, log: filepath.Join(dir, "node.log"),
		args: append([]string{"serve", "-addr", fmt.Sprintf("127.0.0.1:%d", port), "-dir", filepath.Join(dir, "spool"),
			"-advertise", url, "-token", testToken}, extra...),
	}
	n.start(bin)
	t.Cleanup(func() {
		n.kill(syscall.SIGTERM)
		if t.Failed() {
			b, _ := os.ReadFile(n.log)
			lines := strings.Split(string(b), "\n")
			if len(lines) > 150 {
				lines = lines[len(lines)-150:]
			}
			t.Logf("%s log (tail):\n%s", n.name, strings.Join(lines, "\n"))
		}
	})
	return n
}

func (n *clusterNode) start(bin string) {
	n.t.Helper()
	f, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		n.t.Fatal(err)
	}
	defer f.Close()
	n.cmd = exec.Command(bin, n.args...)
	n.cmd.Env = append(os.Environ(), n.env...)
	n.cmd.Stdout, n.cmd.Stderr = f, f
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.exit = make(chan struct{})
	go func() { _ = n.cmd.Wait(); close(n.exit) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(n.url + "/api/recordings?access_token=" + testToken)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-n.exit:
			n.t.Fatalf("%s exited at start", n.name)
		default:
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s did not start", n.name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill sends sig and waits for the process to end.
func (n *clusterNode) kill(sig syscall.Signal) {
	select {
	case <-n.exit:
		return
	default:
	}
	_ = n.cmd.Process.Signal(sig)
	select {
	case <-n.exit:
	case <-time.After(40 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.exit
	}
}

// waitWritable waits until the S3 server stores objects again (after a
// restart SeaweedFS lists buckets a while before it can write).
func waitWritable(t *testing.T, srv *s3test.Server) {
	t.Helper()
	opts := srv.Options(t.TempDir())
	opts.Prefix = "probe/"
	deadline := time.Now().Add(2 * time.Minute)
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := func() error {
			st, err := storage.NewS3(ctx, opts)
			if err != nil {
				return err
			}
			w, err := st.Create(ctx, fmt.Sprintf("p%d", i), storage.CreateOptions{})
			if err != nil {
				return err
			}
			if _, err := w.Write([]byte("probe")); err != nil {
				return err
			}
			return w.Commit(ctx)
		}()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("SeaweedFS does not store objects again: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// sseEvent is one event read from a stream, with its id.
type sseRead struct {
	id         int64
	name, data string
}

// readEvents reads an SSE stream until it ends (or ctx ends).
func readEvents(ctx context.Context, t *testing.T, url, lastID string) <-chan []sseRead {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan []sseRead, 1)
	go func() {
		defer resp.Body.Close()
		var evs []sseRead
		var cur sseRead
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				cur.id, _ = strconv.ParseInt(line[4:], 10, 64)
			case strings.HasPrefix(line, "event: "):
				cur.name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				cur.data = line[len("data: "):]
			case line == "" && cur.name != "":
				evs = append(evs, cur)
				cur = sseRead{}
			}
		}
		out <- evs
	}()
	return out
}

// TestCluster runs three `mediarecorder serve` processes sharing one
// PostgreSQL catalog and one SeaweedFS bucket. Publishers publish to
// different nodes; their recordings are created, paused, resumed and
// stopped, and their events read, through nodes that do not own them.
// SeaweedFS is stopped for 20 s mid-recording (nothing may be lost), and
// one node is killed with SIGKILL: another finishes its recording within
// 30 s, marked recovered, decodable, having lost at most lossBound.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, SeaweedFS and three server processes")
	}
	mediatest.RequireTool(t, "ffmpeg")
	pg := pgtest.Start(t)
	dsn := pg.NewDB(t)
	s3 := s3test.Start(t)
	bin := buildBinary(t)
	env := []string{
		"AWS_ACCESS_KEY_ID=" + s3test.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s3test.SecretKey,
		"AWS_REGION=" + s3test.Region, "AWS_ENDPOINT_URL_S3=" + s3.Endpoint,
	}
	store := "s3://" + s3.Bucket + "/cluster/"
	var nodes []*clusterNode
	for i := range 3 {
		nodes = append(nodes, startNode(t, bin, fmt.Sprintf("node%d", i), []string{"-store", store, "-catalog", dsn, "-capacity", "4"}, env))
	}
	auth := []string{"Authorization", "Bearer " + testToken}
	api := func(method string, n *clusterNode, path string, body string) response {
		t.Helper()
		return do(t, method, n.url+path, []byte(body), append([]string{"Content-Type", "application/json"}, auth...)...)
	}

	// Publisher i publishes to node i; its recording is created through
	// node i+1.
	type rec struct {
		owner, other *clusterNode
		id           string
		started      time.Time
	}
	var recs []rec
	for i := range 3 {
		pub := publish(t, nodes[i].url, testToken)
		if !strings.HasPrefix(pub.location, nodes[i].url+"/whip/") {
			t.Errorf("Location %q does not reach %s", pub.location, nodes[i].url)
		}
		other := nodes[(i+1)%3]
		r := api("POST", other, "/api/recordings", `{"session":"`+pub.session+`"}`)
		if r.status != http.StatusCreated {
			t.Fatalf("create on %s through %s: %d %s", nodes[i].name, other.name, r.status, r.body)
		}
		m := decodeJSON[meta](t, r.body)
		recs = append(recs, rec{owner: nodes[i], other: other, id: m.ID, started: time.Now()})
		t.Logf("recording %s on %s (node %s), created through %s", m.ID, nodes[i].name, m.Node, other.name)
	}
	// Events of recording 0 through node 1 and of recording 2 through
	// node 0, which do not own them.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	events0 := readEvents(ctx, t, nodes[1].url+"/api/recordings/"+recs[0].id+"/events", "")
	events2 := readEvents(ctx, t, nodes[0].url+"/api/recordings/"+recs[2].id+"/events", "")

	time.Sleep(2 * time.Second)
	// Pause and resume recording 0 through node 1.
	for _, action := range []string{"pause", "resume"} {
		if r := api("POST", nodes[1], "/api/recordings/"+recs[0].id+"/"+action, ""); r.status != 200 {
			t.Fatalf("%s through node0: %d %s", action, r.status, r.body)
		}
	}
	// Listed and readable on every node.
	for _, n := range nodes {
		list := decodeJSON[struct{ Recordings []meta }](t, api("GET", n, "/api/recordings", "").body)
		if len(list.Recordings) != 3 {
			t.Errorf("%s lists %d recordings", n.name, len(list.Recordings))
		}
	}

	// The store goes away for 20 s while everything records.
	t.Log("stopping SeaweedFS for 20 s")
	s3.Stop()
	time.Sleep(20 * time.Second)
	s3.Restart()
	waitWritable(t, s3)
	t.Log("SeaweedFS is back")
	// Let the writers catch up (retries back off up to 5 s, then a
	// flush), then lose node 2 with its disk (the spool is never seen
	// again).
	time.Sleep(8 * time.Second)
	killed := time.Now()
	nodes[2].kill(syscall.SIGKILL)
	recordedBeforeKill := killed.Sub(recs[2].started).Seconds()
	t.Logf("killed node2 after %.1f s of recording %s", recordedBeforeKill, recs[2].id)

	// Stop recordings 0 and 1 through nodes that do not own them.
	recorded := map[int]float64{}
	for _, i := range []int{0, 1} {
		recorded[i] = time.Since(recs[i].started).Seconds()
		via := nodes[1-i] // alive, not the owner
		r := api("POST", via, "/api/recordings/"+recs[i].id+"/stop", "")
		if r.status != 200 {
			t.Fatalf("stop %s through %s: %d %s", recs[i].id, via.name, r.status, r.body)
		}
		m := decodeJSON[meta](t, r.body)
		if m.State != "inactive" {
			t.Errorf("after stop: %+v", m)
		}
	}

	// Another node finishes recording 2 within 30 s.
	var got meta
	waitFor(t, 30*time.Second, "the takeover of the killed node's recording", func() bool {
		got = decodeJSON[meta](t, api("GET", nodes[0], "/api/recordings/"+recs[2].id, "").body)
		return got.State == "inactive" && got.Recovered
	})
	tookOver := time.Since(killed)
	t.Logf("recording %s finished by node %s %.1f s after the kill: duration %.3f s, lost %.3f s (catalog's lower bound), %.3f s (measured)",
		got.ID, got.Node, tookOver.Seconds(), got.Duration, got.Lost, recordedBeforeKill-got.Duration)

	// "lost" is a lower bound: what the owner had recorded at its last
	// flush (the flush's note) or heartbeat, less what was recovered; the
	// measured figure counts from before the recording started.
	if measured := recordedBeforeKill - got.Duration; got.Lost > measured+0.5 {
		t.Errorf("lost %.3f s, more than the %.3f s measured", got.Lost, measured)
	}

	// Every recording decodes cleanly, from any node; 0 and 1 lost
	// nothing to the store's absence.
	durations := map[int]float64{}
	for i, r := range recs {
		n := nodes[(i+1)%2] // a live node
		path := filepath.Join(t.TempDir(), r.id+".webm")
		resp := do(t, "GET", n.url+"/api/recordings/"+r.id+"/media", nil, auth...)
		if resp.status != 200 {
			t.Fatalf("media of %s through %s: %d %s", r.id, n.name, resp.status, resp.body)
		}
		if err := os.WriteFile(path, resp.body, 0o644); err != nil {
			t.Fatal(err)
		}
		if out := mediatest.DecodeVFR(t, path); out != "" {
			t.Errorf("recording %d: ffmpeg: %s", i, out)
		}
		p := mediatest.FFprobe(t, path)
		t.Logf("recording %d: %.3f s, %d bytes", i, p.Duration, len(resp.body))
		durations[i] = p.Duration
		// Range works on the stored object.
		rr := do(t, "GET", n.url+"/api/recordings/"+r.id+"/media", nil, append([]string{"Range", "bytes=100-199"}, auth...)...)
		if rr.status != http.StatusPartialContent || len(rr.body) != 100 || string(rr.body) != string(resp.body[100:200]) {
			t.Errorf("recording %d: Range: %d, %d bytes", i, rr.status, len(rr.body))
		}
	}

	// Recording 1 ran untouched: what it lacks of the time between its
	// creation and its stop is the start-up (connection, first key
	// frame), which recording 2, started the same way, lacks too. Beyond
	// that, 1 lost nothing to the store's absence, 0 nothing but the key
	// frame wait after its resume (the test clip has one key frame), and
	// 2 no more than lossBound to the kill.
	offset := recorded[1] - durations[1]
	t.Logf("start-up offset %.3f s", offset)
	if offset > 3 {
		t.Errorf("recording 1: %.3f s, recorded for %.1f s: lost %.1f s", durations[1], recorded[1], offset)
	}
	if lost := recorded[0] - durations[0] - offset; lost > 5 {
		t.Errorf("recording 0: %.3f s, recorded for %.1f s: lost %.1f s", durations[0], recorded[0], lost)
	}
	lost := recordedBeforeKill - durations[2] - offset
	t.Logf("the takeover lost %.3f s (bound %.1f s)", lost, lossBound)
	if lost > lossBound {
		t.Errorf("the takeover lost %.3f s, more than %.1f s", lost, lossBound)
	}

	// The event streams read through other nodes end with stop, numbered
	// 1, 2, 3…
	for i, ch := range []<-chan []sseRead{events0, events2} {
		var evs []sseRead
		select {
		case evs = <-ch:
		case <-ctx.Done():
			t.Fatalf("event stream %d did not end", i)
		}
		if len(evs) < 2 || evs[0].name != "start" || evs[len(evs)-1].name != "stop" {
			t.Errorf("events %d: %+v", i, evs)
			continue
		}
		for j, ev := range evs {
			if ev.id != int64(j+1) {
				t.Errorf("events %d: event %d has id %d", i, j, ev.id)
				break
			}
		}
	}
	// Last-Event-ID resumes after the given event.
	evs := <-readEvents(ctx, t, nodes[1].url+"/api/recordings/"+recs[0].id+"/events", "2")
	if len(evs) == 0 || evs[0].id != 3 || evs[len(evs)-1].name != "stop" {
		t.Errorf("events after Last-Event-ID 2: %+v", evs)
	}

	// DELETE through a node that does not own it removes the object.
	if r := api("DELETE", nodes[1], "/api/recordings/"+recs[0].id, ""); r.status != http.StatusNoContent {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r := api("GET", nodes[0], "/api/recordings/"+recs[0].id+"/media", ""); r.status != http.StatusNotFound {
		t.Errorf("media after delete: %d", r.status)
	}

	// A node killed (SIGKILL) and restarted with its spool recovers its
	// own recording at once: the spool file repaired as fix does it, the
	// upload resumed from the parts already stored.
	pub := publish(t, nodes[1].url, testToken)
	r := api("POST", nodes[0], "/api/recordings", `{"session":"`+pub.session+`"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create through node0: %d %s", r.status, r.body)
	}
	m3 := decodeJSON[meta](t, r.body)
	started3 := time.Now()
	time.Sleep(5 * time.Second)
	nodes[1].kill(syscall.SIGKILL)
	recorded3 := time.Since(started3).Seconds()
	restarted := time.Now()
	nodes[1].start(bin)
	var after meta
	waitFor(t, 30*time.Second, "the restarted node to recover its recording", func() bool {
		after = decodeJSON[meta](t, api("GET", nodes[0], "/api/recordings/"+m3.ID, "").body)
		return after.State == "inactive" && after.Recovered
	})
	t.Logf("restarted node recovered %s (node %s, was %s) %.1f s after its restart: %.3f s of %.1f s recorded",
		after.ID, after.Node, m3.Node, time.Since(restarted).Seconds(), after.Duration, recorded3)
	if after.Node != m3.Node {
		t.Errorf("recovered by node %s, not by its own node %s", after.Node, m3.Node)
	}
	if lost := recorded3 - after.Duration - offset; lost > 2.5 {
		t.Errorf("the restart lost %.3f s", lost)
	}
	path := filepath.Join(t.TempDir(), m3.ID+".webm")
	resp := do(t, "GET", nodes[0].url+"/api/recordings/"+m3.ID+"/media", nil, auth...)
	if resp.status != 200 {
		t.Fatalf("media of %s: %d %s", m3.ID, resp.status, resp.body)
	}
	if err := os.WriteFile(path, resp.body, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := mediatest.DecodeVFR(t, path); out != "" {
		t.Errorf("restart-recovered recording: ffmpeg: %s", out)
	}
}

// clusterServer starts an in-process node of a cluster on catalog dsn,
// recording into a local directory.
func clusterServer(t *testing.T, dsn string, capacity int) (*Server, string) {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	url := "http://" + hs.Listener.Addr().String()
	s, err := New(Config{Dir: t.TempDir(), Catalog: dsn, Advertise: url, Capacity: capacity, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = s.Handler()
	hs.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		hs.Close()
	})
	return s, url
}

// TestClusterRedirect: a node at capacity answers a WHIP offer with 307
// to a node with room, whose session's Location is absolute; a session
// ID names its node, so POST /api/recordings for it works on any node.
func TestClusterRedirect(t *testing.T) {
	dsn := pgtest.NewDB(t)
	_, full := clusterServer(t, dsn, 1)
	_, roomy := clusterServer(t, dsn, 10)
	first := publish(t, full, "")
	if !strings.HasPrefix(first.location, full+"/whip/") {
		t.Errorf("first session at %q, want on %s", first.location, full)
	}
	// net/http follows the 307 with the offer again.
	second := publish(t, full, "")
	if !strings.HasPrefix(second.location, roomy+"/whip/") {
		t.Errorf("second session at %q, want on %s (the node with room)", second.location, roomy)
	}
	r := do(t, "POST", full+"/api/recordings", []byte(`{"session":"`+second.session+`"}`))
	if r.status != http.StatusCreated {
		t.Fatalf("create through the other node: %d %s", r.status, r.body)
	}
	m := decodeJSON[meta](t, r.body)
	if r := do(t, "POST", full+"/api/recordings/"+m.ID+"/stop", nil); r.status != 200 {
		t.Errorf("stop through the other node: %d %s", r.status, r.body)
	}
	if r := do(t, "DELETE", full+"/whip/"+second.session, nil); r.status != 200 {
		t.Errorf("DELETE /whip through the other node: %d %s", r.status, r.body)
	}
}
