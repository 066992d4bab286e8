// Package s3test runs a real S3 server for tests: SeaweedFS (weed
// server -s3) on 127.0.0.1, with its data in the test's temporary
// directory, a bucket and a credential pair.
//
// The weed binary is found at $MEDIARECORDER_WEED or in
// ${XDG_CACHE_HOME:-$HOME/.cache}/mediarecorder/weed, where
// scripts/setup-seaweedfs.sh (run by scripts/test.sh) builds it. Start
// skips the test under -short or when the binary is missing, and fails it
// instead when CI=true.
//
//	srv := s3test.Start(t)
//	st, _ := storage.NewS3(ctx, srv.Options(t.TempDir()))
//	...
//	srv.Stop()    // the store goes away
//	srv.Restart() // and comes back, same data and ports
package s3test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/storage"
)

// Credentials and bucket of every server Start runs.
const (
	AccessKey = "mediarecorder-test"
	SecretKey = "mediarecorder-test-secret-key-0123456789"
	Region    = "us-east-1"
)

// Server is a running SeaweedFS with its S3 gateway.
type Server struct {
	// Endpoint is the S3 URL, http://127.0.0.1:PORT.
	Endpoint string
	// Bucket exists once Start returns.
	Bucket string

	t     testing.TB
	bin   string
	dir   string
	ports []int // s3, master, volume, filer
	mu    sync.Mutex
	cmd   *exec.Cmd
	exit  chan struct{}
	log   *os.File
}

// Binary returns the weed binary's path, or skips (fails under CI=true)
// the test when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("s3test: SeaweedFS tests are skipped in -short mode")
	}
	bin := os.Getenv("MEDIARECORDER_WEED")
	if bin == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache")
		}
		bin = filepath.Join(cache, "mediarecorder", "weed")
	}
	if _, err := os.Stat(bin); err != nil {
		msg := fmt.Sprintf("s3test: no SeaweedFS binary at %s (run scripts/setup-seaweedfs.sh)", bin)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return bin
}

// Start runs a SeaweedFS server for the test, stopped when it ends, and
// creates a bucket.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	s := &Server{t: t, bin: bin, dir: dir, Bucket: "recordings"}
	cfg := fmt.Sprintf(`{"identities":[{"name":"test","credentials":[{"accessKey":%q,"secretKey":%q}],"actions":["Admin","Read","List","Tagging","Write"]}]}`, AccessKey, SecretKey)
	if err := os.WriteFile(filepath.Join(dir, "s3.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	var err error
	s.log, err = os.Create(filepath.Join(dir, "weed.log"))
	if err != nil {
		t.Fatal(err)
	}
	s.ports, err = freePorts(4)
	if err != nil {
		t.Fatal(err)
	}
	s.Endpoint = "http://127.0.0.1:" + strconv.Itoa(s.ports[0])
	t.Cleanup(func() {
		s.Stop()
		s.log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(s.log.Name())
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("weed log (tail):\n%s", b)
		}
	})
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	st, err := storage.NewS3(ctx, s.Options(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	for {
		err := st.EnsureBucket(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("s3test: SeaweedFS did not come up: %v", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	return s
}

// Options returns storage options for this server, spooling in spoolDir.
func (s *Server) Options(spoolDir string) storage.S3Options {
	return storage.S3Options{
		Endpoint: s.Endpoint, Region: Region, AccessKeyID: AccessKey, SecretAccessKey: SecretKey,
		Bucket: s.Bucket, SpoolDir: spoolDir, MaxBackoff: time.Second, QueueInterval: time.Second,
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	p := s.ports
	grpc := func(port int) string { return strconv.Itoa(port + 10000) }
	args := []string{"server",
		"-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-dir=" + filepath.Join(s.dir, "data"),
		"-master.port=" + strconv.Itoa(p[1]), "-master.port.grpc=" + grpc(p[1]),
		"-volume.port=" + strconv.Itoa(p[2]), "-volume.port.grpc=" + grpc(p[2]),
		"-filer.port=" + strconv.Itoa(p[3]), "-filer.port.grpc=" + grpc(p[3]),
		"-s3", "-s3.port=" + strconv.Itoa(p[0]), "-s3.port.grpc=" + grpc(p[0]),
		"-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.config=" + filepath.Join(s.dir, "s3.json"),
		"-master.telemetry=false", "-master.volumeSizeLimitMB=64", "-volume.max=0",
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("s3test: starting weed: %w", err)
	}
	exit := make(chan struct{})
	go func() { cmd.Wait(); close(exit) }()
	s.cmd, s.exit = cmd, exit
	return nil
}

// Stop stops the server (its data stays for Restart).
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-s.exit:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-s.exit
	}
	s.cmd = nil
	// The ports must be free again before a restart binds them.
	for _, port := range s.ports {
		for range 100 {
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 100*time.Millisecond)
			if err != nil {
				break
			}
			c.Close()
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// Restart starts a stopped server again, on the same data and ports, and
// waits until it answers S3 requests.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
	if err := s.WaitReady(90 * time.Second); err != nil {
		s.t.Fatal(err)
	}
}

// WaitReady polls until the bucket can be listed.
func (s *Server) WaitReady(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	st, err := storage.NewS3(ctx, s.Options(s.t.TempDir()))
	if err != nil {
		return err
	}
	for {
		_, err := st.List(ctx, "")
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("s3test: SeaweedFS did not come back: %w", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// freePorts finds n ports free on 127.0.0.1 whose port+10000 (SeaweedFS's
// gRPC ports) are free too.
func freePorts(n int) ([]int, error) {
	var out []int
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for tries := 0; len(out) < n && tries < 200; tries++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		if port+10000 > 65535 {
			l.Close()
			continue
		}
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		if err != nil {
			l.Close()
			continue
		}
		held = append(held, l, l2)
		out = append(out, port)
	}
	if len(out) < n {
		return nil, errors.New("s3test: no free ports")
	}
	return out, nil
}
