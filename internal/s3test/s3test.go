// Package s3test runs a real S3 server for tests: SeaweedFS (weed
// server -s3) on 127.0.0.1, with its data in a temporary directory, a
// bucket and a credential pair.
//
// The weed binary is found at $MEDIARECORDER_WEED or in
// ${XDG_CACHE_HOME:-$HOME/.cache}/mediarecorder/weed, where
// scripts/setup-seaweedfs.sh (run by scripts/test.sh) builds it. Start and
// Shared skip the test under -short or when the binary is missing, and
// fail it instead when CI=true.
//
// Start runs a server of the test's own, which the test may Stop (the
// store goes away) and Restart (it comes back, same data and ports).
// Shared hands every test of the package one server (started on first
// use, stopped by Main), each test under its own key prefix: SeaweedFS
// takes about 3 s to start and 8 s more to allocate its first volume.
//
//	func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }
//
//	srv := s3test.Shared(t) // or s3test.Start(t)
//	st, _ := storage.NewS3(ctx, srv.Options(t.TempDir()))
package s3test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/storage"
)

// Credentials and region of every server.
const (
	AccessKey = "mediarecorder-test"
	SecretKey = "mediarecorder-test-secret-key-0123456789"
	Region    = "us-east-1"
)

// Server is a running SeaweedFS with its S3 gateway, as one test sees it.
type Server struct {
	// Endpoint is the S3 URL, http://127.0.0.1:PORT.
	Endpoint string
	// Bucket exists once Start returns.
	Bucket string
	// Prefix is the test's key prefix ("" for Start's own server).
	Prefix string

	t testing.TB
	p *proc
}

// proc is the weed process.
type proc struct {
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
	bin, err := binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return bin
}

func binary() (string, error) {
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
		return "", fmt.Errorf("s3test: no SeaweedFS binary at %s (run scripts/setup-seaweedfs.sh)", bin)
	}
	return bin, nil
}

// Start runs a SeaweedFS server of the test's own, stopped when the test
// ends, with a bucket.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	p, err := launch(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("weed log (tail):\n%s", p.tail())
		}
		p.log.Close()
	})
	return &Server{Endpoint: p.endpoint(), Bucket: "recordings", t: t, p: p}
}

var shared struct {
	mu  sync.Mutex
	p   *proc
	err error
	tmp string
}

// Shared returns the package's shared server (started on first use), with
// a key prefix of the test's own. Tests that Stop the server use Start.
func Shared(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.p == nil && shared.err == nil {
		shared.tmp, shared.err = os.MkdirTemp("", "s3test-")
		if shared.err == nil {
			shared.p, shared.err = launch(bin, shared.tmp)
		}
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	prefix := regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_") + "/"
	return &Server{Endpoint: shared.p.endpoint(), Bucket: "recordings", Prefix: prefix, t: t, p: shared.p}
}

// Main runs the package's tests, then stops the shared server.
func Main(m *testing.M) int {
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.p != nil {
		shared.p.stop()
		if code != 0 {
			fmt.Fprintf(os.Stderr, "weed log (tail):\n%s\n", shared.p.tail())
		}
		shared.p.log.Close()
	}
	if shared.tmp != "" {
		os.RemoveAll(shared.tmp)
	}
	return code
}

// launch starts weed on free ports with its data under dir, and waits
// until it stores objects (its first volume allocated) in the bucket
// "recordings".
func launch(bin, dir string) (*proc, error) {
	p := &proc{bin: bin, dir: dir}
	cfg := fmt.Sprintf(`{"identities":[{"name":"test","credentials":[{"accessKey":%q,"secretKey":%q}],"actions":["Admin","Read","List","Tagging","Write"]}]}`, AccessKey, SecretKey)
	if err := os.WriteFile(filepath.Join(dir, "s3.json"), []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return nil, err
	}
	var err error
	if p.log, err = os.Create(filepath.Join(dir, "weed.log")); err != nil {
		return nil, err
	}
	if p.ports, err = freePorts(4); err != nil {
		return nil, err
	}
	if err := p.start(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	spool, err := os.MkdirTemp("", "s3test-spool-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(spool)
	st, err := storage.NewS3(ctx, (&Server{Endpoint: p.endpoint(), Bucket: "recordings"}).Options(spool))
	if err != nil {
		return nil, err
	}
	for {
		err := st.EnsureBucket(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			p.stop()
			return nil, fmt.Errorf("s3test: SeaweedFS did not come up: %w\n%s", err, p.tail())
		}
		time.Sleep(250 * time.Millisecond)
	}
	// The first object waits for a volume to be allocated: do it now.
	w, err := st.Create(ctx, "warm-up", storage.CreateOptions{})
	if err == nil {
		w.Write([]byte("warm-up"))
		err = w.Commit(ctx)
	}
	if err == nil {
		err = st.Delete(ctx, "warm-up")
	}
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("s3test: SeaweedFS does not store objects: %w\n%s", err, p.tail())
	}
	return p, nil
}

// Options returns storage options for this server and test, spooling in
// spoolDir.
func (s *Server) Options(spoolDir string) storage.S3Options {
	return storage.S3Options{
		Endpoint: s.Endpoint, Region: Region, AccessKeyID: AccessKey, SecretAccessKey: SecretKey,
		Bucket: s.Bucket, Prefix: s.Prefix, SpoolDir: spoolDir, MaxBackoff: time.Second, QueueInterval: time.Second,
	}
}

// Stop stops the server (its data stays for Restart).
func (s *Server) Stop() { s.p.stop() }

// Restart starts a stopped server again, on the same data and ports, and
// waits until it answers S3 requests.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.p.start(); err != nil {
		s.t.Fatal(err)
	}
	if err := s.WaitReady(2 * time.Minute); err != nil {
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

func (p *proc) endpoint() string { return "http://127.0.0.1:" + strconv.Itoa(p.ports[0]) }

func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return nil
	}
	port := func(i int) string { return strconv.Itoa(p.ports[i]) }
	grpc := func(i int) string { return strconv.Itoa(p.ports[i] + 10000) }
	args := []string{"server",
		"-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-dir=" + filepath.Join(p.dir, "data"),
		"-master.port=" + port(1), "-master.port.grpc=" + grpc(1),
		"-volume.port=" + port(2), "-volume.port.grpc=" + grpc(2),
		"-filer.port=" + port(3), "-filer.port.grpc=" + grpc(3),
		"-s3", "-s3.port=" + port(0), "-s3.port.grpc=" + grpc(0),
		"-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.config=" + filepath.Join(p.dir, "s3.json"),
		"-master.telemetry=false", "-master.volumeSizeLimitMB=64", "-volume.max=0", "-volume.preStopSeconds=0",
		"-master.electionTimeout=1s", // a restarted master elects itself in a second, not ten
	}
	cmd := exec.Command(p.bin, args...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("s3test: starting weed: %w", err)
	}
	exit := make(chan struct{})
	go func() { cmd.Wait(); close(exit) }()
	p.cmd, p.exit = cmd, exit
	return nil
}

func (p *proc) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.exit:
	case <-time.After(3 * time.Second): // a graceful stop can take 15 s; the data is safe either way
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.exit
	}
	p.cmd = nil
	// The ports must be free again before a restart binds them.
	for _, port := range p.ports {
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

// tail returns the end of weed's log.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log.Name())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
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
