package storage_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/storage"
	"github.com/minio/minio-go/v7"
)

const ps = storage.MinPartSize

func s3w(t testing.TB, w storage.Writer) *storage.S3Writer {
	t.Helper()
	sw, ok := w.(*storage.S3Writer)
	if !ok {
		t.Fatalf("writer is %T", w)
	}
	return sw
}

func create(t testing.TB, st storage.Store, key string) storage.Writer {
	t.Helper()
	w, err := st.Create(context.Background(), key, storage.CreateOptions{ContentType: "video/webm"})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// A recording-like stream of more than three parts, with Cluster patches
// while it grows and header patches and Cues at the finish: parts are
// uploaded while it grows, the finish uploads part 1 and the last part
// only, and the object is the file byte for byte.
func TestStreamEqualsFile(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of real-time retries and flushes; skipped in -short mode")
	}
	eachBackend(t, false, func(t *testing.T, b backend) {
		ctx := context.Background()
		spool := t.TempDir()
		st := newStore(t, b, spool, func(o *storage.S3Options) { o.KeepSpool = true })
		w := create(t, st, "rec/a.webm")
		sw := s3w(t, w)
		r := newRecorder(t, w)
		r.header()
		r.clusters(3*ps+ps/2, nil)
		// Parts 2 and 3 go up while the recording grows.
		waitFor(t, "parts 2 and 3", func() bool { return sw.Stored() >= 3*ps })
		if ups, err := st.Unfinished(ctx, "rec/"); err != nil || len(ups) != 1 || ups[0].Key != "rec/a.webm" {
			t.Fatalf("unfinished uploads %v, %v", ups, err)
		}
		r.finish()
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		sameBytes(t, "object", readObject(t, st, "rec/a.webm"), r.m.b)
		spooled, err := os.ReadFile(w.Name())
		if err != nil {
			t.Fatal(err)
		}
		sameBytes(t, "spool", spooled, r.m.b)
		s := sw.Stats()
		t.Logf("%d bytes, stats %+v", len(r.m.b), s)
		if s.Reuploads != 0 || s.Parts != 4 || s.BytesUploaded != int64(len(r.m.b)) {
			t.Errorf("stats %+v: want 4 parts, each uploaded once", s)
		}
		if ups, _ := st.Unfinished(ctx, ""); len(ups) != 0 {
			t.Errorf("uploads left: %v", ups)
		}
		if ls, _ := st.List(ctx, ""); len(ls) != 1 || ls[0].Size != int64(len(r.m.b)) {
			t.Errorf("list %v", ls)
		}
		if p, _ := st.Pending(); len(p) != 0 {
			t.Errorf("pending %v", p)
		}
		// ReadAt after Commit reads the object.
		buf := make([]byte, 100)
		if _, err := w.ReadAt(buf, 3*ps); err != nil {
			t.Fatal(err)
		}
		sameBytes(t, "ReadAt", buf, r.m.b[3*ps:3*ps+100])
		if _, err := w.Write([]byte("x")); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("write after commit: %v", err)
		}
	})
}

// A patch into a part already uploaded (further back than Lag) makes the
// part go up again; the object is still the file.
func TestPatchUploadedPart(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of real-time retries and flushes; skipped in -short mode")
	}
	eachBackend(t, false, func(t *testing.T, b backend) {
		st := newStore(t, b, t.TempDir(), nil)
		w := create(t, st, "b.webm")
		sw := s3w(t, w)
		r := newRecorder(t, w)
		r.header()
		r.clusters(3*ps+ps/2, nil)
		waitFor(t, "part 2", func() bool { return sw.Stored() >= 2*ps })
		r.patch(r.bytes(16), ps+ps/2) // inside part 2
		r.finish()
		if err := w.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		sameBytes(t, "object", readObject(t, st, "b.webm"), r.m.b)
		if s := sw.Stats(); s.Reuploads != 1 {
			t.Errorf("stats %+v: want one re-upload", s)
		}
		if _, err := os.Stat(w.Name()); !os.IsNotExist(err) {
			t.Errorf("spool left: %v", err)
		}
	})
}

// The store goes away mid-recording: the recording goes on into the
// spool, uploads retry, and catch up when it is back.
func TestStoreOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of real-time retries and flushes; skipped in -short mode")
	}
	eachBackend(t, true, func(t *testing.T, b backend) {
		st := newStore(t, b, t.TempDir(), nil)
		w := create(t, st, "c.webm")
		sw := s3w(t, w)
		r := newRecorder(t, w)
		r.header()
		r.clusters(2*ps+ps/2, nil)
		waitFor(t, "part 2", func() bool { return sw.Stored() >= 2*ps })
		b.stop()
		r.clusters(5*ps+ps/2, nil)
		waitFor(t, "a failed upload", func() bool { return sw.Stats().Retries > 0 })
		if got := sw.Stored(); got != 2*ps {
			t.Fatalf("stored %d with the store away", got)
		}
		b.restart()
		waitFor(t, "the parts to catch up", func() bool { return sw.Stored() >= 5*ps })
		r.finish()
		if err := w.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		sameBytes(t, "object", readObject(t, st, "c.webm"), r.m.b)
		t.Logf("stats %+v", sw.Stats())
	})
}

// The store is away when the recording finishes: Commit queues it, and
// the queue (in a new process: a new store on the same spool) uploads it
// once the store is back.
func TestQueueSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of real-time retries and flushes; skipped in -short mode")
	}
	eachBackend(t, true, func(t *testing.T, b backend) {
		spool := t.TempDir()
		st := newStore(t, b, spool, nil)
		w := create(t, st, "d.webm")
		r := newRecorder(t, w)
		r.header()
		r.clusters(ps+ps/2, nil)
		b.stop()
		r.finish()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := w.Commit(ctx)
		cancel()
		if !errors.Is(err, storage.ErrQueued) {
			t.Fatalf("commit with the store away: %v", err)
		}
		st2 := newStore(t, b, spool, nil) // a restart
		p, err := st2.Pending()
		if err != nil || len(p) != 1 || !p[0].Finished || p[0].Key != "d.webm" {
			t.Fatalf("pending %+v, %v", p, err)
		}
		if left := st2.DrainQueue(context.Background()); left != 1 {
			t.Fatalf("queue with the store away: %d left", left)
		}
		b.restart()
		qctx, qcancel := context.WithCancel(context.Background())
		defer qcancel()
		go st2.RunQueue(qctx)
		waitFor(t, "the queue", func() bool { p, _ := st2.Pending(); return len(p) == 0 })
		sameBytes(t, "object", readObject(t, st2, "d.webm"), r.m.b)
		if _, err := os.Stat(w.Name()); !os.IsNotExist(err) {
			t.Errorf("spool left: %v", err)
		}
	})
}

// A process killed while recording leaves its spool and manifest: after a
// restart Pending lists it unfinished and Resume uploads it, reusing the
// parts already stored.
func TestResumeAfterCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of real-time retries and flushes; skipped in -short mode")
	}
	eachBackend(t, false, func(t *testing.T, b backend) {
		spool := t.TempDir()
		cut := &cutTransport{}
		st := newStore(t, b, spool, func(o *storage.S3Options) { o.Transport = cut })
		w := create(t, st, "e.webm")
		sw := s3w(t, w)
		r := newRecorder(t, w)
		r.header()
		r.clusters(3*ps+ps/2, nil)
		waitFor(t, "parts 2 and 3", func() bool { return sw.Stored() >= 3*ps })
		cut.dead.Store(true) // the process dies: nothing more reaches the store
		st2 := newStore(t, b, spool, nil)
		p, err := st2.Pending()
		if err != nil || len(p) != 1 || p[0].Finished {
			t.Fatalf("pending %+v, %v", p, err)
		}
		if err := st2.Resume(context.Background(), "e.webm"); err != nil {
			t.Fatal(err)
		}
		sameBytes(t, "object", readObject(t, st2, "e.webm"), r.m.b)
		if ups, _ := st2.Unfinished(context.Background(), ""); len(ups) != 0 {
			t.Errorf("uploads left: %v", ups)
		}
	})
}

// cutTransport fails every request once dead: a process gone.
type cutTransport struct{ dead atomic.Bool }

func (c *cutTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.dead.Load() {
		return nil, errors.New("process killed")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// Delete aborts an unfinished upload (and its writer), and deletes a
// stored object.
func TestDeleteAbortsUpload(t *testing.T) {
	eachBackend(t, false, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := newStore(t, b, t.TempDir(), nil)
		w := create(t, st, "f.webm")
		sw := s3w(t, w)
		r := newRecorder(t, w)
		r.header()
		r.clusters(2*ps+ps/2, nil)
		waitFor(t, "part 2", func() bool { return sw.Stored() >= 2*ps })
		if ups, _ := st.Unfinished(ctx, ""); len(ups) != 1 {
			t.Fatalf("unfinished %v", ups)
		}
		if err := st.Delete(ctx, "f.webm"); err != nil {
			t.Fatal(err)
		}
		if ups, err := st.Unfinished(ctx, ""); err != nil || len(ups) != 0 {
			t.Fatalf("unfinished after delete: %v, %v", ups, err)
		}
		if _, err := w.Write([]byte("x")); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("write after delete: %v", err)
		}
		if p, _ := st.Pending(); len(p) != 0 {
			t.Errorf("pending %v", p)
		}
		if _, err := os.Stat(w.Name()); !os.IsNotExist(err) {
			t.Errorf("spool left: %v", err)
		}
		// A stored object.
		w2 := create(t, st, "g.webm")
		w2.Write([]byte("small"))
		if err := w2.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Stat(ctx, "g.webm"); err != nil {
			t.Fatal(err)
		}
		if err := st.Delete(ctx, "g.webm"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Stat(ctx, "g.webm"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("stat after delete: %v", err)
		}
		if _, err := st.Open(ctx, "g.webm"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("open after delete: %v", err)
		}
		if err := st.Delete(ctx, "g.webm"); err != nil {
			t.Errorf("delete twice: %v", err)
		}
	})
}

// A node lost with its disk: another node completes the upload from the
// parts and interim objects in the store, downloading only those.
func TestTakeover(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of real-time retries and flushes; skipped in -short mode")
	}
	eachBackend(t, false, func(t *testing.T, b backend) {
		for i, tc := range []struct {
			size  int64
			flush time.Duration
			paced bool // a flush after every Cluster
		}{
			{ps + ps/2, 0, false},                       // the head alone is stored
			{3*ps + ps/3, 0, false},                     // the head and parts 2 and 3
			{3*ps + ps/3, 50 * time.Millisecond, false}, // and the tail
			{ps / 2, 50 * time.Millisecond, true},       // segments only: no part
			{3*ps + ps/3, 50 * time.Millisecond, true},  // segments with patches, parts
		} {
			flush := tc.flush
			ctx := context.Background()
			key := fmt.Sprintf("h%d.webm", i)
			cut := &cutTransport{}
			st := newStore(t, b, t.TempDir(), func(o *storage.S3Options) { o.Transport, o.FlushInterval = cut, flush })
			w := create(t, st, key)
			sw := s3w(t, w)
			sw.SetNote(func() []byte { return fmt.Appendf(nil, "%d", sw.Size()) }) // called without its lock
			r := newRecorder(t, w)
			r.header()
			var each func()
			if tc.paced {
				each = func() {
					waitFor(t, "a flush", func() bool { return sw.Recoverable() >= sw.Size() })
				}
			}
			r.clusters(tc.size, each)
			want := tc.size / ps * ps // whole parts: the tail is lost
			if flush > 0 {
				want = int64(len(r.m.b)) // all of it, once flushed
			}
			waitFor(t, "the store to hold the recording", func() bool { return sw.Recoverable() >= want })
			cut.dead.Store(true) // node and disk lost
			if st := sw.Stats(); tc.paced && st.InterimBytes > sw.Size()+sw.Size()/100 {
				// Each flush stores what changed, not the held-back part
				// and the tail again.
				t.Errorf("flushes stored %d bytes of a %d-byte file: %+v", st.InterimBytes, sw.Size(), st)
			}
			lost := sw.Size() - sw.Recoverable()
			t.Logf("%s, flush %v: %d bytes, %d lost (%.0f s at 1 Mb/s)", key, flush, sw.Size(), lost, float64(lost)*8/1e6)

			ct := &countingTransport{}
			other := newStore(t, b, t.TempDir(), func(o *storage.S3Options) { o.Transport = ct })
			ups, err := other.Unfinished(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			var u *storage.Upload
			for i := range ups {
				if ups[i].Key == key {
					u = &ups[i]
				}
			}
			if u == nil {
				t.Fatalf("no unfinished upload of %s in %v", key, ups)
			}
			to, err := other.Takeover(ctx, *u)
			if err != nil {
				t.Fatal(err)
			}
			if parts := max(int(want/ps)-1, 0); len(to.Parts()) != parts || (parts > 0 && to.PartSize != ps) {
				t.Fatalf("part size %d, parts %v, want %d parts", to.PartSize, to.Parts(), parts)
			}
			if note, err := to.Note(ctx); err != nil || (flush > 0 && string(note) != fmt.Sprint(want)) {
				t.Errorf("note %q, %v; want the size at the last flush, %d", note, err, want)
			}
			// The index: every Cluster in the bytes as of the last flush,
			// those of the segments collected since (their bytes in parts)
			// too, from the index object.
			marks, err := to.Marks(ctx)
			var wantMarks []storage.Mark
			for _, m := range r.marks {
				if m.Off < want {
					wantMarks = append(wantMarks, m)
				}
			}
			if flush == 0 {
				if !errors.Is(err, storage.ErrNoIndex) {
					t.Errorf("marks without flushes: %v, %v; want ErrNoIndex", marks, err)
				}
			} else if err != nil || !slices.Equal(marks, wantMarks) {
				t.Errorf("marks %v, %v; want %v", marks, err, wantMarks)
			}
			stored := max(to.Stored(), ps)
			size, err := to.CompleteAsIs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// Downloaded: the held-back first part and the bytes after the
			// stored parts (and listings), never the parts.
			bound := min(want, ps) + max(want-stored, 0) + 64<<10
			t.Logf("takeover downloaded %d bytes (head %d, tail %d) of %d", ct.down.Load(), min(want, ps), max(want-stored, 0), want)
			if ct.down.Load() > bound {
				t.Errorf("takeover downloaded %d bytes, more than the head and tail (%d)", ct.down.Load(), bound)
			}
			got := readObject(t, other, key)
			if size != int64(len(got)) || int64(len(got)) != want {
				t.Fatalf("object of %d bytes (complete said %d), want %d", len(got), size, want)
			}
			sameBytes(t, "object", got, r.m.b[:want])
			actx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
			w.Abort(actx) // the dead node's writer: nothing reaches the store
			cancel()
		}
	})
}

// Pre-signed and proxied range reads.
func TestRangeReads(t *testing.T) {
	eachBackend(t, false, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := newStore(t, b, t.TempDir(), nil)
		w := create(t, st, "i.webm")
		r := newRecorder(t, w)
		r.header()
		r.clusters(ps/2, nil)
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		o, err := st.Open(ctx, "i.webm")
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		buf := make([]byte, 1000)
		if _, err := o.ReadAt(buf, 12345); err != nil {
			t.Fatal(err)
		}
		sameBytes(t, "ReadAt", buf, r.m.b[12345:13345])
		if _, err := o.Seek(-10, io.SeekEnd); err != nil {
			t.Fatal(err)
		}
		if b, err := io.ReadAll(o); err != nil {
			t.Fatal(err)
		} else {
			sameBytes(t, "Seek+Read", b, r.m.b[len(r.m.b)-10:])
		}
		u, err := st.PresignGet(ctx, "i.webm", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", u.String(), nil)
		req.Header.Set("Range", "bytes=100-199")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusPartialContent {
			t.Fatalf("pre-signed range GET: %s %s", resp.Status, body)
		}
		sameBytes(t, "pre-signed range", body, r.m.b[100:200])
	})
}

// Truncate (the recorder cuts back a partial element after a failed
// write) makes the parts past the cut go up again.
func TestTruncate(t *testing.T) {
	eachBackend(t, false, func(t *testing.T, b backend) {
		st := newStore(t, b, t.TempDir(), nil)
		w := create(t, st, "t.webm")
		sw := s3w(t, w)
		r := newRecorder(t, w)
		r.header()
		r.clusters(3*ps, nil)
		waitFor(t, "part 2", func() bool { return sw.Stored() >= 2*ps })
		cut := int64(ps + ps/2)
		if err := w.Truncate(cut); err != nil {
			t.Fatal(err)
		}
		r.m.b = r.m.b[:cut]
		if _, err := w.Seek(cut, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		r.clusters(2*ps+ps/4, nil)
		r.finish()
		if err := w.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		sameBytes(t, "object", readObject(t, st, "t.webm"), r.m.b)
	})
}

// A flushing writer's object is the file byte for byte, and its interim
// segments are gone once it is committed (and once a part holds them,
// before that).
func TestFlushCommit(t *testing.T) {
	eachBackend(t, false, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := newStore(t, b, t.TempDir(), func(o *storage.S3Options) { o.FlushInterval = 20 * time.Millisecond })
		w := create(t, st, "fc.webm")
		sw := s3w(t, w)
		r := newRecorder(t, w)
		r.header()
		r.clusters(2*ps+ps/2, func() {
			waitFor(t, "a flush", func() bool { return sw.Recoverable() >= sw.Size() })
		})
		interim := func() []string {
			var names []string
			for oi := range st.Client().ListObjects(ctx, st.Options().Bucket, minio.ListObjectsOptions{Prefix: st.Options().Prefix + ".interim/", Recursive: true}) {
				if oi.Err != nil {
					t.Fatal(oi.Err)
				}
				names = append(names, oi.Key)
			}
			return names
		}
		t.Logf("%d interim objects before the commit, stats %+v", len(interim()), sw.Stats())
		r.finish()
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		sameBytes(t, "object", readObject(t, st, "fc.webm"), r.m.b)
		// Removed in the background once the commit returned.
		waitFor(t, "the interim objects to go", func() bool { return len(interim()) == 0 })
	})
}

// A truncation that drops Cluster marks already stored voids the index: a
// takeover then has none (ErrNoIndex), and repairs the whole object,
// rather than build Cues that point where no Cluster is.
func TestTruncateVoidsIndex(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, fakeS3(t), t.TempDir(), func(o *storage.S3Options) { o.FlushInterval = 20 * time.Millisecond })
	w := create(t, st, "v.webm")
	sw := s3w(t, w)
	defer w.Abort(ctx)
	write := func(n int) {
		if _, err := w.Write(make([]byte, n)); err != nil {
			t.Fatal(err)
		}
	}
	marks := func() ([]storage.Mark, error) {
		waitFor(t, "a flush", func() bool { return sw.Recoverable() >= sw.Size() })
		ups, err := st.Unfinished(ctx, "v.webm")
		if err != nil || len(ups) != 1 {
			t.Fatalf("unfinished %v, %v", ups, err)
		}
		to, err := st.Takeover(ctx, ups[0])
		if err != nil {
			t.Fatal(err)
		}
		return to.Marks(ctx)
	}
	write(100)
	sw.MarkUnit(100, 0, 1)
	write(100)
	sw.MarkUnit(200, 5, 0)
	write(100)
	if ms, err := marks(); err != nil || len(ms) != 2 || ms[1] != (storage.Mark{Off: 200, Time: 5}) {
		t.Fatalf("marks %v, %v", ms, err)
	}
	if err := w.Truncate(150); err != nil { // the second Cluster dropped
		t.Fatal(err)
	}
	if _, err := w.Seek(150, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	sw.MarkUnit(150, 7, 1) // ignored: the index is void
	write(100)
	if ms, err := marks(); !errors.Is(err, storage.ErrNoIndex) {
		t.Fatalf("after a truncation: marks %v, %v; want ErrNoIndex", ms, err)
	}
}
