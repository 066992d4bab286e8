package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/catalog"
	"github.com/gomediarecorder/mediarecorder/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

func openPG(t *testing.T, dsn string) catalog.Catalog {
	t.Helper()
	c, err := catalog.Open(ctxT(t), dsn, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctxT(t), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestPostgresConcurrentMigrations starts three nodes at once on an empty
// database: all open, the schema is made once, and opening again changes
// nothing.
func TestPostgresConcurrentMigrations(t *testing.T) {
	dsn := pgtest.NewDB(t)
	ctx := ctxT(t)
	var wg sync.WaitGroup
	cats := make([]catalog.Catalog, 3)
	errs := make([]error, 3)
	for i := range cats {
		wg.Go(func() { cats[i], errs[i] = catalog.Open(ctx, dsn, catalog.Options{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		defer cats[i].Close()
	}
	check := func() {
		var n, v int
		if err := connect(t, dsn).QueryRow(ctx, "SELECT count(*), max(version) FROM mediarecorder_schema").Scan(&n, &v); err != nil {
			t.Fatal(err)
		}
		if want := catalog.SchemaVersion; n != want || v != want {
			t.Fatalf("mediarecorder_schema: %d rows, version %d; want %d, %d", n, v, want, want)
		}
	}
	check()
	// Every node works on the one schema.
	if err := cats[0].Put(ctx, rec("r", time.Now())); err != nil {
		t.Fatal(err)
	}
	if _, err := cats[2].Get(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	openPG(t, dsn)
	check()
}

// TestPostgresListenerReconnect kills the listening connections with
// pg_terminate_backend while events are published: the subscriber, on
// another node, still gets every event once, in order.
func TestPostgresListenerReconnect(t *testing.T) {
	dsn := pgtest.NewDB(t)
	ctx := ctxT(t)
	a, b := openPG(t, dsn), openPG(t, dsn)
	admin := connect(t, dsn)
	listeners := func() []int {
		rows, _ := admin.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'mediarecorder-catalog-listen' ORDER BY pid")
		pids, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			t.Fatal(err)
		}
		return pids
	}
	ch, cancel := b.Subscribe(ctx, "rec", 0)
	defer cancel()
	publishN(t, a, "rec", 1, 5)
	checkSeq(t, collect(t, ch, 5), "rec", 1)
	for round := range 3 {
		old := listeners()
		if len(old) != 2 {
			t.Fatalf("listeners %v, want one per node", old)
		}
		if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY($1)", old); err != nil {
			t.Fatal(err)
		}
		// Published while b's listener is down or reconnecting.
		first := int64(6 + 20*round)
		publishN(t, a, "rec", first, first+9)
		waitFor(t, "both listeners to reconnect", func() bool {
			now := listeners()
			if len(now) != 2 {
				return false
			}
			for _, p := range now {
				for _, o := range old {
					if p == o {
						return false
					}
				}
			}
			return true
		})
		// And after.
		publishN(t, a, "rec", first+10, first+19)
		checkSeq(t, collect(t, ch, 20), "rec", first)
	}
	select {
	case ev := <-ch:
		t.Errorf("an extra event: %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestPostgresBlockedCallCancels: calls that wait for a lock return
// with the context's error once it ends.
func TestPostgresBlockedCallCancels(t *testing.T) {
	dsn := pgtest.NewDB(t)
	ctx := ctxT(t)
	c := openPG(t, dsn)
	if err := c.Put(ctx, rec("r", time.Now())); err != nil {
		t.Fatal(err)
	}
	if err := c.Heartbeat(ctx, catalog.Node{ID: "n1"}); err != nil {
		t.Fatal(err)
	}
	// Another session holds the row and the claims lock.
	locker := connect(t, dsn)
	tx, err := locker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SELECT * FROM recordings WHERE id = 'r' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(0x6d72_6361_7402)); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func(context.Context) error{
		"Put":   func(ctx context.Context) error { return c.Put(ctx, rec("r", time.Now())) },
		"Claim": func(ctx context.Context) error { _, err := c.ClaimOrphans(ctx, "n1", 0); return err },
	}
	for name, call := range calls {
		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		done := make(chan error, 1)
		go func() { done <- call(cctx) }()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("blocked %s = %v, want context.DeadlineExceeded", name, err)
			}
		case <-time.After(hang):
			t.Fatalf("blocked %s does not return when its context ends", name)
		}
		cancel()
	}
	// Once the lock is gone the catalog works on.
	tx.Rollback(ctx)
	if err := c.Put(ctx, rec("r", time.Now())); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkPostgresPublish measures an event's trip from Publish on one
// node to a subscriber on another (one at a time, as a recording's events
// go).
func BenchmarkPostgresPublish(b *testing.B) {
	dsn := pgtest.NewDB(b)
	ctx := context.Background()
	open := func() catalog.Catalog {
		c, err := catalog.Open(ctx, dsn, catalog.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		return c
	}
	pub, subNode := open(), open()
	ch, cancel := subNode.Subscribe(ctx, "bench", 0)
	defer cancel()
	data := []byte(`{"size":12345,"timecode":1000}`)
	b.ResetTimer()
	for i := range b.N {
		if _, err := pub.Publish(ctx, "bench", "dataavailable", data); err != nil {
			b.Fatal(err)
		}
		if ev := <-ch; ev.Seq != int64(i+1) {
			b.Fatalf("got seq %d, want %d", ev.Seq, i+1)
		}
	}
}

// freezer is a TCP proxy to the server's Unix socket whose connections
// can be frozen: they stay open but carry nothing more, as when a network
// dies in silence. Connections made after a freeze work.
type freezer struct {
	ln    net.Listener
	sock  string
	mu    sync.Mutex
	conns []*frozenPair
}

type frozenPair struct {
	frozen atomic.Bool
	a, b   net.Conn
}

func newFreezer(t *testing.T, sockDir string) *freezer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln, sock: filepath.Join(sockDir, ".s.PGSQL.5432")}
	t.Cleanup(f.close)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("unix", f.sock)
			if err != nil {
				c.Close()
				continue
			}
			p := &frozenPair{a: c, b: s}
			f.mu.Lock()
			f.conns = append(f.conns, p)
			f.mu.Unlock()
			go p.pipe(c, s)
			go p.pipe(s, c)
		}
	}()
	return f
}

// close closes the proxy and its connections (again: no harm).
func (f *freezer) close() {
	f.ln.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.conns {
		p.a.Close()
		p.b.Close()
	}
}

func (p *frozenPair) pipe(src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			dst.Close()
			return
		}
		if p.frozen.Load() {
			continue // swallowed
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			src.Close()
			return
		}
	}
}

// freeze silences every connection made so far.
func (f *freezer) freeze() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.conns {
		p.frozen.Store(true)
	}
	return len(f.conns)
}

// TestPostgresSilentDeath: the subscriber node's connections (listener
// and pool) go silent without an error; the listener's ping notices,
// reconnects, and the subscriber gets every event, in order.
func TestPostgresSilentDeath(t *testing.T) {
	t.Cleanup(catalog.SetListenIdle(300 * time.Millisecond)) // runs after the catalogs close
	direct := pgtest.NewDB(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	f := newFreezer(t, u.Query().Get("host"))
	proxied := fmt.Sprintf("postgres://postgres@%s%s?sslmode=disable", f.ln.Addr(), u.Path)
	ctx := ctxT(t)
	a, b := openPG(t, direct), openPG(t, proxied)
	// Before b closes: closing a pool's silent connections waits 15 s.
	t.Cleanup(f.close)
	ch, cancel := b.Subscribe(ctx, "rec", 0)
	defer cancel()
	publishN(t, a, "rec", 1, 5)
	checkSeq(t, collect(t, ch, 5), "rec", 1)
	if n := f.freeze(); n == 0 {
		t.Fatal("no connection went through the proxy")
	}
	publishN(t, a, "rec", 6, 15)
	checkSeq(t, collect(t, ch, 10), "rec", 6)
	// b works on through new connections.
	if err := b.Put(ctx, rec("after", time.Now())); err != nil {
		t.Logf("a Put on a frozen pool connection: %v", err) // pgx may pick one; it fails at ctx's end
	}
	publishN(t, a, "rec", 16, 20)
	checkSeq(t, collect(t, ch, 5), "rec", 16)
}

// TestPostgresMigrateToDeleting: a database of schema version 1 (before
// retention) is migrated by Open; its rows keep their values and are not
// being deleted.
func TestPostgresMigrateToDeleting(t *testing.T) {
	dsn := pgtest.NewDB(t)
	ctx := ctxT(t)
	conn := connect(t, dsn)
	for _, q := range []string{
		"CREATE TABLE mediarecorder_schema (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())",
		catalog.Migration1,
		"INSERT INTO mediarecorder_schema (version) VALUES (1)",
		`INSERT INTO recordings (id, created, size, keep, finished, file) VALUES ('old', now(), 42, true, true, 'old.webm')`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	c := openPG(t, dsn)
	r, err := c.Get(ctx, "old")
	if err != nil || r.Size != 42 || !r.Keep || r.Deleting {
		t.Fatalf("after the migration: %+v, %v", r, err)
	}
	if _, err := c.BeginDelete(ctx, "old", false); !errors.Is(err, catalog.ErrConflict) {
		t.Errorf("BeginDelete of the kept row: %v", err)
	}
	if r, err := c.BeginDelete(ctx, "old", true); err != nil || !r.Deleting {
		t.Errorf("forced BeginDelete: %+v, %v", r, err)
	}
}
