package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/server"
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

// TestServeHelp: serve -h documents the limits with their defaults.
func TestServeHelp(t *testing.T) {
	_, out, errs := runCLI("serve", "-h")
	help := out + errs
	for _, want := range []string{
		"-capacity int", "(default 100)", "-sessions-per-ip", "-conns-per-ip", "(default 64)", "-max-candidates",
		"-connect-timeout", "(default 10s)", "-header-timeout", "-body-timeout", "-idle-timeout", "-write-timeout", "(default 30s)", "0 mean none",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("serve -h does not mention %q:\n%s", want, help)
		}
	}
}

// TestServeLimits: serve runs its HTTP server with the limits given: one
// connection per address (a second is answered 503), closed once idle.
// Before, serve's http.Server had no idle timeout and no bound.
func TestServeLimits(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan error, 1)
	lim := server.Config{ConnsPerAddr: 1, IdleTimeout: 300 * time.Millisecond}
	go func() {
		done <- serve(ctx, serveConfig{addr: addr, dir: t.TempDir(), cors: "*", limits: lim, stdout: &out, stderr: &errb})
	}()
	var c net.Conn
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err = net.Dial("tcp", addr); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("the server did not come up: %v", err)
	}
	defer c.Close()
	get := func(c net.Conn) *http.Response {
		t.Helper()
		if _, err := io.WriteString(c, "GET /api/recordings HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get(c); resp.StatusCode != 200 {
		t.Fatalf("first connection: %d", resp.StatusCode)
	}
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if resp := get(c2); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("second connection: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// The first, now idle, is closed by the server.
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("the idle connection: read %d, %v; want EOF", n, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
