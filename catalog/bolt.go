package catalog

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketRecordings is the bucket that server/catalog.go used: key = id,
// value = the recording's JSON.
var bucketRecordings = []byte("recordings")

// Bolt is the single-node catalog: recordings in a bbolt file, events and
// nodes in memory. Events are those of this process only, as before the
// catalog existed: after a restart a recording's events are gone and a
// new event is numbered 1 again. That is harmless for one node, whose
// recordings from before a restart are all finished by recovery (the
// server answers their event streams from the row), but an SSE client's
// Last-Event-ID from before the restart means nothing after it.
type Bolt struct {
	db   *bolt.DB
	opts Options
	boot time.Time // when it was opened: own rows claimed before are orphans
	hub  *hub

	mu     sync.Mutex
	events map[string][]Event
	nodes  map[string]Node
	closed bool
}

var _ Catalog = (*Bolt)(nil)

// OpenBolt opens (or creates) the bbolt file at path. It waits up to 2 s
// for another process that holds the file.
func OpenBolt(path string, opts Options) (*Bolt, error) {
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("catalog: %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketRecordings)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("catalog: %s: %w", path, err)
	}
	b := &Bolt{db: db, opts: opts, boot: time.Now().Truncate(time.Microsecond), events: map[string][]Event{}, nodes: map[string]Node{}}
	b.hub = newHub(b.fetch, opts.logger())
	return b, nil
}

// check returns ctx's error, or ErrClosed.
func (b *Bolt) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	return nil
}

// Put implements Catalog.
func (b *Bolt) Put(ctx context.Context, r Recording) error {
	if r.ID == "" {
		return ErrBadID
	}
	if err := b.check(ctx); err != nil {
		return err
	}
	normalize(&r)
	return b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketRecordings)
		var old Recording
		if v := bk.Get([]byte(r.ID)); v != nil && json.Unmarshal(v, &old) == nil {
			r.Owner, r.Claimed, r.Deleting = old.Owner, old.Claimed, old.Deleting
		} else {
			r.Claimed, r.Deleting = time.Now().Round(time.Microsecond), false
			if r.Owner == "" {
				r.Owner = b.opts.Node
			}
		}
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return bk.Put([]byte(r.ID), data)
	})
}

// Get implements Catalog.
func (b *Bolt) Get(ctx context.Context, id string) (Recording, error) {
	if err := b.check(ctx); err != nil {
		return Recording{}, err
	}
	var r Recording
	err := b.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRecordings).Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("catalog: recording %s: %w", id, err)
		}
		return nil
	})
	return r, err
}

// update changes row id with change in one transaction; change returns
// an error to leave the row as it was.
func (b *Bolt) update(ctx context.Context, id string, change func(r *Recording) error) (Recording, error) {
	if id == "" {
		return Recording{}, ErrBadID
	}
	if err := b.check(ctx); err != nil {
		return Recording{}, err
	}
	var r Recording
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketRecordings)
		v := bk.Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("catalog: recording %s: %w", id, err)
		}
		if err := change(&r); err != nil {
			return err
		}
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return bk.Put([]byte(id), data)
	})
	if err != nil {
		return Recording{}, err
	}
	return r, nil
}

// BeginDelete implements Catalog.
func (b *Bolt) BeginDelete(ctx context.Context, id string, force bool) (Recording, error) {
	return b.update(ctx, id, func(r *Recording) error {
		if !r.Finished || r.Deleting || (r.Keep && !force) {
			return ErrConflict
		}
		r.Deleting = true
		return nil
	})
}

// SetKeep implements Catalog.
func (b *Bolt) SetKeep(ctx context.Context, id string, keep bool) (Recording, error) {
	return b.update(ctx, id, func(r *Recording) error {
		if r.Deleting {
			return ErrConflict
		}
		r.Keep = keep
		return nil
	})
}

// Delete implements Catalog.
func (b *Bolt) Delete(ctx context.Context, id string) error {
	if err := b.check(ctx); err != nil {
		return err
	}
	b.mu.Lock()
	delete(b.events, id)
	b.mu.Unlock()
	return b.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRecordings).Delete([]byte(id))
	})
}

// List implements Catalog. Entries that do not decode, or whose id is not
// their key, are skipped (as server/catalog.go did).
func (b *Bolt) List(ctx context.Context) ([]Recording, error) {
	if err := b.check(ctx); err != nil {
		return nil, err
	}
	out, err := b.all()
	sortNewestFirst(out)
	return out, err
}

func (b *Bolt) all() ([]Recording, error) {
	var out []Recording
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRecordings).ForEach(func(k, v []byte) error {
			var r Recording
			if json.Unmarshal(v, &r) == nil && r.ID == string(k) {
				out = append(out, r)
			}
			return nil
		})
	})
	return out, err
}

// sortNewestFirst sorts by Created, newest first, then by ID (descending).
func sortNewestFirst(rs []Recording) {
	slices.SortStableFunc(rs, func(a, b Recording) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
}

// Publish implements Catalog.
func (b *Bolt) Publish(ctx context.Context, id, name string, data json.RawMessage) (Event, error) {
	if err := checkEvent(id, name, data); err != nil {
		return Event{}, err
	}
	if err := b.check(ctx); err != nil {
		return Event{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	evs := b.events[id]
	ev := Event{Recording: id, Seq: int64(len(evs)) + 1, Name: name, Data: slices.Clone(data), Time: time.Now()}
	b.events[id] = append(evs, ev)
	// Announced under b.mu, so concurrent publishes stay in Seq order.
	b.hub.announce(ev)
	return ev, nil
}

// fetch reads stored events for the hub.
func (b *Bolt) fetch(ctx context.Context, id string, from int64) ([]Event, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	evs := b.events[id]
	from = max(from, 1)
	if from > int64(len(evs)) {
		return nil, nil
	}
	return slices.Clone(evs[from-1:]), nil
}

// Subscribe implements Catalog.
func (b *Bolt) Subscribe(ctx context.Context, id string, after int64) (<-chan Event, func()) {
	return b.hub.subscribe(ctx, id, after)
}

// Heartbeat implements Catalog.
func (b *Bolt) Heartbeat(ctx context.Context, n Node) error {
	if n.ID == "" {
		return ErrBadID
	}
	if err := b.check(ctx); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	n.Heartbeat = time.Now()
	b.nodes[n.ID] = n
	return nil
}

// Leave implements Catalog.
func (b *Bolt) Leave(ctx context.Context, id string) error {
	if err := b.check(ctx); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.nodes, id)
	return nil
}

// Nodes implements Catalog.
func (b *Bolt) Nodes(ctx context.Context) ([]Node, error) {
	if err := b.check(ctx); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Node
	for _, n := range b.nodes {
		if b.alive(n.ID, b.opts.staleAfter()) {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b Node) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// alive reports whether node id sent a heartbeat within stale. b.mu is
// held.
func (b *Bolt) alive(id string, stale time.Duration) bool {
	n, ok := b.nodes[id]
	return ok && time.Since(n.Heartbeat) < stale
}

// ClaimOrphans implements Catalog.
func (b *Bolt) ClaimOrphans(ctx context.Context, me string, staleAfter time.Duration) ([]Recording, error) {
	if me == "" {
		return nil, ErrBadID
	}
	if err := b.check(ctx); err != nil {
		return nil, err
	}
	if staleAfter <= 0 {
		staleAfter = b.opts.staleAfter()
	}
	// b.mu is held across the transaction: claims do not interleave.
	b.mu.Lock()
	defer b.mu.Unlock()
	n, ok := b.nodes[me]
	if !ok {
		return nil, ErrNoHeartbeat
	}
	n.Heartbeat = time.Now()
	b.nodes[me] = n
	var claimed []Recording
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketRecordings)
		var todo []Recording
		err := bk.ForEach(func(k, v []byte) error {
			var r Recording
			if json.Unmarshal(v, &r) != nil || r.ID != string(k) || r.Finished {
				return nil
			}
			if (r.Owner == me && r.Claimed.Before(b.boot)) || (r.Owner != me && !b.alive(r.Owner, staleAfter)) {
				todo = append(todo, r)
			}
			return nil
		})
		if err != nil {
			return err
		}
		now := time.Now().Round(time.Microsecond)
		for _, r := range todo {
			r.Owner, r.Claimed = me, now
			data, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := bk.Put([]byte(r.ID), data); err != nil {
				return err
			}
			claimed = append(claimed, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sortNewestFirst(claimed)
	return claimed, nil
}

// Close implements Catalog.
func (b *Bolt) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	b.closed = true
	b.mu.Unlock()
	b.hub.close()
	return b.db.Close()
}
