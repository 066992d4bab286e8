package server

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestHealthReady: /healthz answers while the process lives; /readyz
// checks the recordings directory and the catalog, and fails while
// draining. Neither needs the token; pprof does.
func TestHealthReady(t *testing.T) {
	dir := t.TempDir()
	s, hs := newTestServer(t, Config{Dir: dir, Token: "tok"})
	if r := do(t, "GET", hs.URL+"/healthz", nil); r.status != 200 || string(r.body) != "ok\n" {
		t.Errorf("healthz: %d %q", r.status, r.body)
	}
	r := do(t, "GET", hs.URL+"/readyz", nil)
	if r.status != 200 || !strings.Contains(string(r.body), "storage: ok") || !strings.Contains(string(r.body), "catalog: ok") {
		t.Errorf("readyz: %d %q", r.status, r.body)
	}
	if r := do(t, "GET", hs.URL+"/debug/pprof/", nil); r.status != 401 {
		t.Errorf("pprof without the token: %d", r.status)
	}
	if r := do(t, "GET", hs.URL+"/debug/pprof/goroutine?debug=1", nil, "Authorization", "Bearer tok"); r.status != 200 || !strings.Contains(string(r.body), "goroutine profile") {
		t.Errorf("pprof with the token: %d", r.status)
	}
	// Storage gone (a lost mount): not ready, saying why.
	moved := dir + ".moved"
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	r = do(t, "GET", hs.URL+"/readyz", nil)
	if err := os.Rename(moved, dir); err != nil {
		t.Fatal(err)
	}
	if r.status != 503 || !strings.Contains(string(r.body), "storage: ") || strings.Contains(string(r.body), "storage: ok") {
		t.Errorf("readyz without its directory: %d %q", r.status, r.body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if r := do(t, "GET", hs.URL+"/readyz", nil); r.status != 503 || !strings.Contains(string(r.body), "draining") {
		t.Errorf("readyz while draining: %d %q", r.status, r.body)
	}
	if r := do(t, "GET", hs.URL+"/healthz", nil); r.status != 200 {
		t.Errorf("healthz while draining: %d", r.status)
	}
}

// TestDrain: while draining, a new WHIP offer gets 503 with Retry-After,
// a running recording goes on; Drain returns once it has ended, and its
// file is whole.
func TestDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	s, hs := newTestServer(t, Config{})
	pub := publish(t, hs.URL, "")
	var rec struct{ ID string }
	r := do(t, "POST", hs.URL+"/api/recordings", []byte(`{"session":"`+pub.session+`"}`), "Content-Type", "application/json")
	mustJSON(t, r.body, &rec)
	drained := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		drained <- s.Drain(ctx)
	}()
	for { // until Drain has begun
		s.mu.Lock()
		d := s.ops.draining
		s.mu.Unlock()
		if d {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	r = do(t, "POST", hs.URL+"/whip", []byte(offerSDP(t)), "Content-Type", "application/sdp")
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Errorf("WHIP while draining: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	time.Sleep(time.Second)
	select {
	case err := <-drained:
		t.Fatalf("Drain returned while a recording runs: %v", err)
	default:
	}
	var v struct {
		State string
		Size  int64
	}
	mustJSON(t, do(t, "GET", hs.URL+"/api/recordings/"+rec.ID, nil).body, &v)
	if v.State != "recording" {
		t.Errorf("the recording is %q while draining", v.State)
	}
	// The publisher leaves: the recording ends by itself, the drain is over.
	if r := do(t, "DELETE", hs.URL+pub.location, nil); r.status != 200 {
		t.Fatalf("DELETE: %d", r.status)
	}
	if err := <-drained; err != nil {
		t.Fatalf("Drain: %v", err)
	}
	mustJSON(t, do(t, "GET", hs.URL+"/api/recordings/"+rec.ID, nil).body, &v)
	if v.State != "inactive" || v.Size == 0 {
		t.Errorf("after the drain: %+v", v)
	}
}

// TestMetricsOps: /metrics keeps its names and adds the RTP statistics of
// each session, the stop-to-finished histogram, Go runtime and process
// metrics.
func TestMetricsOps(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	_, hs := newTestServer(t, Config{})
	pub := publish(t, hs.URL, "")
	var rec struct{ ID string }
	mustJSON(t, do(t, "POST", hs.URL+"/api/recordings", []byte(`{"session":"`+pub.session+`"}`), "Content-Type", "application/json").body, &rec)
	time.Sleep(2 * time.Second)
	if r := do(t, "POST", hs.URL+"/api/recordings/"+rec.ID+"/stop", nil); r.status != 200 {
		t.Fatal(r.status)
	}
	body := string(do(t, "GET", hs.URL+"/metrics", nil).body)
	for _, re := range []string{
		`(?m)^mediarecorder_sessions 1$`,
		`(?m)^mediarecorder_recordings_total 1$`,
		`(?m)^mediarecorder_rtp_packets_received_total\{session="` + pub.session + `",kind="video",ssrc="\d+"\} [1-9]\d*$`,
		`(?m)^mediarecorder_rtp_packets_received_total\{session="` + pub.session + `",kind="audio",ssrc="\d+"\} [1-9]\d*$`,
		`(?m)^mediarecorder_rtp_packets_lost_total\{session="` + pub.session + `",kind="video",ssrc="\d+"\} \d+$`,
		`(?m)^mediarecorder_rtp_jitter_seconds\{session="` + pub.session + `",kind="audio",ssrc="\d+"\} \S+$`,
		`(?m)^mediarecorder_rtp_nacks_total\{session=`,
		`(?m)^mediarecorder_rtp_plis_total\{session="` + pub.session + `",kind="video",ssrc="\d+"\} \d+$`,
		`(?m)^mediarecorder_rtp_bitrate_bits_per_second\{session="` + pub.session + `",kind="video",ssrc="\d+"\} [1-9]`,
		`(?m)^mediarecorder_stop_to_finished_seconds_count 1$`,
		`(?m)^mediarecorder_stop_to_finished_seconds_bucket\{le="\+Inf"\} 1$`,
		`(?m)^go_goroutines [1-9]`,
		`(?m)^go_memstats_alloc_bytes [1-9]`,
		`(?m)^process_cpu_seconds_total \S+$`,
		`(?m)^process_resident_memory_bytes [1-9]`,
		`(?m)^process_open_fds [1-9]`,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("/metrics lacks %s", re)
		}
	}
	// Every sample line belongs to a family with HELP and TYPE.
	typed := map[string]bool{}
	for _, l := range strings.Split(body, "\n") {
		if f := strings.Fields(l); len(f) >= 4 && f[1] == "TYPE" {
			typed[f[2]] = true
		}
	}
	for _, l := range strings.Split(body, "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		name := regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*`).FindString(l)
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
		if !typed[name] && !typed[base] {
			t.Errorf("sample without a TYPE: %s", l)
		}
	}
}
