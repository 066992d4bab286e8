package server

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// opusOffer is an offer the server answers (Opus audio) with no ICE
// candidates: its peer never connects unless it starts the checks.
var opusOffer = strings.ReplaceAll(strings.ReplaceAll(pcmuOffer, "SAVPF 0", "SAVPF 111"), "0 PCMU/8000", "111 opus/48000/2")

// withCandidates returns opusOffer with the given candidate lines.
func withCandidates(lines []string) string {
	return opusOffer + strings.Join(lines, "")
}

// hostCandidate is an a=candidate line for a UDP host address.
func hostCandidate(i int, addr *net.UDPAddr) string {
	return fmt.Sprintf("a=candidate:%d 1 udp %d %s %d typ host\r\n", i, 2130706431-i, addr.IP, addr.Port)
}

// TestCandidateFlood: an offer with 5,000 candidates is answered 400 at
// once, without a PeerConnection (so without a single check sent);
// before, it cost seconds of CPU and then some 20,000 STUN checks to the
// addresses it named. An offer within MaxCandidates is answered, and the
// checks its session sends stay within the bound maxBindingRequests
// sets, until the session is ended for not connecting.
func TestCandidateFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out real connect timeouts; skipped in -short mode")
	}
	const maxCand = 8
	s, hs := newTestServer(t, Config{MaxCandidates: maxCand, ConnectTimeout: 2 * time.Second})

	// Candidates that point at UDP sockets of the test, counting the
	// STUN binding requests they receive.
	var mu sync.Mutex
	checks := 0
	var lines []string
	for i := range 5000 {
		if i < maxCand {
			pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { pc.Close() })
			go func() {
				buf := make([]byte, 1500)
				for {
					n, _, err := pc.ReadFrom(buf)
					if err != nil {
						return
					}
					// A STUN binding request: type 0x0001, then the
					// magic cookie (RFC 8489 §5).
					if n >= 20 && buf[0] == 0 && buf[1] == 1 && string(buf[4:8]) == "\x21\x12\xa4\x42" {
						mu.Lock()
						checks++
						mu.Unlock()
					}
				}
			}()
			lines = append(lines, hostCandidate(i, pc.LocalAddr().(*net.UDPAddr)))
			continue
		}
		lines = append(lines, hostCandidate(i, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1024 + i}))
	}

	flood := withCandidates(lines)
	t0 := time.Now()
	r := do(t, "POST", hs.URL+"/whip", []byte(flood), "Content-Type", "application/sdp")
	t.Logf("a %d KB offer with %d candidates: %d in %v", len(flood)>>10, len(lines), r.status, time.Since(t0))
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "QuotaExceededError") {
		t.Fatalf("flood: %d %s, want 400 QuotaExceededError", r.status, r.body)
	}
	if n := s.slots.count(); n != 0 {
		t.Errorf("%d sessions held after a refused offer", n)
	}

	ok := withCandidates(lines[:maxCand])
	r = do(t, "POST", hs.URL+"/whip", []byte(ok), "Content-Type", "application/sdp")
	if r.status != http.StatusCreated {
		t.Fatalf("an offer with %d candidates: %d %s", maxCand, r.status, r.body)
	}
	local := strings.Count(string(r.body), " udp ") // the server's own candidates (udp4 and udp6)
	waitFor(t, 30*time.Second, "the unconnected session to be ended", func() bool { return s.slots.count() == 0 })
	time.Sleep(200 * time.Millisecond) // checks in flight
	mu.Lock()
	got := checks
	mu.Unlock()
	bound := maxCand * local * (maxBindingRequests + 1)
	t.Logf("%d checks to %d candidates (%d local candidates; bound %d)", got, maxCand, local, bound)
	if got == 0 || got > bound {
		t.Errorf("%d checks, want between 1 and %d", got, bound)
	}
	r = do(t, "POST", hs.URL+"/whip", []byte(withCandidates(lines[:maxCand+1])), "Content-Type", "application/sdp")
	if r.status != http.StatusBadRequest {
		t.Errorf("%d candidates: %d, want 400", maxCand+1, r.status)
	}
}

// TestCapacity: sessions beyond Capacity, or beyond SessionsPerAddr from
// one address, are answered 503 with Retry-After; sessions that never
// connect are ended ConnectTimeout after their answer, which frees their
// places. Before, there was no bound at all: 500 such offers held 2,000
// descriptors for 15 s.
func TestCapacity(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out real connect timeouts; skipped in -short mode")
	}
	s, hs := newTestServer(t, Config{Capacity: 3, SessionsPerAddr: 2, ConnectTimeout: 500 * time.Millisecond})
	post := func(remote string) response {
		t.Helper()
		rec := httptest.NewRecorder()
		req, _ := http.NewRequest("POST", "/whip", strings.NewReader(opusOffer))
		req.Header.Set("Content-Type", "application/sdp")
		req.RemoteAddr = remote
		s.ServeHTTP(rec, req)
		return response{rec.Code, rec.Header(), rec.Body.Bytes()}
	}
	want := func(r response, status int) {
		t.Helper()
		if r.status != status {
			t.Fatalf("POST /whip: %d %s, want %d", r.status, r.body, status)
		}
		if status == http.StatusServiceUnavailable && (r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "QuotaExceededError")) {
			t.Errorf("503 with Retry-After %q, %s", r.header.Get("Retry-After"), r.body)
		}
	}
	want(post("192.0.2.1:1000"), http.StatusCreated)
	want(post("192.0.2.1:1001"), http.StatusCreated)
	want(post("192.0.2.1:1002"), http.StatusServiceUnavailable) // per address
	want(post("192.0.2.2:1000"), http.StatusCreated)
	want(post("192.0.2.3:1000"), http.StatusServiceUnavailable) // capacity
	if n := s.slots.count(); n != 3 {
		t.Errorf("%d sessions held, want 3", n)
	}
	waitFor(t, 30*time.Second, "the unconnected sessions to be ended", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.sessions) == 0 && s.slots.count() == 0
	})
	want(post("192.0.2.3:1000"), http.StatusCreated)

	// A session that connects is not ended by ConnectTimeout.
	pub := publish(t, hs.URL, "")
	time.Sleep(1500 * time.Millisecond)
	s.mu.Lock()
	_, alive := s.sessions[pub.session]
	s.mu.Unlock()
	if !alive {
		t.Errorf("a connected session was ended")
	}
}
