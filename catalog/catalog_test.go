package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/catalog"
	"github.com/gomediarecorder/mediarecorder/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// hang is the guard against a test that never ends; no assertion depends
// on it.
const hang = 60 * time.Second

// store is one catalog store (a bbolt file or a database) that instances
// open, as the nodes of a cluster would.
type store struct {
	name string
	// shared: several instances may be open at once (PostgreSQL). A bbolt
	// file is held by one instance: "two nodes" are then one instance.
	shared bool
	open   func(t *testing.T, opts catalog.Options) catalog.Catalog
}

func boltStore(t *testing.T) *store {
	path := filepath.Join(t.TempDir(), "catalog.db")
	return &store{name: "bolt", open: func(t *testing.T, opts catalog.Options) catalog.Catalog {
		c, err := catalog.Open(context.Background(), path, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}}
}

func pgStore(t *testing.T) *store {
	dsn := pgtest.NewDB(t)
	return &store{name: "postgres", shared: true, open: func(t *testing.T, opts catalog.Options) catalog.Catalog {
		ctx, cancel := context.WithTimeout(context.Background(), hang)
		defer cancel()
		c, err := catalog.Open(ctx, dsn, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}}
}

// two opens two instances ("nodes"), or one used twice when the store
// cannot be shared.
func (s *store) two(t *testing.T, opts catalog.Options) (catalog.Catalog, catalog.Catalog) {
	a := s.open(t, opts)
	if !s.shared {
		return a, a
	}
	return a, s.open(t, opts)
}

// suite is the behaviour both engines share: one case table, run against
// each.
var suite = []struct {
	name string
	run  func(t *testing.T, s *store)
}{
	{"CRUD", testCRUD},
	{"ListNewestFirst", testListNewestFirst},
	{"EventsInOrder", testEventsInOrder},
	{"SlowSubscriber", testSlowSubscriber},
	{"ConcurrentPublishers", testConcurrentPublishers},
	{"LargeEvent", testLargeEvent},
	{"BadEvents", testBadEvents},
	{"SubscribeEnds", testSubscribeEnds},
	{"Nodes", testNodes},
	{"Takeover", testTakeover},
	{"RestartRecoversOwn", testRestartRecoversOwn},
	{"CancelledContext", testCancelledContext},
	{"BeginDeleteAndKeep", testBeginDeleteAndKeep},
	{"BeginDeleteRace", testBeginDeleteRace},
}

func TestBolt(t *testing.T) {
	for _, c := range suite {
		t.Run(c.name, func(t *testing.T) { c.run(t, boltStore(t)) })
	}
}

func TestPostgres(t *testing.T) {
	pgtest.Require(t)
	for _, c := range suite {
		t.Run(c.name, func(t *testing.T) { c.run(t, pgStore(t)) })
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	t.Cleanup(cancel)
	return ctx
}

func rec(id string, created time.Time) catalog.Recording {
	return catalog.Recording{
		ID: id, Session: "s-" + id, Name: "name " + id, State: "recording",
		MimeType: "video/webm;codecs=vp8,opus", Size: 1234, Duration: 1.5,
		Created: created, File: id + ".webm", Owner: "n1",
	}
}

// same compares two rows, times by instant.
func same(t *testing.T, got, want catalog.Recording) {
	t.Helper()
	if !got.Created.Equal(want.Created) || !got.FinishedAt.Equal(want.FinishedAt) {
		t.Errorf("%s: times created %v finished %v, want %v %v", want.ID, got.Created, got.FinishedAt, want.Created, want.FinishedAt)
	}
	g, w := got, want
	g.Created, w.Created, g.FinishedAt, w.FinishedAt, g.Claimed, w.Claimed = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	gj, _ := json.Marshal(g)
	wj, _ := json.Marshal(w)
	if string(gj) != string(wj) {
		t.Errorf("row\n got %s\nwant %s", gj, wj)
	}
}

func testCRUD(t *testing.T, s *store) {
	ctx := ctxT(t)
	c := s.open(t, catalog.Options{})
	now := time.Now().Round(time.Microsecond)
	r := rec("r1", now)
	if err := c.Put(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	same(t, got, r)
	if got.Claimed.IsZero() {
		t.Error("Claimed not set at creation")
	}
	// A full update: every field changes, except Owner, which only
	// ClaimOrphans changes.
	r.State, r.Size, r.Duration, r.Recovered, r.Lost, r.Keep = "inactive", 99999, 12.25, true, 0.5, true
	r.Error = &catalog.Error{Name: "UnknownError", Message: "disk full"}
	r.Finished, r.FinishedAt = true, now.Add(time.Minute)
	r.ObjectKey, r.UploadID, r.Name = "rec/r1.webm", "upload-1", "renamed"
	r2 := r
	r2.Owner = "someone-else"
	if err := c.Put(ctx, r2); err != nil {
		t.Fatal(err)
	}
	got, err = c.Get(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	same(t, got, r)
	if _, err := c.Get(ctx, "nope"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Get(missing) = %v, want ErrNotFound", err)
	}
	if err := c.Put(ctx, catalog.Recording{}); !errors.Is(err, catalog.ErrBadID) {
		t.Errorf("Put(no id) = %v, want ErrBadID", err)
	}
	if _, err := c.Publish(ctx, "r1", "start", json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "r1"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := c.Delete(ctx, "r1"); err != nil {
		t.Errorf("Delete(missing) = %v", err)
	}
	// Its events went with it: a new recording with the same id starts at 1.
	ev, err := c.Publish(ctx, "r1", "start", nil)
	if err != nil || ev.Seq != 1 {
		t.Errorf("Publish after Delete = seq %d, %v; want 1", ev.Seq, err)
	}
	if rs, err := c.List(ctx); err != nil || len(rs) != 0 {
		t.Errorf("List after Delete = %d rows, %v", len(rs), err)
	}
}

func testListNewestFirst(t *testing.T, s *store) {
	ctx := ctxT(t)
	a, b := s.two(t, catalog.Options{})
	base := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for i, id := range []string{"b", "d", "a", "c", "e"} {
		created := base.Add(time.Duration(i%3) * time.Hour) // b, c: +0; d, e: +1h; a: +2h
		if err := a.Put(ctx, rec(id, created)); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := b.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	if got, want := strings.Join(ids, ","), "a,e,d,c,b"; got != want {
		t.Errorf("List = %s, want %s", got, want)
	}
}

// collect reads n events from ch.
func collect(t *testing.T, ch <-chan catalog.Event, n int) []catalog.Event {
	t.Helper()
	var out []catalog.Event
	timeout := time.After(hang)
	for len(out) < n {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed after %d of %d events", len(out), n)
			}
			out = append(out, ev)
		case <-timeout:
			t.Fatalf("got %d of %d events", len(out), n)
		}
	}
	return out
}

// checkSeq checks that evs are events from..from+len-1 of recording id,
// with the data that publish gave them.
func checkSeq(t *testing.T, evs []catalog.Event, id string, from int64) {
	t.Helper()
	for i, ev := range evs {
		want := from + int64(i)
		if ev.Recording != id || ev.Seq != want || ev.Name != "dataavailable" || string(ev.Data) != fmt.Sprintf(`{"i":%d}`, want) || ev.Time.IsZero() {
			t.Fatalf("event %d = %+v (data %s), want %s seq %d", i, ev, ev.Data, id, want)
		}
	}
}

func publishN(t *testing.T, c catalog.Catalog, id string, from, to int64) {
	t.Helper()
	for i := from; i <= to; i++ {
		ev, err := c.Publish(context.Background(), id, "dataavailable", json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		if ev.Seq != i {
			t.Fatalf("Publish gave seq %d, want %d", ev.Seq, i)
		}
	}
}

func testEventsInOrder(t *testing.T, s *store) {
	ctx := ctxT(t)
	a, b := s.two(t, catalog.Options{})
	// Subscribed on b before anything is published on a.
	ch1, cancel1 := b.Subscribe(ctx, "rec1", 0)
	defer cancel1()
	ch2, cancel2 := b.Subscribe(ctx, "rec2", 0)
	defer cancel2()
	// Two recordings published at once, each in order.
	var wg sync.WaitGroup
	for _, id := range []string{"rec1", "rec2"} {
		wg.Go(func() { publishN(t, a, id, 1, 150) })
	}
	wg.Wait()
	checkSeq(t, collect(t, ch1, 150), "rec1", 1)
	checkSeq(t, collect(t, ch2, 150), "rec2", 1)
	// A late subscriber gets the history first, then the live events.
	ch3, cancel3 := b.Subscribe(ctx, "rec1", 100)
	defer cancel3()
	publishN(t, a, "rec1", 151, 160)
	checkSeq(t, collect(t, ch3, 60), "rec1", 101)
	checkSeq(t, collect(t, ch1, 10), "rec1", 151)
	select {
	case ev := <-ch1:
		t.Errorf("an extra event: %+v", ev)
	default:
	}
}

// testSlowSubscriber: a subscriber that reads nothing while 1500 events
// go by (past the in-memory queue and several read-back pages) still gets
// each once, in order.
func testSlowSubscriber(t *testing.T, s *store) {
	ctx := ctxT(t)
	a, b := s.two(t, catalog.Options{})
	ch, cancel := b.Subscribe(ctx, "slow", 0)
	defer cancel()
	publishN(t, a, "slow", 1, 1500)
	checkSeq(t, collect(t, ch, 1500), "slow", 1)
	publishN(t, a, "slow", 1501, 1510)
	checkSeq(t, collect(t, ch, 10), "slow", 1501)
}

// testConcurrentPublishers: two nodes publishing to one recording at once
// (which the server does not do) still number its events 1…N without a
// gap or a repeat, and a subscriber gets them in that order.
func testConcurrentPublishers(t *testing.T, s *store) {
	ctx := ctxT(t)
	a, b := s.two(t, catalog.Options{})
	ch, cancel := a.Subscribe(ctx, "shared", 0)
	defer cancel()
	var mu sync.Mutex
	seen := map[int64]string{}
	var wg sync.WaitGroup
	for _, c := range []catalog.Catalog{a, b} {
		wg.Go(func() {
			for range 100 {
				ev, err := c.Publish(ctx, "shared", "dataavailable", nil)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if _, dup := seen[ev.Seq]; dup {
					t.Errorf("seq %d given twice", ev.Seq)
				}
				seen[ev.Seq] = ev.Name
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for i, ev := range collect(t, ch, 200) {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
	}
	if len(seen) != 200 {
		t.Errorf("%d distinct seqs, want 200", len(seen))
	}
}

func testLargeEvent(t *testing.T, s *store) {
	ctx := ctxT(t)
	a, b := s.two(t, catalog.Options{})
	ch, cancel := b.Subscribe(ctx, "big", 0)
	defer cancel()
	msg := strings.Repeat("é", 10000) // 20000 bytes, past NOTIFY's 8000
	big, _ := json.Marshal(catalog.Error{Name: "UnknownError", Message: msg})
	if _, err := a.Publish(ctx, "big", "error", big); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Publish(ctx, "big", "stop", json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	evs := collect(t, ch, 2)
	if evs[0].Seq != 1 || evs[0].Name != "error" || string(evs[0].Data) != string(big) {
		t.Errorf("large event: seq %d name %q, %d bytes of data; want 1 error %d bytes", evs[0].Seq, evs[0].Name, len(evs[0].Data), len(big))
	}
	if evs[1].Seq != 2 || evs[1].Name != "stop" || string(evs[1].Data) != `{}` {
		t.Errorf("the event after it: %+v", evs[1])
	}
}

func testBadEvents(t *testing.T, s *store) {
	ctx := ctxT(t)
	c := s.open(t, catalog.Options{})
	for _, tc := range []struct {
		id, name, data string
		want           error
	}{
		{"", "start", "{}", catalog.ErrBadID},
		{"r", "", "{}", catalog.ErrBadEvent},
		{"r", "start", "{not json", catalog.ErrBadEvent},
	} {
		if _, err := c.Publish(ctx, tc.id, tc.name, json.RawMessage(tc.data)); !errors.Is(err, tc.want) {
			t.Errorf("Publish(%q, %q, %q) = %v, want %v", tc.id, tc.name, tc.data, err, tc.want)
		}
	}
	// Nothing was stored: the next event is number 1.
	if ev, err := c.Publish(ctx, "r", "start", nil); err != nil || ev.Seq != 1 {
		t.Errorf("Publish = seq %d, %v; want 1", ev.Seq, err)
	}
}

// closed waits for ch to be closed, draining it.
func closed(t *testing.T, ch <-chan catalog.Event, what string) {
	t.Helper()
	timeout := time.After(hang)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatalf("%s: the channel stayed open", what)
		}
	}
}

func testSubscribeEnds(t *testing.T, s *store) {
	c := s.open(t, catalog.Options{})
	ctx, cancelCtx := context.WithCancel(context.Background())
	ch1, cancel1 := c.Subscribe(ctx, "r", 0)
	defer cancel1()
	ch2, cancel2 := c.Subscribe(context.Background(), "r", 0)
	ch3, cancel3 := c.Subscribe(context.Background(), "r", 0)
	defer cancel3()
	cancelCtx()
	closed(t, ch1, "ctx cancelled")
	cancel2()
	closed(t, ch2, "cancel called")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	closed(t, ch3, "catalog closed")
	ch4, cancel4 := c.Subscribe(context.Background(), "r", 0)
	defer cancel4()
	closed(t, ch4, "subscribed after Close")
	if err := c.Put(context.Background(), rec("x", time.Now())); !errors.Is(err, catalog.ErrClosed) {
		t.Errorf("Put after Close = %v, want ErrClosed", err)
	}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testNodes(t *testing.T, s *store) {
	ctx := ctxT(t)
	a, b := s.two(t, catalog.Options{StaleAfter: 500 * time.Millisecond})
	if err := a.Heartbeat(ctx, catalog.Node{}); !errors.Is(err, catalog.ErrBadID) {
		t.Errorf("Heartbeat(no id) = %v", err)
	}
	if err := a.Heartbeat(ctx, catalog.Node{ID: "n1", URL: "http://127.0.0.1:1", Capacity: 2, Sessions: 2}); err != nil {
		t.Fatal(err)
	}
	if err := b.Heartbeat(ctx, catalog.Node{ID: "n2", URL: "http://127.0.0.1:2", Capacity: 5, Sessions: 1}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ns, err := b.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Only when the box was quick enough for both to be fresh.
	if time.Since(start) < 200*time.Millisecond {
		if len(ns) != 2 || ns[0].ID != "n1" || ns[1].ID != "n2" {
			t.Fatalf("Nodes = %+v, want n1, n2", ns)
		}
		if ns[0].URL != "http://127.0.0.1:1" || ns[0].Capacity != 2 || ns[0].Sessions != 2 || ns[0].HasRoom() || !ns[1].HasRoom() || ns[1].Heartbeat.IsZero() {
			t.Errorf("Nodes = %+v", ns)
		}
	}
	// n3 leaves: gone at once, and its rows are orphans.
	if err := a.Heartbeat(ctx, catalog.Node{ID: "n3"}); err != nil {
		t.Fatal(err)
	}
	r := rec("left", time.Now())
	r.Owner = "n3"
	if err := a.Put(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := a.Leave(ctx, "n3"); err != nil {
		t.Fatal(err)
	}
	if ns, err := b.Nodes(ctx); err != nil || slices.ContainsFunc(ns, func(n catalog.Node) bool { return n.ID == "n3" }) {
		t.Errorf("Nodes after n3 left = %+v, %v", ns, err)
	}
	if err := b.Heartbeat(ctx, catalog.Node{ID: "n2"}); err != nil {
		t.Fatal(err)
	}
	if rs, err := b.ClaimOrphans(ctx, "n2", time.Hour); err != nil || len(rs) != 1 || rs[0].ID != "left" {
		t.Errorf("ClaimOrphans after n3 left = %+v, %v; want its row", rs, err)
	}
	// n2 goes on beating, n1 stops: n1 drops out.
	waitFor(t, "n1 to go stale", func() bool {
		if err := b.Heartbeat(ctx, catalog.Node{ID: "n2", URL: "http://127.0.0.1:2", Capacity: 5, Sessions: 3}); err != nil {
			t.Fatal(err)
		}
		ns, err := a.Nodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(ns) == 1 && ns[0].ID == "n2" && ns[0].Sessions == 3
	})
}

func testTakeover(t *testing.T, s *store) {
	ctx := ctxT(t)
	const stale = 2 * time.Second
	a, b := s.two(t, catalog.Options{})
	dead := a
	if s.shared {
		dead = s.open(t, catalog.Options{})
	}
	start := time.Now() // n1's last heartbeat is after this
	if err := dead.Heartbeat(ctx, catalog.Node{ID: "n1"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for i := range 20 {
		r := rec(fmt.Sprintf("r%02d", i), time.Now())
		if i%4 == 0 {
			r.Finished, r.State = true, "inactive" // finished rows stay n1's
		} else {
			want[r.ID] = true
		}
		if err := dead.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// Unowned rows (written before owners existed) are orphans too.
	legacy := rec("legacy", time.Now())
	legacy.Owner = ""
	if err := dead.Put(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	want["legacy"] = true
	if _, err := a.ClaimOrphans(ctx, "n2", stale); !errors.Is(err, catalog.ErrNoHeartbeat) {
		t.Errorf("ClaimOrphans before Heartbeat = %v, want ErrNoHeartbeat", err)
	}
	// n2 (on a) and n3 (on b) contend until every orphan is claimed; n1
	// has stopped beating.
	got := map[string]string{}
	var mu sync.Mutex
	waitFor(t, "every orphan to be claimed", func() bool {
		var wg sync.WaitGroup
		for _, n := range []struct {
			c  catalog.Catalog
			id string
		}{{a, "n2"}, {b, "n3"}} {
			wg.Go(func() {
				if err := n.c.Heartbeat(ctx, catalog.Node{ID: n.id}); err != nil {
					t.Error(err)
					return
				}
				rs, err := n.c.ClaimOrphans(ctx, n.id, stale)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, r := range rs {
					if r.Owner != n.id || r.Finished {
						t.Errorf("claimed %+v", r)
					}
					if prev, ok := got[r.ID]; ok {
						t.Errorf("%s claimed by %s and again by %s", r.ID, prev, n.id)
					}
					got[r.ID] = n.id
				}
			})
		}
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if time.Since(start) < stale/2 { // n1 beat less than stale ago
			for id, by := range got {
				if id != "legacy" {
					t.Fatalf("%s claimed by %s while its owner n1 was alive", id, by)
				}
			}
		}
		return len(got) >= len(want)
	})
	for id := range want {
		if got[id] == "" {
			t.Errorf("%s not claimed", id)
		}
	}
	rs, err := b.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		switch {
		case want[r.ID] && r.Owner != got[r.ID]:
			t.Errorf("%s: owner %q, but %q claimed it", r.ID, r.Owner, got[r.ID])
		case !want[r.ID] && (r.Owner != "n1" || got[r.ID] != ""):
			t.Errorf("finished %s: owner %q, claimed by %q", r.ID, r.Owner, got[r.ID])
		}
	}
	if len(rs) != 21 {
		t.Errorf("%d rows, want 21", len(rs))
	}
	t.Logf("claims: %v", got)
}

func testRestartRecoversOwn(t *testing.T, s *store) {
	ctx := ctxT(t)
	n1 := s.open(t, catalog.Options{})
	if err := n1.Heartbeat(ctx, catalog.Node{ID: "n1"}); err != nil {
		t.Fatal(err)
	}
	r := rec("mine", time.Now()) // owner n1, unfinished
	if err := n1.Put(ctx, r); err != nil {
		t.Fatal(err)
	}
	// Not an orphan while this life of n1 runs.
	if rs, err := n1.ClaimOrphans(ctx, "n1", time.Hour); err != nil || len(rs) != 0 {
		t.Fatalf("ClaimOrphans of a live node's own rows = %v, %v", rs, err)
	}
	// n1 crashes and comes back with the same id at once: its heartbeat is
	// still fresh, so nobody else may take the row, but n1 gets it back.
	n1.Close()
	if s.shared {
		other := s.open(t, catalog.Options{})
		if err := other.Heartbeat(ctx, catalog.Node{ID: "n2"}); err != nil {
			t.Fatal(err)
		}
		if rs, err := other.ClaimOrphans(ctx, "n2", time.Hour); err != nil || len(rs) != 0 {
			t.Fatalf("n2 claimed the rows of a live n1: %v, %v", rs, err)
		}
	}
	again := s.open(t, catalog.Options{})
	if err := again.Heartbeat(ctx, catalog.Node{ID: "n1"}); err != nil {
		t.Fatal(err)
	}
	rs, err := again.ClaimOrphans(ctx, "n1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].ID != "mine" || rs[0].Owner != "n1" {
		t.Fatalf("n1 after a restart claimed %+v, want its row", rs)
	}
	// Claimed once: the next call, and rows of this life, are not orphans.
	if err := again.Put(ctx, rec("new", time.Now())); err != nil {
		t.Fatal(err)
	}
	if rs, err := again.ClaimOrphans(ctx, "n1", time.Hour); err != nil || len(rs) != 0 {
		t.Fatalf("second ClaimOrphans = %+v, %v", rs, err)
	}
	// A new row that names no owner is Options.Node's.
	if !s.shared {
		again.Close()
	}
	ownNode := s.open(t, catalog.Options{Node: "n1"})
	r = rec("unnamed", time.Now())
	r.Owner = ""
	if err := ownNode.Put(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got, err := ownNode.Get(ctx, "unnamed"); err != nil || got.Owner != "n1" {
		t.Errorf("a row put without an owner: owner %q, %v; want n1", got.Owner, err)
	}
}

func testCancelledContext(t *testing.T, s *store) {
	c := s.open(t, catalog.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := map[string]func() error{
		"Put":       func() error { return c.Put(ctx, rec("x", time.Now())) },
		"Get":       func() error { _, err := c.Get(ctx, "x"); return err },
		"List":      func() error { _, err := c.List(ctx); return err },
		"Delete":    func() error { return c.Delete(ctx, "x") },
		"Publish":   func() error { _, err := c.Publish(ctx, "x", "start", nil); return err },
		"Heartbeat": func() error { return c.Heartbeat(ctx, catalog.Node{ID: "n"}) },
		"Nodes":     func() error { _, err := c.Nodes(ctx); return err },
		"Leave":     func() error { return c.Leave(ctx, "n") },
		"Claim":     func() error { _, err := c.ClaimOrphans(ctx, "n", 0); return err },
	}
	for name, call := range calls {
		done := make(chan error, 1)
		go func() { done <- call() }()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled context = %v, want context.Canceled", name, err)
			}
		case <-time.After(hang):
			t.Fatalf("%s with a cancelled context hangs", name)
		}
	}
	if rs, err := c.List(context.Background()); err != nil || len(rs) != 0 {
		t.Errorf("after the cancelled calls: %d rows, %v", len(rs), err)
	}
}

// testBeginDeleteAndKeep: BeginDelete marks only finished rows, refuses
// kept ones unless forced and a second mark; Put keeps the mark; SetKeep
// refuses a row being deleted.
func testBeginDeleteAndKeep(t *testing.T, s *store) {
	ctx := ctxT(t)
	c := s.open(t, catalog.Options{})
	now := time.Now().Round(time.Microsecond)
	live, done, kept := rec("live", now), rec("done", now), rec("kept", now)
	done.Finished, kept.Finished, kept.Keep = true, true, true
	for _, r := range []catalog.Recording{live, done, kept} {
		if err := c.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.BeginDelete(ctx, "live", true); !errors.Is(err, catalog.ErrConflict) {
		t.Errorf("BeginDelete of an unfinished row: %v, want ErrConflict", err)
	}
	if _, err := c.BeginDelete(ctx, "missing", false); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("BeginDelete of a missing row: %v, want ErrNotFound", err)
	}
	if _, err := c.BeginDelete(ctx, "kept", false); !errors.Is(err, catalog.ErrConflict) {
		t.Errorf("BeginDelete of a kept row: %v, want ErrConflict", err)
	}
	got, err := c.BeginDelete(ctx, "done", false)
	if err != nil || !got.Deleting || got.ID != "done" {
		t.Fatalf("BeginDelete: %+v, %v", got, err)
	}
	if _, err := c.BeginDelete(ctx, "done", true); !errors.Is(err, catalog.ErrConflict) {
		t.Errorf("second BeginDelete: %v, want ErrConflict", err)
	}
	// Put neither clears the mark nor sets it.
	done.Size = 42
	if err := c.Put(ctx, done); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(ctx, "done"); !got.Deleting || got.Size != 42 {
		t.Errorf("after Put: deleting %v size %d, want true 42", got.Deleting, got.Size)
	}
	fresh := rec("fresh", now)
	fresh.Deleting = true
	if err := c.Put(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(ctx, "fresh"); got.Deleting {
		t.Error("Put created a row marked Deleting")
	}
	if _, err := c.SetKeep(ctx, "done", true); !errors.Is(err, catalog.ErrConflict) {
		t.Errorf("SetKeep of a row being deleted: %v, want ErrConflict", err)
	}
	if _, err := c.SetKeep(ctx, "missing", true); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("SetKeep of a missing row: %v, want ErrNotFound", err)
	}
	if got, err := c.SetKeep(ctx, "kept", false); err != nil || got.Keep {
		t.Fatalf("SetKeep false: %+v, %v", got, err)
	}
	if got, err := c.BeginDelete(ctx, "kept", false); err != nil || !got.Deleting {
		t.Errorf("BeginDelete after SetKeep false: %+v, %v", got, err)
	}
	if got, err := c.BeginDelete(ctx, "", false); !errors.Is(err, catalog.ErrBadID) {
		t.Errorf("BeginDelete(\"\"): %+v, %v", got, err)
	}
	list, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	marked := 0
	for _, r := range list {
		if r.Deleting {
			marked++
		}
	}
	if marked != 2 {
		t.Errorf("List shows %d rows being deleted, want 2", marked)
	}
}

// testBeginDeleteRace: of concurrent BeginDelete calls on two instances,
// exactly one succeeds.
func testBeginDeleteRace(t *testing.T, s *store) {
	ctx := ctxT(t)
	a, b := s.two(t, catalog.Options{})
	const rows = 20
	for i := range rows {
		r := rec(fmt.Sprintf("r%02d", i), time.Now())
		r.Finished = true
		if err := a.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	var wins [rows]int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range []catalog.Catalog{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rows {
				_, err := c.BeginDelete(ctx, fmt.Sprintf("r%02d", i), false)
				switch {
				case err == nil:
					mu.Lock()
					wins[i]++
					mu.Unlock()
				case !errors.Is(err, catalog.ErrConflict):
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	for i, n := range wins {
		if n != 1 {
			t.Errorf("row %d marked %d times, want once", i, n)
		}
	}
}
