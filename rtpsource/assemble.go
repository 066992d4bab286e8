package rtpsource

// assembler is frame assembly: it takes the packets of a reorderWindow in
// sequence order and cuts them into frames (one packet per frame for
// audio; video frames end at the marker bit, or where the timestamp
// changes), hands complete frames to its output, skips padding, and marks
// losses: a hole that has waited the jitter window breaks the frame it is
// in, and the packets up to the next frame start are lost with it. What a
// loss costs (frames that may still be published) is decided by the
// output (loss.go). Not safe for concurrent use (the Track's lock guards
// it).
type assembler struct {
	ck codecKind

	resync   bool  // after a loss: skip to the next frame start
	badTS    int64 // timestamp of a frame broken by a loss
	hasBadTS bool
	consTS   int64 // timestamp of the last packet consumed in sequence order
	consSet  bool

	dp depacketizers // reset for each frame (kept here: no allocation)
}

// assemblyOutput receives what an assembler finds, in sequence order.
type assemblyOutput interface {
	// assembled takes the complete frame in packets first..last of w, of
	// RTP timestamp ts; they are dropped when it returns.
	assembled(w *reorderWindow, first, last, ts int64)
	// lost tells of n packets (0: part of the frame being assembled)
	// missing before the next packet; span: the hole may hide whole
	// frames (it is not inside the frame of the packet before it).
	lost(n int, span bool)
	// lostPacket tells of p, a packet of a frame broken by a loss (about to
	// be dropped).
	lostPacket(p packet)
	// dropped tells of a frame given up as incomplete.
	dropped()
}

// restart starts a new stream: it may start in the middle of a frame.
func (a *assembler) restart() {
	a.resync = true
	a.hasBadTS = false
}

// consumed notes that the packets up to one of timestamp ts are consumed.
func (a *assembler) consumed(ts int64) { a.consTS, a.consSet = ts, true }

// run hands out the frames of w that are complete. A hole that has waited
// longer than the jitter window (or any hole, when force is set) is a
// loss.
func (a *assembler) run(w *reorderWindow, force bool, out assemblyOutput) {
	if !w.released && !force && !w.expired() {
		// Wait for packets sent before the first one to arrive.
		return
	}
	for !w.empty() {
		p, ok := w.get(w.next)
		// Padding between frames: no frame, no hole, no change of state.
		if ok && p.pad {
			a.consumed(p.ts)
			w.drop(w.next)
			w.next++
			continue
		}
		// Skip what belongs to a frame broken by a loss, up to a frame start.
		if ok && a.resync {
			if (a.hasBadTS && p.ts == a.badTS) || !a.ck.frameStart(p.payload) {
				out.lostPacket(p)
				a.consumed(p.ts)
				w.drop(w.next)
				w.next++
				continue
			}
			a.resync = false
			a.hasBadTS = false
		}
		end, complete := a.frameEnd(w, p, ok)
		if complete {
			w.released = true
			out.assembled(w, w.next, end, p.ts)
			a.consumed(p.ts)
			for s := w.next; s <= end; s++ {
				w.drop(s)
			}
			w.next = end + 1
			continue
		}
		// A hole at end+1 (or the frame's end has not arrived yet).
		if !force && !w.expired() {
			return
		}
		hole := end + 1
		nextSeq := w.firstAfter(hole)
		if nextSeq < 0 && !force && !w.full() {
			// Nothing after the hole has arrived: the rest of the frame
			// is late, not lost (a sender that stalled, a key frame
			// paced out over time). Wait for it or for what follows it.
			return
		}
		if end >= w.next {
			// The packets before the hole are an incomplete frame.
			a.badTS = p.ts
			a.hasBadTS = true
			a.consumed(a.badTS)
			out.lost(0, false) // the hole is inside this frame, so far
			for s := w.next; s <= end; s++ {
				q, _ := w.get(s)
				out.lostPacket(q)
				w.drop(s)
			}
			out.dropped()
			w.released = true
		}
		if nextSeq < 0 {
			// Nothing after the hole: keep waiting for it.
			w.next = hole
			a.resync = true
			return
		}
		after, _ := w.get(nextSeq)
		out.lost(int(nextSeq-hole), !a.consSet || after.ts != a.consTS)
		w.next = nextSeq
		a.resync = true
	}
}

// frameEnd finds the frame that starts at w.next with packet first (ok:
// present): it returns the sequence number of its last packet and true
// when the frame is complete, or the last sequence number present before
// a hole and false. Padding packets inside the frame's run belong to it
// (depacketize skips them).
func (a *assembler) frameEnd(w *reorderWindow, first packet, ok bool) (int64, bool) {
	if !ok {
		return w.next - 1, false
	}
	if a.ck.audio() {
		return w.next, true
	}
	p := first
	for s := w.next; ; s++ {
		if p.marker && !p.pad {
			return s, true
		}
		n, ok := w.get(s + 1)
		if !ok {
			return s, false
		}
		if !n.pad && n.ts != first.ts {
			// The sender set no marker bit; the timestamp change ends it.
			return s, true
		}
		p = n
	}
}

// depacketize appends to dst the frame in packets first..last of w (all
// present), depacketized.
func (a *assembler) depacketize(w *reorderWindow, first, last int64, dst []byte) ([]byte, error) {
	d := a.dp.fresh(a.ck)
	for s := first; s <= last; s++ {
		if p, _ := w.get(s); !p.pad {
			b, err := d.Unmarshal(p.payload)
			dst = append(dst, b...)
			if err != nil {
				return dst, err
			}
		}
	}
	return dst, nil
}
