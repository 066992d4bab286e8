package rtpsource

import "time"

// maxBuffered bounds the packets held while waiting for a missing one.
const maxBuffered = 4096

// maxFree bounds the payload buffers kept for reuse.
const maxFree = 64

// packet is one buffered RTP packet.
type packet struct {
	ts      int64 // unwrapped RTP timestamp
	marker  bool
	payload []byte
	arrival time.Time
	pad     bool // padding only: fills its sequence number, carries nothing
}

// reorderWindow is the jitter buffer of one SSRC. It unwraps 16-bit
// sequence numbers to 64 bits, holds packets by sequence number until frame
// assembly takes them in order (from next on), drops duplicates and
// packets whose place was passed, and tells when a hole has waited long
// enough to be a loss: when a packet held has waited the window, in packet
// arrival time (the newest arrival seen, not the wall clock), or the buffer
// is full. Payloads are copied into buffers that are reused once their
// packet is dropped. Not safe for concurrent use (the Track's lock guards
// it).
type reorderWindow struct {
	window time.Duration // how long a hole may wait

	started  bool  // a sequence number was seen (restart)
	high     int64 // highest unwrapped sequence number seen
	next     int64 // next sequence number to take
	released bool  // a packet was taken: those before next are too late
	buf      map[int64]packet
	free     [][]byte  // payload buffers of packets gone, for reuse
	latest   time.Time // newest arrival time seen
}

// newReorderWindow returns an empty window that waits window for a hole.
func newReorderWindow(window time.Duration) reorderWindow {
	return reorderWindow{window: window, buf: make(map[int64]packet)}
}

// arrived notes a packet's arrival time: the window's clock.
func (w *reorderWindow) arrived(at time.Time) {
	if at.After(w.latest) || w.latest.IsZero() {
		w.latest = at
	}
}

// restart empties the window and starts it at sequence number seq (a new
// stream, which may start with packets sent before seq: they are taken
// until a packet was released).
func (w *reorderWindow) restart(seq uint16) {
	w.started = true
	w.high = int64(seq)
	w.next = w.high
	w.clear()
	w.released = false
}

// unwrap returns seq on the 64-bit sequence (the value nearest to the
// highest seen), and whether it is the new highest.
func (w *reorderWindow) unwrap(seq uint16) (int64, bool) {
	s := w.high + int64(int16(seq-uint16(w.high)))
	if s > w.high {
		w.high = s
		return s, true
	}
	return s, false
}

// insert buffers p at sequence number seq (unwrapped), copying payload,
// and reports whether it was kept: not a duplicate, and not too late (its
// place passed, or more than maxBuffered before the next one).
func (w *reorderWindow) insert(seq int64, p packet, payload []byte) bool {
	if seq < w.next {
		if w.released || w.next-seq > maxBuffered {
			return false // too late
		}
		// Nothing taken yet: the stream starts earlier than thought.
		w.next = seq
	}
	if _, dup := w.buf[seq]; dup {
		return false
	}
	if !p.pad {
		var b []byte
		if n := len(w.free); n > 0 {
			b, w.free = w.free[n-1], w.free[:n-1]
		}
		p.payload = append(b[:0], payload...)
	}
	w.buf[seq] = p
	return true
}

// get returns the packet at seq, if buffered.
func (w *reorderWindow) get(seq int64) (packet, bool) {
	p, ok := w.buf[seq]
	return p, ok
}

// drop removes packet seq from the buffer, keeping its payload buffer.
func (w *reorderWindow) drop(seq int64) {
	if p, ok := w.buf[seq]; ok {
		if p.payload != nil && len(w.free) < maxFree {
			w.free = append(w.free, p.payload[:0])
		}
		delete(w.buf, seq)
	}
}

// clear drops every packet.
func (w *reorderWindow) clear() {
	for k := range w.buf {
		w.drop(k)
	}
}

// empty reports whether no packet is buffered.
func (w *reorderWindow) empty() bool { return len(w.buf) == 0 }

// full reports whether the buffer holds maxBuffered packets.
func (w *reorderWindow) full() bool { return len(w.buf) >= maxBuffered }

// expired reports whether a buffered packet has waited the window or
// longer, or the buffer is full.
func (w *reorderWindow) expired() bool {
	if w.full() {
		return true
	}
	for _, p := range w.buf {
		if w.latest.Sub(p.arrival) >= w.window {
			return true
		}
	}
	return false
}

// firstAfter returns the lowest buffered sequence number above seq, or -1.
func (w *reorderWindow) firstAfter(seq int64) int64 {
	first := int64(-1)
	for s := range w.buf {
		if s > seq && (first < 0 || s < first) {
			first = s
		}
	}
	return first
}
