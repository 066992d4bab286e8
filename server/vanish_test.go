package server

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// TestVanishedPublisher: a publisher process killed with SIGKILL sends no
// DELETE and no DTLS close. ICE consent times out, the session ends, its
// tracks end, and the automatic recording finishes with what arrived.
func TestVanishedPublisher(t *testing.T) {
	if base := os.Getenv("MR_VANISH_CHILD"); base != "" {
		pub := publish(t, base, "")
		fmt.Printf("session %s\n", pub.session)
		time.Sleep(time.Minute) // killed long before
		return
	}
	mediatest.RequireTool(t, "ffmpeg")
	old := [3]time.Duration{iceDisconnected, iceFailed, iceKeepAlive}
	iceDisconnected, iceFailed, iceKeepAlive = 1500*time.Millisecond, 1500*time.Millisecond, 500*time.Millisecond
	t.Cleanup(func() { iceDisconnected, iceFailed, iceKeepAlive = old[0], old[1], old[2] })
	_, hs := newTestServer(t, Config{AutoRecord: true})

	cmd := exec.Command(os.Args[0], "-test.run=^TestVanishedPublisher$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MR_VANISH_CHILD="+hs.URL)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sessions := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "session "); ok {
				sessions <- id
			}
		}
	}()
	var session string
	select {
	case session = <-sessions:
	case <-time.After(20 * time.Second):
		t.Fatal("the publisher did not connect")
	}
	rec := autoRecording(t, hs.URL)
	if rec.Session != session {
		t.Errorf("recording of session %q, want %q", rec.Session, session)
	}
	time.Sleep(2 * time.Second)
	killed := time.Now()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the recording to finish after the publisher vanished", func() bool {
		m := decodeJSON[meta](t, do(t, "GET", hs.URL+"/api/recordings/"+rec.ID, nil).body)
		return m.State == "inactive" && m.Size > 0
	})
	t.Logf("recording finished %.1f s after the kill", time.Since(killed).Seconds())
	if r := do(t, "DELETE", hs.URL+"/whip/"+session, nil); r.status != 404 {
		t.Errorf("DELETE of the timed-out session: %d, want 404 (the session is gone)", r.status)
	}
	if r := do(t, "GET", hs.URL+"/metrics", nil); !strings.Contains(string(r.body), "mediarecorder_sessions 0") {
		t.Errorf("metrics still count the session:\n%s", r.body)
	}
	// About two seconds of media: the silence after the kill is not
	// recorded, since nothing arrived.
	checkMedia(t, hs.URL, rec.ID, 2, 0.8)
}
