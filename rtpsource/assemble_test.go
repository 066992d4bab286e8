package rtpsource

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// events is an assemblyOutput that writes down what it is told.
type events struct {
	got []string
	err error
	a   *assembler
}

func (e *events) assembled(w *reorderWindow, first, last, _ int64) {
	data, err := e.a.depacketize(w, first, last, nil)
	if err != nil {
		e.err = err
	}
	e.got = append(e.got, fmt.Sprintf("frame %d-%d %v", first, last, data))
}
func (e *events) lost(n int, span bool) {
	s := fmt.Sprintf("lost %d", n)
	if span {
		s += " span"
	}
	e.got = append(e.got, s)
}
func (e *events) lostPacket(p packet) { e.got = append(e.got, fmt.Sprintf("lostPacket ts %d", p.ts)) }
func (e *events) dropped()            { e.got = append(e.got, "dropped") }

// rp is a test packet: sequence number, RTP timestamp, marker, first
// packet of its frame (VP8 S bit), padding, and arrival in milliseconds.
type rp struct {
	seq    int64
	ts     int64
	m, s   bool
	pad    bool
	arrive int
}

// vp8Payload is a VP8 payload descriptor without extensions (S bit if
// start) and one byte of data: the sequence number.
func vp8Payload(p rp) []byte {
	if p.pad {
		return nil
	}
	d := byte(0)
	if p.s {
		d = 0x10
	}
	return []byte{d, byte(p.seq)}
}

func TestAssemble(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ck     codecKind
		pkts   []rp
		force  bool
		latest int // newest arrival (ms) noted after the packets, if later
		want   []string
		next   int64 // w.next afterwards
	}{
		{
			name: "VP8 frames ended by the marker",
			ck:   codecVP8,
			pkts: []rp{{seq: 0, ts: 0, s: true}, {seq: 1, ts: 0, m: true}, {seq: 2, ts: 3000, s: true, m: true, arrive: 200}},
			want: []string{"frame 0-1 [0 1]", "frame 2-2 [2]"},
			next: 3,
		},
		{
			name: "VP8 frame ended by a new timestamp (no marker)",
			ck:   codecVP8,
			pkts: []rp{{seq: 0, ts: 0, s: true}, {seq: 1, ts: 0}, {seq: 2, ts: 3000, s: true, arrive: 200}},
			want: []string{"frame 0-1 [0 1]"},
			next: 2,
		},
		{
			name: "reordered within the window",
			ck:   codecVP8,
			pkts: []rp{{seq: 1, ts: 0, m: true}, {seq: 0, ts: 0, s: true, arrive: 10}, {seq: 2, ts: 3000, s: true, m: true, arrive: 20}},
			// Nothing is taken before the first packet has waited the
			// window: packets sent before it may still come.
			want: nil,
			next: 0,
		},
		{
			name:  "reordered, flushed",
			ck:    codecVP8,
			pkts:  []rp{{seq: 1, ts: 0, m: true}, {seq: 0, ts: 0, s: true, arrive: 10}, {seq: 2, ts: 3000, s: true, m: true, arrive: 20}},
			force: true,
			want:  []string{"frame 0-1 [0 1]", "frame 2-2 [2]"},
			next:  3,
		},
		{
			name: "hole inside a frame: the frame is lost, the next one taken",
			ck:   codecVP8,
			pkts: []rp{{seq: 0, ts: 0, s: true}, {seq: 2, ts: 0, m: true}, {seq: 3, ts: 3000, s: true, m: true, arrive: 200}},
			want: []string{"lost 0", "lostPacket ts 0", "dropped", "lost 1", "lostPacket ts 0", "frame 3-3 [3]"},
			next: 4,
		},
		{
			name: "hole between frames of different timestamps: may hide frames",
			ck:   codecVP8,
			pkts: []rp{{seq: 0, ts: 0, s: true, m: true}, {seq: 3, ts: 6000, s: true, m: true, arrive: 200}},
			// The hole expires once the packet after it has waited.
			latest: 350,
			want:   []string{"frame 0-0 [0]", "lost 2 span", "frame 3-3 [3]"},
			next:   4,
		},
		{
			name: "frame start lost: the rest of that frame is skipped",
			ck:   codecVP8,
			pkts: []rp{{seq: 0, ts: 0, s: true, m: true}, {seq: 2, ts: 3000, m: true}, {seq: 3, ts: 6000, s: true, m: true, arrive: 200}},
			want: []string{"frame 0-0 [0]", "lost 1 span", "lostPacket ts 3000", "frame 3-3 [3]"},
			next: 4,
		},
		{
			name: "a frame without its end, packets after the hole: lost up to the next frame",
			ck:   codecVP8,
			pkts: []rp{{seq: 0, ts: 0, s: true, m: true}, {seq: 1, ts: 3000, s: true, arrive: 10}, {seq: 5, ts: 9000, s: true, m: true, arrive: 500}},
			want: []string{"frame 0-0 [0]", "lost 0", "lostPacket ts 3000", "dropped", "lost 3 span", "frame 5-5 [5]"},
			next: 6,
		},
		{
			name: "the end of a frame not yet sent is late, not lost",
			ck:   codecVP8,
			pkts: []rp{{seq: 0, ts: 0, s: true, m: true}, {seq: 1, ts: 3000, s: true, arrive: 10}, {seq: 2, ts: 3000, arrive: 500}},
			want: []string{"frame 0-0 [0]"},
			next: 1,
		},
		{
			name:  "flush: the frame without its end is lost",
			ck:    codecVP8,
			pkts:  []rp{{seq: 0, ts: 0, s: true, m: true}, {seq: 1, ts: 3000, s: true}},
			force: true,
			want:  []string{"frame 0-0 [0]", "lost 0", "lostPacket ts 3000", "dropped"},
			next:  2,
		},
		{
			name: "the stream starts in the middle of a frame",
			ck:   codecVP8,
			pkts: []rp{{seq: 0, ts: 0}, {seq: 1, ts: 0, m: true}, {seq: 2, ts: 3000, s: true, m: true, arrive: 200}},
			want: []string{"lostPacket ts 0", "lostPacket ts 0", "frame 2-2 [2]"},
			next: 3,
		},
		{
			name: "padding between frames is skipped, padding inside belongs to the frame",
			ck:   codecVP8,
			pkts: []rp{{seq: 0, ts: 0, s: true}, {seq: 1, ts: 0, pad: true}, {seq: 2, ts: 0, m: true}, {seq: 3, ts: 0, pad: true}, {seq: 4, ts: 3000, s: true, m: true, arrive: 200}},
			want: []string{"frame 0-2 [0 2]", "frame 4-4 [4]"},
			next: 5,
		},
		{
			name: "Opus: one packet per frame, no marker needed",
			ck:   codecOpus,
			pkts: []rp{{seq: 0, ts: 0}, {seq: 1, ts: 960}, {seq: 3, ts: 2880}, {seq: 4, ts: 3840, arrive: 200}},
			want: []string{"frame 0-0 [0 0]", "frame 1-1 [0 1]", "lost 1 span", "frame 3-3 [0 3]", "frame 4-4 [0 4]"},
			next: 5,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newReorderWindow(150 * time.Millisecond)
			a := &assembler{ck: tc.ck}
			out := &events{a: a}
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i, p := range tc.pkts {
				if i == 0 {
					w.restart(uint16(p.seq))
					a.restart()
				}
				at := t0.Add(time.Duration(p.arrive) * time.Millisecond)
				w.arrived(at)
				w.insert(p.seq, packet{ts: p.ts, marker: p.m, arrival: at, pad: p.pad}, vp8Payload(p))
			}
			w.arrived(t0.Add(time.Duration(tc.latest) * time.Millisecond))
			a.run(&w, tc.force, out)
			if out.err != nil {
				t.Errorf("depacketize: %v", out.err)
			}
			if !slices.Equal(out.got, tc.want) {
				t.Errorf("events:\n got %q\nwant %q", out.got, tc.want)
			}
			if w.next != tc.next {
				t.Errorf("next %d, want %d", w.next, tc.next)
			}
		})
	}
}

// TestAssembleLate: once a frame was taken, a packet of its place is too
// late, and the frames after it go on.
func TestAssembleLate(t *testing.T) {
	w := newReorderWindow(150 * time.Millisecond)
	a := &assembler{ck: codecVP8}
	out := &events{a: a}
	t0 := time.Now()
	w.restart(10)
	a.restart()
	w.arrived(t0.Add(time.Second))
	w.insert(10, packet{ts: 0, marker: true, arrival: t0}, []byte{0x10, 10})
	a.run(&w, false, out)
	if w.insert(9, packet{ts: 0, marker: true, arrival: t0}, []byte{0x10, 9}) {
		t.Error("a packet before the taken frame was kept")
	}
	w.insert(11, packet{ts: 3000, marker: true, arrival: t0.Add(time.Second)}, []byte{0x10, 11})
	a.run(&w, false, out)
	if want := []string{"frame 10-10 [10]", "frame 11-11 [11]"}; !slices.Equal(out.got, want) {
		t.Errorf("events %q, want %q", out.got, want)
	}
}

// TestFrameStart checks where each codec's frames start.
func TestFrameStart(t *testing.T) {
	for _, tc := range []struct {
		ck      codecKind
		payload []byte
		want    bool
	}{
		{codecOpus, []byte{0xfc}, true},
		{codecOpus, nil, false},
		{codecVP8, []byte{0x10, 0}, true},
		{codecVP8, []byte{0x00, 0}, false},
		{codecVP9, []byte{0x08, 0}, true},  // B
		{codecVP9, []byte{0x00, 0}, false}, // not B
		{codecAV1, []byte{0x10}, true},     // Z = 0
		{codecAV1, []byte{0x90}, false},    // Z = 1
		{codecH264, []byte{0x65, 0}, true}, // IDR slice
		{codecH264, []byte{0x7c, 0x05}, false},
		{codecH264, []byte{0x7c, 0x85}, true}, // FU-A start
	} {
		if got := tc.ck.frameStart(tc.payload); got != tc.want {
			t.Errorf("codec %d: frameStart(%x) = %v, want %v", tc.ck, tc.payload, got, tc.want)
		}
	}
}
