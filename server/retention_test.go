package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/catalog"
	"github.com/gomediarecorder/mediarecorder/internal/pgtest"
	"github.com/gomediarecorder/mediarecorder/internal/s3test"
	"github.com/gomediarecorder/mediarecorder/storage"
)

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// clockAt is the test clock's start: recordings are dated from it.
var clockAt = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// retentionServer starts a server (no HTTP) over dir with cfg and the
// test's clock.
func retentionServer(t *testing.T, cfg Config, clock *testClock) *Server {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	cfg.Logger = testLogger(t)
	cfg.Now = clock.Now
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, s) })
	return s
}

func shutdown(t *testing.T, s *Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// addFinished stores a finished recording of size random bytes, created
// age before clockAt, through the server's store and catalog.
func addFinished(t *testing.T, s *Server, age time.Duration, size int, keep bool) catalog.Recording {
	t.Helper()
	ctx := context.Background()
	id := newID()
	key := id + ".webm"
	w, err := s.st.Create(ctx, key, storage.CreateOptions{ContentType: "video/webm"})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, size)
	_, _ = rand.Read(data)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := catalog.Recording{
		ID: id, Session: "s", State: "inactive", MimeType: "video/webm", Size: int64(size),
		Created: clockAt.Add(-age), File: key, Keep: keep, Finished: true, FinishedAt: clockAt.Add(-age + time.Minute),
		Owner: s.node.id,
	}
	if s.s3 != nil {
		r.ObjectKey = key
	}
	if err := s.cat.Put(ctx, r); err != nil {
		t.Fatal(err)
	}
	return r
}

// present reports whether the recording's row and its media exist; it
// fails the test when only one of them does.
func present(t *testing.T, s *Server, r catalog.Recording) bool {
	t.Helper()
	ctx := context.Background()
	row, err := s.cat.Get(ctx, r.ID)
	hasRow := err == nil
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		t.Fatal(err)
	}
	_, err = s.st.Stat(ctx, keyOf(r))
	hasMedia := err == nil
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		t.Fatal(err)
	}
	if hasRow != hasMedia || row.Deleting {
		t.Errorf("recording %s: row %v (deleting %v), media %v: the catalog and the store disagree", r.ID, hasRow, row.Deleting, hasMedia)
	}
	return hasRow && hasMedia
}

// expect checks which recordings remain.
func expect(t *testing.T, s *Server, kept, gone []catalog.Recording) {
	t.Helper()
	for _, r := range kept {
		if !present(t, s, r) {
			t.Errorf("recording of %v (%d bytes, keep %v) was deleted", clockAt.Sub(r.Created), r.Size, r.Keep)
		}
	}
	for _, r := range gone {
		if present(t, s, r) {
			t.Errorf("recording of %v (%d bytes, keep %v) was not deleted", clockAt.Sub(r.Created), r.Size, r.Keep)
		}
	}
}

func pass(t *testing.T, s *Server) retainResult {
	t.Helper()
	res, err := s.retainOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// liveRow adds an unfinished recording, as another node's live one
// looks in the catalog.
func liveRow(t *testing.T, s *Server, age time.Duration, size int64) catalog.Recording {
	t.Helper()
	id := newID()
	r := catalog.Recording{ID: id, State: "recording", Size: size, Created: clockAt.Add(-age), File: id + ".webm", Owner: "elsewhere"}
	if err := s.cat.Put(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRetentionAge: -retain-for deletes the recordings older than it,
// oldest first, as the test's clock moves; never a kept one nor an
// unfinished one.
func TestRetentionAge(t *testing.T) {
	clock := &testClock{t: clockAt}
	s := retentionServer(t, Config{RetainFor: 30 * day}, clock)
	old40 := addFinished(t, s, 40*day, 100, false)
	old31 := addFinished(t, s, 31*day, 200, false)
	kept := addFinished(t, s, 50*day, 300, true)
	young29 := addFinished(t, s, 29*day, 400, false)
	young1 := addFinished(t, s, day, 500, false)
	live := liveRow(t, s, 60*day, 1000)

	res := pass(t, s)
	if res.deleted != 2 || res.freed != 300 {
		t.Errorf("pass: %+v, want 2 deleted, 300 bytes", res)
	}
	expect(t, s, []catalog.Recording{kept, young29, young1}, []catalog.Recording{old40, old31})
	if _, err := s.cat.Get(context.Background(), live.ID); err != nil {
		t.Errorf("the unfinished recording: %v", err)
	}

	clock.Add(day + time.Second) // young29 turns 30 days and a second old
	if res := pass(t, s); res.deleted != 1 {
		t.Errorf("a day later: %+v, want 1 deleted", res)
	}
	expect(t, s, []catalog.Recording{kept, young1}, []catalog.Recording{young29})
	if got, want := s.ret.deleted.Load(), uint64(3); got != want {
		t.Errorf("deleted counter %d, want %d", got, want)
	}
	if got, want := s.ret.freed.Load(), uint64(700); got != want {
		t.Errorf("freed counter %d, want %d", got, want)
	}
}

// TestRetentionSize: -retain-size deletes the oldest finished
// recordings until everything (live and kept ones counted) fits.
func TestRetentionSize(t *testing.T) {
	clock := &testClock{t: clockAt}
	s := retentionServer(t, Config{RetainSize: 3500}, clock)
	kept := addFinished(t, s, 10*time.Hour, 1000, true)
	r1 := addFinished(t, s, 5*time.Hour, 1000, false)
	r2 := addFinished(t, s, 4*time.Hour, 1000, false)
	r3 := addFinished(t, s, 3*time.Hour, 1000, false)
	r4 := addFinished(t, s, 2*time.Hour, 1000, false)
	live := liveRow(t, s, 20*time.Hour, 500) // another node's, still recording
	// This node's live recording: its size is the writer's.
	rc := fakeRecording(t, s, 0, true)
	rc.e.Created, rc.e.Size, rc.e.Finished = clockAt.Add(-30*time.Hour), 500, false
	s.put(rc.e)

	// 6000 bytes: r1, r2 and r3 go (3000 left), the kept and live ones
	// stay whatever their age.
	res := pass(t, s)
	if res.deleted != 3 || res.freed != 3000 {
		t.Errorf("pass: %+v, want 3 deleted, 3000 bytes", res)
	}
	expect(t, s, []catalog.Recording{kept, r4}, []catalog.Recording{r1, r2, r3})
	for _, id := range []string{live.ID, rc.e.ID} {
		if _, err := s.cat.Get(context.Background(), id); err != nil {
			t.Errorf("a live recording: %v", err)
		}
	}
	if res := pass(t, s); res.deleted != 0 {
		t.Errorf("second pass: %+v, want nothing deleted", res)
	}
}

// TestRetentionBoth: both limits; each deletes what it alone would.
func TestRetentionBoth(t *testing.T) {
	clock := &testClock{t: clockAt}
	s := retentionServer(t, Config{RetainFor: 7 * day, RetainSize: 2500}, clock)
	old := addFinished(t, s, 8*day, 100, false)
	a := addFinished(t, s, 3*day, 1000, false)
	b := addFinished(t, s, 2*day, 1000, false)
	c := addFinished(t, s, day, 1000, false)
	// old goes for its age; then 3000 > 2500: a goes for the size.
	res := pass(t, s)
	if res.deleted != 2 || res.freed != 1100 {
		t.Errorf("pass: %+v, want 2 deleted, 1100 bytes", res)
	}
	expect(t, s, []catalog.Recording{b, c}, []catalog.Recording{old, a})
	clock.Add(5*day + time.Second) // b is 7 days and a second old
	pass(t, s)
	expect(t, s, []catalog.Recording{c}, []catalog.Recording{b})
}

// TestRetentionOff: without limits nothing is deleted, however old.
func TestRetentionOff(t *testing.T) {
	clock := &testClock{t: clockAt}
	s := retentionServer(t, Config{}, clock)
	r := addFinished(t, s, 1000*day, 1<<20, false)
	if res := pass(t, s); res != (retainResult{}) {
		t.Errorf("pass: %+v, want nothing done", res)
	}
	expect(t, s, []catalog.Recording{r}, nil)
}

// TestRetentionCrash stops a deletion after each of its steps, as a crash
// would, then starts a new server over the same directory and catalog:
// the interrupted deletion is finished, and a recording file with no row
// (a crash between a file and its row) is removed, while files that are
// not recordings, or too young to judge, stay. Local and S3 stores.
func TestRetentionCrash(t *testing.T) {
	stores := []string{"local", "s3"}
	for _, store := range stores {
		for _, step := range []deleteStep{stepMarked, stepMediaGone} {
			t.Run(fmt.Sprintf("%s/step%d", store, step), func(t *testing.T) {
				cfg := Config{Dir: t.TempDir(), RetainFor: 30 * day}
				if store == "s3" {
					cfg.Store = s3Store(t)
				}
				clock := &testClock{t: clockAt}
				s := retentionServer(t, cfg, clock)
				victim := addFinished(t, s, 40*day, 100, false)
				other := addFinished(t, s, day, 100, false)
				s.ret.crash = func(st deleteStep, id string) bool { return st != step }
				pass(t, s)
				row, err := s.cat.Get(context.Background(), victim.ID)
				if err != nil || !row.Deleting {
					t.Fatalf("after the crash: row %+v, %v; want it marked deleting", row, err)
				}
				_, err = s.st.Stat(context.Background(), keyOf(victim))
				if mediaLeft := err == nil; mediaLeft != (step == stepMarked) {
					t.Fatalf("after a crash at step %d: media left %v (%v)", step, mediaLeft, err)
				}
				// A row being deleted is no longer shown.
				req := httptest.NewRequest("GET", "/api/recordings/"+victim.ID, nil)
				req.SetPathValue("id", victim.ID)
				w := httptest.NewRecorder()
				if _, _, ok := s.find(w, req); ok || w.Code != 404 {
					t.Errorf("a row being deleted is still found (%d)", w.Code)
				}
				shutdown(t, s)

				var orphan, young, foreign string
				if store == "local" {
					orphan = filepath.Join(cfg.Dir, newID()+".mkv")
					young = filepath.Join(cfg.Dir, newID()+"-recovered.webm")
					foreign = filepath.Join(cfg.Dir, "notes.webm")
					for _, f := range []string{orphan, young, foreign, filepath.Join(cfg.Dir, "README.txt")} {
						if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
							t.Fatal(err)
						}
					}
					// File ages are judged by the file system's clock.
					past := time.Now().Add(-time.Hour)
					for _, f := range []string{orphan, foreign} {
						if err := os.Chtimes(f, past, past); err != nil {
							t.Fatal(err)
						}
					}
				}

				s2 := retentionServer(t, Config{Dir: cfg.Dir, Store: cfg.Store}, clock) // no limits: only the clean-up
				if present(t, s2, victim) {
					t.Error("the interrupted deletion was not finished at start-up")
				}
				if !present(t, s2, other) {
					t.Error("another recording was deleted")
				}
				if store == "local" {
					for f, want := range map[string]bool{orphan: false, young: true, foreign: true, filepath.Join(cfg.Dir, "README.txt"): true} {
						if _, err := os.Stat(f); (err == nil) != want {
							t.Errorf("%s: exists %v, want %v", filepath.Base(f), err == nil, want)
						}
					}
					if got := s2.ret.orphans.Load(); got != 1 {
						t.Errorf("orphans counter %d, want 1", got)
					}
				}
			})
		}
	}
}

// s3Store points the AWS environment at the package's SeaweedFS and
// returns a store spec of the test's own prefix.
func s3Store(t *testing.T) string {
	t.Helper()
	srv := s3test.Shared(t)
	t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretKey)
	t.Setenv("AWS_REGION", s3test.Region)
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.Endpoint)
	return "s3://" + srv.Bucket + "/" + srv.Prefix + strings.ReplaceAll(t.Name(), "/", "-") + "/"
}

// TestRetentionCluster: two nodes on one PostgreSQL catalog and one S3
// store run passes at once, again and again; each recording is deleted
// once, and no more than the size limit asks for.
func TestRetentionCluster(t *testing.T) {
	pgtest.Require(t)
	dsn := pgtest.NewDB(t)
	store := s3Store(t)
	clock := &testClock{t: clockAt}
	node := func(name string) *Server {
		return retentionServer(t, Config{Catalog: dsn, Store: store, Advertise: "http://" + name + ".invalid:8080", NodeID: name, RetainSize: 4010, RetainFor: 30 * day}, clock)
	}
	a, b := node("a"), node("b")
	var all []catalog.Recording
	for i := range 10 {
		all = append(all, addFinished(t, a, time.Duration(20-i)*time.Hour, 1000, i == 0))
	}
	old := addFinished(t, b, 31*day, 10, true) // kept: its age does not matter
	// 10 010 bytes, 4010 allowed: all[1] to all[6] go (all[0] is kept).
	var wg sync.WaitGroup
	for _, s := range []*Server{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				if _, err := s.retainOnce(context.Background()); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	pass(t, a) // whatever a stopped pass left
	expect(t, a, append([]catalog.Recording{old, all[0]}, all[7:]...), all[1:7])
	if d := a.ret.deleted.Load() + b.ret.deleted.Load(); d != 6 {
		t.Errorf("the nodes deleted %d recordings between them, want 6", d)
	}
	if f := a.ret.freed.Load() + b.ret.freed.Load(); f != 6000 {
		t.Errorf("the nodes freed %d bytes between them, want 6000", f)
	}
	// Nothing of theirs is left in the store.
	infos, err := a.st.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, in := range infos {
		keys = append(keys, in.Key)
	}
	for _, r := range all[1:7] {
		if slices.Contains(keys, r.File) {
			t.Errorf("object %s still stored", r.File)
		}
	}
}

// histogramCount reads mediarecorder_stop_to_finished_seconds_count from
// /metrics.
func histogramCount(t *testing.T, base string) int {
	t.Helper()
	body := string(do(t, "GET", base+"/metrics", nil).body)
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, "mediarecorder_stop_to_finished_seconds_count "); ok {
			var n int
			fmt.Sscan(v, &n)
			return n
		}
	}
	t.Fatalf("no stop-to-finished count in /metrics:\n%s", body)
	return 0
}

// TestKeepAPI: keep is set at creation and by PATCH, shown in the
// recording's JSON, refused without a boolean; a recording stopped by
// its WHIP session's end (DELETE /whip/{session}) is timed by the
// stop-to-finished histogram (before, only POST …/stop was). Retention
// then spares the kept recording and deletes the other one.
func TestKeepAPI(t *testing.T) {
	clock := &testClock{t: time.Now().Add(365 * day)} // everything is old
	s, hs := newTestServer(t, Config{Now: clock.Now, RetainFor: day})
	pub := publish(t, hs.URL, "")
	r := do(t, "POST", hs.URL+"/api/recordings", []byte(`{"session":"`+pub.session+`","keep":true}`))
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	kept := decodeJSON[meta](t, r.body)
	if !kept.Keep || !strings.Contains(string(r.body), `"keep":true`) {
		t.Errorf("created with keep: %s", r.body)
	}
	r = do(t, "POST", hs.URL+"/api/recordings", []byte(`{"session":"`+pub.session+`"}`))
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	other := decodeJSON[meta](t, r.body)
	if other.Keep || !strings.Contains(string(r.body), `"keep":false`) {
		t.Errorf("created without keep: %s", r.body)
	}
	// PATCH while live: off and on again.
	for _, v := range []bool{false, true} {
		r = do(t, "PATCH", hs.URL+"/api/recordings/"+kept.ID, []byte(fmt.Sprintf(`{"keep":%v}`, v)))
		if r.status != 200 || decodeJSON[meta](t, r.body).Keep != v {
			t.Errorf("PATCH keep %v: %d %s", v, r.status, r.body)
		}
	}
	for _, bad := range []string{`{}`, `{"keep":"yes"}`, `not json`} {
		if r := do(t, "PATCH", hs.URL+"/api/recordings/"+kept.ID, []byte(bad)); r.status != 400 {
			t.Errorf("PATCH %s: %d %s, want 400", bad, r.status, r.body)
		}
	}
	if r := do(t, "PATCH", hs.URL+"/api/recordings/"+newID(), []byte(`{"keep":true}`)); r.status != 404 {
		t.Errorf("PATCH of an unknown id: %d, want 404", r.status)
	}
	before := histogramCount(t, hs.URL)
	time.Sleep(time.Second)
	if r := do(t, "DELETE", hs.URL+pub.location, nil); r.status != 200 {
		t.Fatalf("DELETE session: %d %s", r.status, r.body)
	}
	// The other one is old by the test's clock: retention deletes it
	// as soon as it finishes.
	waitFor(t, 20*time.Second, "both recordings to stop", func() bool {
		row, err := s.cat.Get(context.Background(), kept.ID)
		_, oerr := s.cat.Get(context.Background(), other.ID)
		return err == nil && row.Finished && errors.Is(oerr, catalog.ErrNotFound)
	})
	waitFor(t, 10*time.Second, "the histogram to count both", func() bool { return histogramCount(t, hs.URL) == before+2 })
	if _, err := os.Stat(filepath.Join(s.cfg.Dir, other.ID+".webm")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the deleted recording's file: %v", err)
	}
	if r := do(t, "GET", hs.URL+"/api/recordings/"+kept.ID, nil); r.status != 200 || !decodeJSON[meta](t, r.body).Keep {
		t.Errorf("the kept recording: %d %s", r.status, r.body)
	}
	body := string(do(t, "GET", hs.URL+"/metrics", nil).body)
	if !strings.Contains(body, "mediarecorder_retention_deleted_total 1\n") || strings.Contains(body, "mediarecorder_retention_freed_bytes_total 0\n") {
		t.Errorf("retention metrics:\n%s", body)
	}
	// Finished: PATCH goes to the catalog; without keep, the next pass
	// deletes it.
	r = do(t, "PATCH", hs.URL+"/api/recordings/"+kept.ID, []byte(`{"keep":false}`))
	if r.status != 200 || decodeJSON[meta](t, r.body).Keep {
		t.Errorf("PATCH of a finished recording: %d %s", r.status, r.body)
	}
	s.kickRetention()
	waitFor(t, 20*time.Second, "retention to delete the formerly kept recording", func() bool {
		return do(t, "GET", hs.URL+"/api/recordings/"+kept.ID, nil).status == 404
	})
}

// TestRetentionQueuedUpload: with S3, a finished recording whose object
// is not stored yet (its upload queued on another node) is spared for a
// day after it finished, then its row is deleted.
func TestRetentionQueuedUpload(t *testing.T) {
	clock := &testClock{t: clockAt}
	s := retentionServer(t, Config{Store: s3Store(t), RetainFor: 30 * day}, clock)
	stored := addFinished(t, s, 40*day, 100, false)
	queued := catalog.Recording{
		ID: newID(), State: "inactive", Size: 100, Created: clockAt.Add(-41 * day), Finished: true,
		FinishedAt: clockAt.Add(-time.Hour), Owner: "elsewhere",
	}
	queued.File, queued.ObjectKey = queued.ID+".webm", queued.ID+".webm"
	if err := s.cat.Put(context.Background(), queued); err != nil {
		t.Fatal(err)
	}
	if res := pass(t, s); res.deleted != 1 {
		t.Errorf("pass: %+v, want only the stored one deleted", res)
	}
	expect(t, s, nil, []catalog.Recording{stored})
	if _, err := s.cat.Get(context.Background(), queued.ID); err != nil {
		t.Errorf("the recording whose upload is queued: %v", err)
	}
	clock.Add(day)
	if res := pass(t, s); res.deleted != 1 {
		t.Errorf("a day later: %+v, want the unstored one deleted", res)
	}
	if _, err := s.cat.Get(context.Background(), queued.ID); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("a day later, the unstored recording's row: %v", err)
	}
}
