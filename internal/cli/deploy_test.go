package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// TestServeDeployed runs `mediarecorder serve -config FILE` as a
// deployment would: settings from the file and the environment, HTTPS
// over HTTP/2 under a base path, JSON logs; SIGTERM makes it drain and
// exit 0.
func TestServeDeployed(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	conf := filepath.Join(dir, "serve.conf")
	text := fmt.Sprintf("addr = %s\ndir = %s\ntls-cert = %s\ntls-key = %s\nbase-path = /rec\nlog-format = text\n",
		addr, filepath.Join(dir, "recordings"), certFile, keyFile)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MEDIARECORDER_LOG_FORMAT", "json") // the environment wins over the file
	t.Setenv("MEDIARECORDER_DRAIN_TIMEOUT", "5s")
	var out, errb syncBuffer
	code := make(chan int, 1)
	go func() { code <- Main([]string{"serve", "-config", conf}, &out, &errb) }()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}
	var resp *http.Response
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err = client.Get("https://" + addr + "/rec/readyz")
		if err == nil {
			break
		}
		select {
		case c := <-code:
			t.Fatalf("serve exited %d: %s", c, errb.text())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not come up: %v", err)
		}
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Errorf("GET /rec/readyz: %d %s", resp.StatusCode, resp.Proto)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit status %d: %s", c, errb.text())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit after SIGTERM")
	}
	if !strings.Contains(out.text(), "https://"+addr+"/rec/") {
		t.Errorf("serve printed %q", out.text())
	}
	var msgs []string
	for _, l := range strings.Split(strings.TrimSpace(errb.text()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("a log line that is not JSON: %q", l)
			continue
		}
		msgs = append(msgs, fmt.Sprint(m["msg"]))
	}
	if !strings.Contains(strings.Join(msgs, "|"), "shutting down: draining") {
		t.Errorf("log messages %q", msgs)
	}
}

// text returns what was written so far.
func (b *syncBuffer) text() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
