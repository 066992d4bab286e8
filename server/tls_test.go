package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and
// localhost, named cn, and its key as PEM files.
func writeCert(t *testing.T, certFile, keyFile, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// Written whole, then renamed: a renewal replaces the files.
	for _, f := range []struct {
		path, typ string
		der       []byte
	}{{certFile, "CERTIFICATE", der}, {keyFile, "EC PRIVATE KEY", kb}} {
		tmp := f.path + ".tmp"
		if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der}), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, f.path); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// newTLSServer serves s over HTTPS as serve does (HTTPServer, Listener,
// ServeTLS) and returns its base URL.
func newTLSServer(t *testing.T, cfg Config) (*Server, string) {
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
	hs := s.HTTPServer()
	go func() { _ = hs.ServeTLS(s.Listener(ln), "", "") }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		_ = hs.Shutdown(ctx)
	})
	return s, "https://" + ln.Addr().String()
}

// tlsGet fetches url over HTTP/2 (when the server offers it), trusting
// no certificate but reporting the one the server sent, and the body.
func tlsGet(t *testing.T, url string) (*http.Response, *x509.Certificate, []byte) {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, resp.TLS.PeerCertificates[0], body
}

// TestTLSReload: the page and the API over HTTPS and HTTP/2; a renewed
// certificate is served without a restart.
func TestTLSReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, certFile, keyFile, "first")
	_, base := newTLSServer(t, Config{TLSCert: certFile, TLSKey: keyFile})
	for _, path := range []string{"/", "/api/recordings", "/healthz"} {
		resp, cert, _ := tlsGet(t, base+path)
		if resp.StatusCode != 200 || resp.ProtoMajor != 2 || cert.Subject.CommonName != "first" {
			t.Errorf("GET %s: %d %s, certificate %q; want 200 over HTTP/2 with \"first\"", path, resp.StatusCode, resp.Proto, cert.Subject.CommonName)
		}
	}
	writeCert(t, certFile, keyFile, "second")
	// Make the change visible even where mtimes are coarse.
	later := time.Now().Add(time.Minute)
	_ = os.Chtimes(certFile, later, later)
	deadline := time.Now().Add(20 * time.Second) // a hang guard; the reload takes about a second
	for {
		_, cert, _ := tlsGet(t, base+"/healthz")
		if cert.Subject.CommonName == "second" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %q after the certificate was renewed", cert.Subject.CommonName)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// A broken renewal keeps the last good certificate.
	if err := os.WriteFile(certFile, []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // past checkEvery, so the broken file is read
	if _, cert, _ := tlsGet(t, base+"/healthz"); cert.Subject.CommonName != "second" {
		t.Errorf("after a broken renewal: %q, want the previous \"second\"", cert.Subject.CommonName)
	}
}

// TestTLSBadFiles: New refuses a certificate it cannot load, or half a pair.
func TestTLSBadFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := New(Config{Dir: dir, TLSCert: filepath.Join(dir, "none.pem"), TLSKey: filepath.Join(dir, "none.key")}); err == nil {
		t.Error("missing files: no error")
	}
	if _, err := New(Config{Dir: dir, TLSCert: "x.pem"}); err == nil {
		t.Error("no key: no error")
	}
}

// TestTLSConnsPerAddr: over HTTPS, a connection beyond -conns-per-ip gets
// its 503 over TLS. Before, the 503 was written in plain text into the
// TLS connection and the client saw only a handshake error.
func TestTLSConnsPerAddr(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, certFile, keyFile, "limits")
	_, base := newTLSServer(t, Config{TLSCert: certFile, TLSKey: keyFile, ConnsPerAddr: 1})
	first, err := tls.Dial("tcp", base[len("https://"):], &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		// The server counts the first connection once it has accepted it.
		resp, err = (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(base + "/healthz")
		if err != nil {
			t.Fatalf("the connection over the bound: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable || time.Now().After(deadline) {
			break
		}
		tr.CloseIdleConnections()
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("over the bound: %d Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
