package rtpsource

import (
	"slices"
	"testing"
	"time"
)

func TestReorderUnwrap(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start uint16
		seqs  []uint16
		want  []int64
		high  []bool
	}{
		{"in order", 10, []uint16{10, 11, 12}, []int64{10, 11, 12}, []bool{false, true, true}},
		{"reordered", 10, []uint16{12, 11, 13}, []int64{12, 11, 13}, []bool{true, false, true}},
		{"over the wrap", 65534, []uint16{65534, 65535, 0, 1}, []int64{65534, 65535, 65536, 65537}, []bool{false, true, true, true}},
		{"reordered over the wrap", 65535, []uint16{1, 65535, 0}, []int64{65537, 65535, 65536}, []bool{true, false, false}},
		{"before the start, over the wrap", 0, []uint16{65535, 0}, []int64{-1, 0}, []bool{false, false}},
		{"a jump of half the range is ahead", 0, []uint16{32767, 0}, []int64{32767, 0}, []bool{true, false}},
		{"a jump of more is behind", 0, []uint16{32768}, []int64{-32768}, []bool{false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newReorderWindow(time.Second)
			w.restart(tc.start)
			var got []int64
			var high []bool
			for _, s := range tc.seqs {
				u, h := w.unwrap(s)
				got, high = append(got, u), append(high, h)
			}
			if !slices.Equal(got, tc.want) || !slices.Equal(high, tc.high) {
				t.Errorf("unwrapped %v (highest %v), want %v (%v)", got, high, tc.want, tc.high)
			}
		})
	}
}

// TestReorderInsert: what the window keeps, and where it starts taking.
func TestReorderInsert(t *testing.T) {
	type ins struct {
		seq  int64
		keep bool
	}
	for _, tc := range []struct {
		name     string
		start    uint16
		released bool // a packet was taken before the inserts
		ins      []ins
		next     int64
	}{
		{"in order", 100, false, []ins{{100, true}, {101, true}}, 100},
		{"duplicate", 100, false, []ins{{100, true}, {101, true}, {100, false}, {101, false}}, 100},
		{"earlier than the first, nothing taken: starts there", 100, false, []ins{{100, true}, {98, true}, {99, true}}, 98},
		{"earlier than next after a take: too late", 100, true, []ins{{100, true}, {99, false}}, 100},
		{"more than maxBuffered before: too late", 5000, false, []ins{{5000, true}, {5000 - maxBuffered - 1, false}, {5000 - maxBuffered, true}}, 5000 - maxBuffered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newReorderWindow(time.Second)
			w.restart(tc.start)
			w.released = tc.released
			for _, in := range tc.ins {
				if got := w.insert(in.seq, packet{ts: in.seq}, []byte{byte(in.seq)}); got != in.keep {
					t.Errorf("insert(%d) = %v, want %v", in.seq, got, in.keep)
				}
			}
			if w.next != tc.next {
				t.Errorf("next %d, want %d", w.next, tc.next)
			}
			for _, in := range tc.ins {
				p, ok := w.get(in.seq)
				if in.keep && (!ok || !slices.Equal(p.payload, []byte{byte(in.seq)})) {
					t.Errorf("packet %d: %v %v", in.seq, p, ok)
				}
			}
		})
	}
}

// TestReorderExpired: a hole expires when a packet held has waited the
// window in arrival time (the newest arrival, not the wall clock), or the
// buffer is full.
func TestReorderExpired(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	for _, tc := range []struct {
		name     string
		arrivals []time.Time // of packets 1, 2, ... (packet 0 missing)
		latest   time.Time   // newest arrival noted without a packet (zero: none)
		want     bool
	}{
		{"empty", nil, time.Time{}, false},
		{"fresh", []time.Time{ms(0)}, time.Time{}, false},
		{"waited less than the window", []time.Time{ms(0), ms(149)}, time.Time{}, false},
		{"waited the window", []time.Time{ms(0), ms(150)}, time.Time{}, true},
		{"the newest arrival counts, not the last packet's", []time.Time{ms(0)}, ms(200), true},
		{"an older arrival does not move the clock back", []time.Time{ms(200), ms(0)}, time.Time{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newReorderWindow(150 * time.Millisecond)
			w.restart(0)
			for i, at := range tc.arrivals {
				w.arrived(at)
				w.insert(int64(i+1), packet{arrival: at}, []byte{1})
			}
			if !tc.latest.IsZero() {
				w.arrived(tc.latest)
			}
			if got := w.expired(); got != tc.want {
				t.Errorf("expired = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("full", func(t *testing.T) {
		w := newReorderWindow(time.Hour)
		w.restart(0)
		w.arrived(t0)
		for s := int64(1); s <= maxBuffered; s++ {
			if w.full() || w.expired() {
				t.Fatalf("full after %d packets", s-1)
			}
			w.insert(s, packet{arrival: t0}, []byte{1})
		}
		if !w.full() || !w.expired() {
			t.Errorf("not full after %d packets", maxBuffered)
		}
	})
}

func TestReorderFirstAfter(t *testing.T) {
	w := newReorderWindow(time.Second)
	w.restart(0)
	for _, s := range []int64{3, 9, 5} {
		w.insert(s, packet{}, []byte{1})
	}
	for _, tc := range []struct{ after, want int64 }{{0, 3}, {3, 5}, {4, 5}, {5, 9}, {9, -1}} {
		if got := w.firstAfter(tc.after); got != tc.want {
			t.Errorf("firstAfter(%d) = %d, want %d", tc.after, got, tc.want)
		}
	}
}

// TestReorderBuffers: dropped packets' payload buffers are reused (up to
// maxFree), padding takes none, and a payload is a copy.
func TestReorderBuffers(t *testing.T) {
	w := newReorderWindow(time.Second)
	w.restart(0)
	src := []byte{1, 2, 3}
	w.insert(0, packet{}, src)
	src[0] = 9
	p, _ := w.get(0)
	if p.payload[0] != 1 {
		t.Fatal("payload not copied")
	}
	first := &p.payload[0]
	w.drop(0)
	w.insert(1, packet{pad: true}, nil)
	if len(w.free) != 1 {
		t.Fatalf("%d free buffers after a padding packet, want 1", len(w.free))
	}
	w.insert(2, packet{}, []byte{4, 5})
	p, _ = w.get(2)
	if &p.payload[0] != first {
		t.Error("the dropped packet's buffer was not reused")
	}
	for s := int64(3); s < 3+2*maxFree; s++ {
		w.insert(s, packet{}, []byte{1})
	}
	w.clear()
	if !w.empty() || len(w.free) != maxFree {
		t.Errorf("after clear: empty %v, %d free buffers, want %d", w.empty(), len(w.free), maxFree)
	}
}
