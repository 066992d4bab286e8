package cli

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServe starts `serve`, reads the page and the API, and stops it as
// SIGTERM would.
func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(t.Context())
	var out, errb bytes.Buffer
	done := make(chan error, 1)
	dir := filepath.Join(t.TempDir(), "recordings")
	go func() {
		done <- serve(ctx, serveConfig{addr: addr, dir: dir, cors: "*", stdout: &out, stderr: &errb})
	}()
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err = http.Get("http://" + addr + "/api/recordings"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("the server did not come up: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /api/recordings: %d", resp.StatusCode)
	}
	page, err := http.Get("http://" + addr + "/")
	if err != nil || page.StatusCode != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /: %v %v", err, page)
	}
	page.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(out.String(), "http://"+addr+"/") {
		t.Errorf("serve did not print its URL: %q", out.String())
	}
	if code, _, _ := runCLI("serve", "-dir", "/proc/forbidden/recordings", "-addr", "127.0.0.1:0"); code != 1 {
		t.Errorf("an unwritable -dir: exit %d, want 1", code)
	}
}
