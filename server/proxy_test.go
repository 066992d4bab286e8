package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestBasePath: under -base-path everything moves under the prefix,
// Location headers included; nothing answers outside it.
func TestBasePath(t *testing.T) {
	_, hs := newTestServer(t, Config{BasePath: "/rec/"})
	base := hs.URL + "/rec"
	for _, tc := range []struct {
		path   string
		status int
	}{{"/", 200}, {"/app.js", 200}, {"/api/recordings", 200}, {"/metrics", 200}, {"/healthz", 200}, {"/readyz", 200}} {
		if r := do(t, "GET", base+tc.path, nil); r.status != tc.status {
			t.Errorf("GET /rec%s: %d", tc.path, r.status)
		}
		if r := do(t, "GET", hs.URL+tc.path, nil); r.status != 404 {
			t.Errorf("GET %s outside the base path: %d, want 404", tc.path, r.status)
		}
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/rec/" {
		t.Errorf("GET /rec: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	r := do(t, "POST", base+"/whip", []byte(offerSDP(t)), "Content-Type", "application/sdp")
	if loc := r.header.Get("Location"); r.status != 201 || !strings.HasPrefix(loc, "/rec/whip/") {
		t.Fatalf("POST /rec/whip: %d Location %q", r.status, loc)
	}
	if r := do(t, "DELETE", hs.URL+r.header.Get("Location"), nil); r.status != 200 {
		t.Errorf("DELETE the Location: %d", r.status)
	}
}

// TestTrustProxy: with TrustProxy, the WHIP Location is the URL the client
// used (X-Forwarded-Proto and -Host) and the per-address limits count the
// address in X-Forwarded-For; without it, both are ignored.
func TestTrustProxy(t *testing.T) {
	fwd := func(ip string) []string {
		return []string{"Content-Type", "application/sdp", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "rec.example.com", "X-Forwarded-For", "198.51.100.9, " + ip}
	}
	_, hs := newTestServer(t, Config{TrustProxy: true, BasePath: "/rec", SessionsPerAddr: 1})
	r := do(t, "POST", hs.URL+"/rec/whip", []byte(offerSDP(t)), fwd("192.0.2.1")...)
	if loc := r.header.Get("Location"); r.status != 201 || !strings.HasPrefix(loc, "https://rec.example.com/rec/whip/") {
		t.Errorf("Location %q (%d), want https://rec.example.com/rec/whip/…", loc, r.status)
	}
	if r := do(t, "POST", hs.URL+"/rec/whip", []byte(offerSDP(t)), fwd("192.0.2.2")...); r.status != 201 {
		t.Errorf("another client address behind the proxy: %d %s", r.status, r.body)
	}
	if r := do(t, "POST", hs.URL+"/rec/whip", []byte(offerSDP(t)), fwd("192.0.2.2")...); r.status != 503 {
		t.Errorf("a second session from 192.0.2.2 (limit 1): %d", r.status)
	}

	_, hs2 := newTestServer(t, Config{SessionsPerAddr: 1})
	r = do(t, "POST", hs2.URL+"/whip", []byte(offerSDP(t)), fwd("192.0.2.1")...)
	if loc := r.header.Get("Location"); r.status != 201 || !strings.HasPrefix(loc, "/whip/") {
		t.Errorf("untrusted: Location %q (%d), want /whip/…", loc, r.status)
	}
	if r := do(t, "POST", hs2.URL+"/whip", []byte(offerSDP(t)), fwd("192.0.2.2")...); r.status != 503 {
		t.Errorf("untrusted: X-Forwarded-For counted: %d", r.status)
	}
}
