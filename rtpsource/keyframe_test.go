package rtpsource

import (
	"slices"
	"testing"
	"time"
)

// TestKeyGate runs a gate through steps: w = wait (a loss), f = a frame
// (F = a key frame) whose pass result is recorded, and a number = a
// request check after packets arrived at that millisecond, recorded as
// whether a request was due.
func TestKeyGate(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		op string // "w", "f", "F", "due"
		ms int    // for "due"
	}
	for _, tc := range []struct {
		name   string
		video  bool
		canAsk bool
		steps  []step
		want   []bool // results of the f, F and due steps, in order
	}{
		{"video starts closed, opens at a key frame", true, true,
			[]step{{"f", 0}, {"F", 0}, {"f", 0}},
			[]bool{false, true, true}},
		{"audio is always open", false, true,
			[]step{{"f", 0}, {"w", 0}, {"f", 0}, {"due", 0}},
			[]bool{true, true, false}},
		{"a loss closes it and asks once", true, true,
			[]step{{"F", 0}, {"w", 0}, {"due", 10}, {"due", 20}, {"f", 0}, {"F", 0}},
			[]bool{true, true, false, false, true}},
		{"requests are paced by arrival time", true, true,
			[]step{{"F", 0}, {"w", 0}, {"due", 0}, {"f", 0}, {"due", 50}, {"due", 149}, {"due", 150}, {"due", 400}},
			// The request held back at 50 ms stays due until 150 ms.
			[]bool{true, true, false, false, false, true, false}},
		{"a request due when the key frame came is dropped", true, true,
			[]step{{"F", 0}, {"w", 0}, {"due", 0}, {"w", 0}, {"F", 0}, {"due", 500}},
			[]bool{true, true, true, false}},
		{"nobody to ask", true, false,
			[]step{{"F", 0}, {"w", 0}, {"due", 0}, {"due", 500}},
			[]bool{true, false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newKeyGate(tc.video, 150*time.Millisecond)
			var got []bool
			for _, s := range tc.steps {
				switch s.op {
				case "w":
					g.wait()
				case "f", "F":
					got = append(got, g.pass(s.op == "F"))
				case "due":
					got = append(got, g.due(t0.Add(time.Duration(s.ms)*time.Millisecond), tc.canAsk))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if g := newKeyGate(true, 20*time.Millisecond); g.interval != minKeyInterval {
		t.Errorf("interval %v with a 20 ms window, want %v", g.interval, minKeyInterval)
	}
}
