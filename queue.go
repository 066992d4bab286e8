package mediarecorder

import (
	"sync"
	"time"
)

// Bounds of a recorder's buffer for one track. A consumer that falls this
// far behind loses samples up to the next key frame, never the producer's
// time.
const (
	queueMaxSamples = 4096
	queueMaxBytes   = 64 << 20
)

// queued is one buffered sample. Its data slice is owned by the queue slot
// and reused.
type queued struct {
	data     []byte
	ts, dur  time.Duration
	key      bool
	epoch    uint64
	seq      uint64        // arrival order within the recording
	arrived  time.Duration // Now() when it was queued
	occupied bool
}

// sampleQueue is a bounded FIFO of samples, one per recorded track. The
// producer side never blocks.
type sampleQueue struct {
	mu       sync.Mutex
	slots    []queued
	head, n  int
	bytes    int
	dropping bool // full: drop until the next key frame
	dropped  uint64
	waiters  chan struct{} // closed when room frees up; nil when nobody waits
}

// roomLow and roomBytes are the fill levels below which a waiting
// producer (WaitRoom: a file played faster than real time) may go on: the
// samples in flight stay few, and hot in the cache.
const (
	roomLow   = 256
	roomBytes = 1 << 20
)

// waitRoom blocks while the queue holds roomLow samples or more, or until
// done is closed.
func (q *sampleQueue) waitRoom(done <-chan struct{}) {
	for {
		q.mu.Lock()
		if q.n < roomLow && q.bytes < roomBytes {
			q.mu.Unlock()
			return
		}
		if q.waiters == nil {
			q.waiters = make(chan struct{})
		}
		w := q.waiters
		q.mu.Unlock()
		select {
		case <-w:
		case <-done:
			return
		}
	}
}

func newSampleQueue() *sampleQueue {
	return &sampleQueue{slots: make([]queued, 16)}
}

// push copies s into the queue. It reports false when s was dropped, and
// how many samples the queue holds now (at 1 the consumer may be asleep).
func (q *sampleQueue) push(s TimedSample, epoch, seq uint64, now time.Duration) (ok bool, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.dropping && !s.KeyFrame {
		q.dropped++
		return false, q.n
	}
	if q.n >= queueMaxSamples || q.bytes+len(s.Data) > queueMaxBytes {
		q.dropping = true
		q.dropped++
		return false, q.n
	}
	q.dropping = false
	if q.n == len(q.slots) {
		grown := make([]queued, 2*len(q.slots))
		for i := 0; i < q.n; i++ {
			grown[i] = q.slots[(q.head+i)%len(q.slots)]
		}
		// Keep the spare slots' buffers for reuse.
		for i := q.n; i < len(q.slots); i++ {
			grown[i] = q.slots[(q.head+i)%len(q.slots)]
		}
		q.slots, q.head = grown, 0
	}
	e := &q.slots[(q.head+q.n)%len(q.slots)]
	e.data = append(e.data[:0], s.Data...)
	e.ts, e.dur, e.key, e.epoch, e.seq, e.arrived, e.occupied = s.Timestamp, s.Duration, s.KeyFrame, epoch, seq, now, true
	q.n++
	q.bytes += len(s.Data)
	return true, q.n
}

// peek returns the oldest sample without removing it. The entry stays
// valid until pop.
func (q *sampleQueue) peek() (*queued, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return nil, false
	}
	return &q.slots[q.head], true
}

// newest returns the number of queued samples and the newest one's
// timestamp (ok false when empty).
func (q *sampleQueue) newest() (n int, ts time.Duration, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return 0, 0, false
	}
	return q.n, q.slots[(q.head+q.n-1)%len(q.slots)].ts, true
}

// last returns the newest sample's timestamp.
func (q *sampleQueue) last() (time.Duration, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return 0, false
	}
	return q.slots[(q.head+q.n-1)%len(q.slots)].ts, true
}

// pop removes the oldest sample (after peek).
func (q *sampleQueue) pop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return
	}
	e := &q.slots[q.head]
	q.bytes -= len(e.data)
	e.occupied = false
	if cap(e.data) > 1<<20 {
		e.data = nil // do not pin huge buffers
	}
	q.head = (q.head + 1) % len(q.slots)
	q.n--
	if q.waiters != nil && q.n < roomLow/2 && q.bytes < roomBytes/2 {
		close(q.waiters)
		q.waiters = nil
	}
}

// len returns the number of queued samples and bytes.
func (q *sampleQueue) size() (n, bytes int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n, q.bytes
}

// takeDropped returns and resets the drop counter.
func (q *sampleQueue) takeDropped() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	d := q.dropped
	q.dropped = 0
	return d
}
