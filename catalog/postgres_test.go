package catalog_test

import (
	"context"
	"errors"
	"sync"
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
		if n != 1 || v != 1 {
			t.Fatalf("mediarecorder_schema: %d rows, version %d; want 1, 1", n, v)
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
