package catalog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// fetchFunc reads the stored events of recording id with Seq >= from, in
// order; it may return only the first of them (a page).
type fetchFunc func(ctx context.Context, id string, from int64) ([]Event, error)

// maxQueue is how many undelivered events a subscriber holds in memory;
// past that they are dropped and re-read from the store.
const maxQueue = 1024

// hub fans announced events out to the subscribers of this process. Each
// subscriber has a goroutine that delivers events in Seq order, each once:
// what the announcements miss (a gap in Seq, an announcement without data,
// a lost connection, an overflowing queue) it reads back with fetch.
type hub struct {
	fetch fetchFunc
	log   *slog.Logger

	mu     sync.Mutex
	subs   map[string]map[*sub]struct{}
	closed bool
	done   chan struct{} // closed by close
	wg     sync.WaitGroup
}

// sub is one subscription.
type sub struct {
	id   string
	wake chan struct{} // capacity 1: something was queued

	mu    sync.Mutex
	queue []Event // announced events; Name == "" means "read it back"
	gap   bool    // read back everything from next on
}

func newHub(fetch fetchFunc, log *slog.Logger) *hub {
	return &hub{fetch: fetch, log: log, subs: map[string]map[*sub]struct{}{}, done: make(chan struct{})}
}

// subscribe implements Catalog.Subscribe.
func (h *hub) subscribe(ctx context.Context, id string, after int64) (<-chan Event, func()) {
	out := make(chan Event, 16)
	ctx, cancel := context.WithCancel(ctx)
	s := &sub{id: id, wake: make(chan struct{}, 1), gap: true}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		cancel()
		close(out)
		return out, func() {}
	}
	if h.subs[id] == nil {
		h.subs[id] = map[*sub]struct{}{}
	}
	h.subs[id][s] = struct{}{}
	h.wg.Add(1)
	h.mu.Unlock()
	go func() {
		defer h.wg.Done()
		defer close(out)
		defer h.remove(s)
		defer cancel()
		h.run(ctx, s, out, max(after, 0)+1)
	}()
	return out, cancel
}

func (h *hub) remove(s *sub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs[s.id], s)
	if len(h.subs[s.id]) == 0 {
		delete(h.subs, s.id)
	}
}

// announce queues ev for the subscribers of its recording. It never
// blocks. An ev without a Name asks them to read it back.
func (h *hub) announce(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[ev.Recording] {
		s.mu.Lock()
		if len(s.queue) >= maxQueue {
			s.queue, s.gap = nil, true
		} else {
			s.queue = append(s.queue, ev)
		}
		s.mu.Unlock()
		s.poke()
	}
}

// resync makes every subscriber read back what it may have missed (after
// the announcements were interrupted).
func (h *hub) resync() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ss := range h.subs {
		for s := range ss {
			s.mu.Lock()
			s.gap = true
			s.mu.Unlock()
			s.poke()
		}
	}
}

func (s *sub) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// close ends every subscription and waits for their goroutines.
func (h *hub) close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// run is a subscriber's goroutine: it delivers events from Seq next on.
func (h *hub) run(ctx context.Context, s *sub, out chan<- Event, next int64) {
	for {
		s.mu.Lock()
		queue, gap := s.queue, s.gap
		s.queue, s.gap = nil, false
		s.mu.Unlock()
		if gap && !h.readBack(ctx, s.id, &next, out) {
			return
		}
		for _, ev := range queue {
			switch {
			case ev.Seq < next:
				// Already delivered.
			case ev.Seq == next && ev.Name != "":
				if !h.send(ctx, out, ev) {
					return
				}
				next++
			default:
				// A gap, or an announcement without the data.
				if !h.readBack(ctx, s.id, &next, out) {
					return
				}
			}
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return
		case <-h.done:
			return
		}
	}
}

// readBack delivers the stored events from *next on, retrying while the
// store fails. It returns false when the subscription ends.
func (h *hub) readBack(ctx context.Context, id string, next *int64, out chan<- Event) bool {
	backoff := 50 * time.Millisecond
	for {
		evs, err := h.fetch(ctx, id, *next)
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			h.log.Warn("catalog: reading events failed; retrying", "recording", id, "err", err)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return false
			case <-h.done:
				return false
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		for _, ev := range evs {
			if ev.Seq < *next {
				continue
			}
			if !h.send(ctx, out, ev) {
				return false
			}
			*next = ev.Seq + 1
		}
		if len(evs) < fetchPage {
			return true
		}
	}
}

// fetchPage is the most events one fetch returns.
const fetchPage = 500

func (h *hub) send(ctx context.Context, out chan<- Event, ev Event) bool {
	select {
	case out <- ev:
		return true
	case <-ctx.Done():
		return false
	case <-h.done:
		return false
	}
}
