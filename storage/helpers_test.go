package storage_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/s3test"
	"github.com/gomediarecorder/mediarecorder/storage"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// backend is an S3 server under test: the in-process fake or SeaweedFS.
type backend struct {
	name    string
	opts    func(spool string) storage.S3Options
	stop    func() // the store goes away
	restart func() // and comes back
}

// fakeS3 runs gofakes3 in process, behind a switch that makes it vanish
// (connections closed) between stop and restart.
func fakeS3(t testing.TB) backend {
	faker := gofakes3.New(s3mem.New())
	var down atomic.Bool
	h := faker.Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	b := backend{
		name: "fake",
		opts: func(spool string) storage.S3Options {
			return storage.S3Options{Endpoint: srv.URL, AccessKeyID: "k", SecretAccessKey: "s", Bucket: "recordings",
				SpoolDir: spool, MaxBackoff: 200 * time.Millisecond, QueueInterval: 100 * time.Millisecond, Logger: quiet()}
		},
		stop:    func() { down.Store(true) },
		restart: func() { down.Store(false) },
	}
	st := newStore(t, b, t.TempDir(), nil)
	if err := st.EnsureBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }

// seaweed runs SeaweedFS (skipped in -short or without the binary): the
// package's shared server, or with own a server of the test's own that
// stop and restart stop and start.
func seaweed(t testing.TB, own bool) backend {
	srv := s3test.Shared(t)
	if own {
		srv = s3test.Start(t)
	}
	return backend{
		name: "seaweedfs",
		opts: func(spool string) storage.S3Options {
			o := srv.Options(spool)
			o.Logger = quiet()
			o.MaxBackoff = 500 * time.Millisecond
			o.QueueInterval = 200 * time.Millisecond
			return o
		},
		stop:    srv.Stop,
		restart: srv.Restart,
	}
}

// eachBackend runs fn on the fake, then on SeaweedFS (its own server if
// fn stops it).
func eachBackend(t *testing.T, stops bool, fn func(t *testing.T, b backend)) {
	t.Run("fake", func(t *testing.T) { fn(t, fakeS3(t)) })
	t.Run("seaweedfs", func(t *testing.T) { fn(t, seaweed(t, stops)) })
}

// quiet is the stores' logger: silent unless STORAGE_TEST_LOG is set.
func quiet() *slog.Logger {
	if os.Getenv("STORAGE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newStore makes an S3 store on b spooling in spool; mod adjusts options.
func newStore(t testing.TB, b backend, spool string, mod func(*storage.S3Options)) *storage.S3 {
	t.Helper()
	o := b.opts(spool)
	o.PartSize = storage.MinPartSize
	if mod != nil {
		mod(&o)
	}
	st, err := storage.NewS3(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// model is the file a stream of writes makes, kept in memory: what the
// object must equal byte for byte.
type model struct {
	b []byte
}

func (m *model) WriteAt(p []byte, off int64) (int, error) {
	if end := off + int64(len(p)); end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	copy(m.b[off:], p)
	return len(p), nil
}

// recorder writes a recording-like stream to a Writer and a model: a
// header, Clusters of blocks whose sizes are patched when they close (a
// Seek back, as webm.Writer does), fsyncs, and at the finish Cues appended
// and the header patched.
type recorder struct {
	t   testing.TB
	w   storage.Writer
	m   model
	src *rand.ChaCha8
	rng *rand.Rand
	// marks are the Clusters' places, as told to a writer that keeps an
	// index (S3Writer.MarkUnit).
	marks []storage.Mark
}

func newRecorder(t testing.TB, w storage.Writer) *recorder {
	src := rand.NewChaCha8([32]byte{1, 2})
	return &recorder{t: t, w: w, src: src, rng: rand.New(src)}
}

func (r *recorder) bytes(n int) []byte {
	b := make([]byte, n)
	r.src.Read(b)
	return b
}

func (r *recorder) write(p []byte) {
	r.t.Helper()
	off, err := r.w.Seek(0, io.SeekCurrent)
	if err != nil {
		r.t.Fatal(err)
	}
	if n, err := r.w.Write(p); err != nil || n != len(p) {
		r.t.Fatalf("write: %d, %v", n, err)
	}
	r.m.WriteAt(p, off)
}

func (r *recorder) patch(p []byte, off int64) {
	r.t.Helper()
	end, err := r.w.Seek(0, io.SeekCurrent)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.w.Seek(off, io.SeekStart); err != nil {
		r.t.Fatal(err)
	}
	r.write(p)
	if _, err := r.w.Seek(end, io.SeekStart); err != nil {
		r.t.Fatal(err)
	}
}

// header writes the head of the file.
func (r *recorder) header() { r.write(r.bytes(4096)) }

// clusters writes Clusters until the file has size bytes, calling each
// after every Cluster.
func (r *recorder) clusters(size int64, each func()) {
	r.t.Helper()
	for int64(len(r.m.b)) < size {
		start := int64(len(r.m.b))
		if m, ok := r.w.(*storage.S3Writer); ok {
			mk := storage.Mark{Off: start, Time: int64(len(r.marks)) * 1000, Key: uint64(len(r.marks) % 2)}
			m.MarkUnit(mk.Off, mk.Time, mk.Key)
			r.marks = append(r.marks, mk)
		}
		r.write(r.bytes(12)) // Cluster header, size unknown
		for int64(len(r.m.b))-start < 300<<10 {
			r.write(r.bytes(1 + r.rng.IntN(30<<10)))
		}
		r.patch(r.bytes(8), start+4) // the Cluster's size
		if err := r.w.Sync(); err != nil {
			r.t.Fatal(err)
		}
		if each != nil {
			each()
		}
	}
}

// finish appends Cues and patches the header (Duration, SeekHead).
func (r *recorder) finish() {
	r.write(r.bytes(10 << 10))
	r.patch(r.bytes(40), 20)
}

// readObject reads the stored object key whole.
func readObject(t testing.TB, st storage.Store, key string) []byte {
	t.Helper()
	o, err := st.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != o.Info().Size {
		t.Fatalf("read %d bytes, size %d", len(b), o.Info().Size)
	}
	return b
}

func sameBytes(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d bytes, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: first difference at byte %d of %d", what, i, len(got))
		}
	}
}

// waitFor polls cond (a hang guard, not a timing assertion).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
