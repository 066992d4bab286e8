package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startTCP serves s the way `mediarecorder serve` does: HTTPServer on
// Listener, on a real TCP port of 127.0.0.1. It returns the listener (to
// count open connections) and the base URL.
func startTCP(t *testing.T, cfg Config) (*Server, *Listener, string) {
	t.Helper()
	return startTCPOn(t, cfg, nil)
}

// startTCPOn is startTCP with the TCP listener wrapped by wrap.
func startTCPOn(t *testing.T, cfg Config, wrap func(net.Listener) net.Listener) (*Server, *Listener, string) {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	cfg.Logger = testLogger(t)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inner := ln
	if wrap != nil {
		inner = wrap(ln)
	}
	l := s.Listener(inner)
	hs := s.HTTPServer()
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.Serve(l) }()
	t.Cleanup(func() {
		_ = hs.Close()
		<-done
		_ = s.Shutdown(t.Context())
	})
	return s, l, "http://" + ln.Addr().String()
}

// dial opens a raw TCP connection to base and, when req is not empty,
// sends it.
func dial(t *testing.T, base, req string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if req != "" {
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// TestSlowClients: keep-alive connections left idle, request bodies
// that stall after 5 bytes (read by the handler, or not: a request
// without the token) and headers that never end are all closed by the
// server once their timeouts pass. Before the server had timeouts
// (an http.Server with ReadHeaderTimeout only) the idle and stalled
// connections stayed open for good.
func TestSlowClients(t *testing.T) {
	_, l, base := startTCP(t, Config{
		IdleTimeout: 200 * time.Millisecond, BodyTimeout: 200 * time.Millisecond,
		HeaderTimeout: 200 * time.Millisecond, ConnsPerAddr: -1, Token: testToken,
	})
	const idle, stalled, headers = 20, 10, 5
	var conns []net.Conn
	for range idle {
		c := dial(t, base, "GET /api/recordings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+testToken+"\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Close {
			t.Fatalf("idle client: %d, close %v", resp.StatusCode, resp.Close)
		}
		conns = append(conns, c)
	}
	var bodies []net.Conn
	for range stalled {
		bodies = append(bodies, dial(t, base, "POST /whip HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+testToken+"\r\nContent-Type: application/sdp\r\nContent-Length: 1000\r\n\r\nv=0\r\n"))
	}
	for range stalled {
		conns = append(conns, dial(t, base, "POST /whip HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\nContent-Length: 1000\r\n\r\nv=0\r\n"))
	}
	for range headers {
		conns = append(conns, dial(t, base, "GET /api/recordings HTTP/1.1\r\nHost: x\r\n"))
	}
	waitFor(t, 30*time.Second, "the server to close every slow connection", func() bool { return l.Open() == 0 })
	for _, c := range bodies {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("stalled body: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "TimeoutError") {
			t.Errorf("stalled body: %d %s, want 408 TimeoutError", resp.StatusCode, b)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadAll(c); err != nil {
			t.Errorf("connection %d: %v, want EOF", i, err)
		}
	}
}

// TestConnsPerAddr: over ConnsPerAddr connections from one address, a
// new one is answered 503 with Retry-After and closed; once one of the
// others closes, a new one is served.
func TestConnsPerAddr(t *testing.T) {
	_, l, base := startTCP(t, Config{ConnsPerAddr: 3})
	var conns []net.Conn
	for range 3 {
		conns = append(conns, dial(t, base, ""))
	}
	waitFor(t, 10*time.Second, "3 open connections", func() bool { return l.Open() == 3 })
	c := dial(t, base, "GET /api/recordings HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "QuotaExceededError") {
		t.Errorf("connection over the bound: %d, Retry-After %q, %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	if l.Open() != 3 {
		t.Errorf("%d connections open, want 3", l.Open())
	}
	conns[0].Close()
	waitFor(t, 10*time.Second, "the closed connection to be counted out", func() bool { return l.Open() == 2 })
	r := do(t, "GET", base+"/api/recordings", nil)
	if r.status != 200 {
		t.Errorf("after one closed: %d %s", r.status, r.body)
	}
	http.DefaultClient.CloseIdleConnections()
}

// TestLongResponses: the write timeout is renewed at every write, so
// that an event stream quiet for longer than WriteTimeout, and a download
// read slowly for much longer, both go on; a client that stops reading
// altogether is cut off.
func TestLongResponses(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out real write timeouts; skipped in -short mode")
	}
	const wt = 500 * time.Millisecond
	// Small socket buffers on both sides, so that the server's writes
	// block as soon as the client stops reading (and resume as soon as it
	// reads a little), as they would on a real network.
	s, l, base := startTCPOn(t, Config{WriteTimeout: wt, IdleTimeout: -1}, func(ln net.Listener) net.Listener { return smallSendBuf{ln} })
	rc := fakeRecording(t, s, 4<<20, true)

	// Events: a live recording quiet for 3 × WriteTimeout, then an event.
	resp, err := http.Get(base + "/api/recordings/" + rc.e.ID + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, ":") {
		t.Fatalf("events: %q %v", line, err)
	}
	time.Sleep(3 * wt)
	rc.mu.Lock()
	rc.emit("pause", struct{}{})
	rc.mu.Unlock()
	var got []string
	for len(got) < 3 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("events after a quiet spell: %v (read %q)", err, got)
		}
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, ":") {
			got = append(got, line)
		}
	}
	if got[1] != "event: pause" {
		t.Errorf("events: %q", got)
	}

	// A download read slowly (a few KB each 50 ms: one 32 KB write takes
	// a few reads) for 3 × WriteTimeout, then at full speed.
	c := slowConn(t, base)
	fmt.Fprintf(c, "GET /api/recordings/%s/media HTTP/1.1\r\nHost: x\r\n\r\n", rc.e.ID)
	resp2, err := http.ReadResponse(bufio.NewReaderSize(c, 4096), nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	buf := make([]byte, 256<<10)
	start := time.Now()
	for pauses := 0; ; pauses++ {
		k, err := resp2.Body.Read(buf)
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("download cut after %d bytes, %d pauses: %v", n, pauses, err)
		}
		if time.Since(start) < 3*wt {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if n != 4<<20 {
		t.Errorf("downloaded %d bytes, want %d", n, 4<<20)
	}

	// A client that stops reading is cut off: its connection closes.
	before := l.Open()
	stuck := slowConn(t, base)
	fmt.Fprintf(stuck, "GET /api/recordings/%s/media HTTP/1.1\r\nHost: x\r\n\r\n", rc.e.ID)
	waitFor(t, 10*time.Second, "the server to open the stuck download", func() bool { return l.Open() == before+1 })
	waitFor(t, 30*time.Second, "the server to drop the stuck download", func() bool { return l.Open() == before })
}

// smallSendBuf sets a small send buffer on the connections it accepts.
type smallSendBuf struct{ net.Listener }

func (l smallSendBuf) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// slowConn dials base with a small receive buffer, so that a response
// the client does not read soon blocks the server's writes.
func slowConn(t *testing.T, base string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			// Before connect, so that the window offered stays small.
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<10)
		})
		return errors.Join(err, serr)
	}}
	c, err := d.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
