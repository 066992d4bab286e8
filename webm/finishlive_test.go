package webm

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// markFile is a memFile that keeps the Writer's ClusterMarker calls.
type markFile struct {
	*memFile
	marks []ClusterMark
}

func (m *markFile) MarkCluster(ts int64, cue uint64) {
	m.marks = append(m.marks, ClusterMark{Offset: m.pos, Timestamp: ts, CueTrack: cue})
}

// FinishLive, given the head, the tail and the index of a live file, makes
// the very bytes Close makes at the same point, whatever the bytes
// between.
func TestFinishLive(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   Options
		frames []frame
	}{
		{"av", Options{Tracks: avOptions.Tracks, Seekable: true}, nil},
		{"audio", Options{Tracks: []TrackEntry{opusTrack}, Seekable: true, MaxClusterDuration: time.Second}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames := tc.frames
			if tc.name == "av" { // on whole ms: the Duration is the writer's to the ns
				var v, a []frame
				for i := range 500 {
					v = append(v, frame{1, time.Duration(i) * 40 * time.Millisecond, i%45 == 0, []byte{byte(i), 1, 2, 3}})
				}
				for i := range 1000 {
					a = append(a, frame{2, time.Duration(i) * 20 * time.Millisecond, true, []byte{0xFC, byte(i)}})
				}
				frames = interleave(v, a)
			}
			if tc.name == "audio" {
				for i := range 500 {
					frames = append(frames, frame{2, time.Duration(i) * 20 * time.Millisecond, true, bytes.Repeat([]byte{byte(i)}, 40)})
				}
			}
			m := &markFile{memFile: &memFile{}}
			w, err := NewWriter(m, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			writeFrames(t, w, frames)
			live := bytes.Clone(m.b)
			marks := append([]ClusterMark(nil), m.marks...)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			closed := m.b
			if len(marks) < 4 {
				t.Fatalf("%d Clusters", len(marks))
			}
			headLen := int(marks[1].Offset) + 7 // into the second Cluster
			tailOff := marks[len(marks)-2].Offset - 5
			// The bytes between as Close left them (a patched size).
			mid := closed[headLen:tailOff]
			// A mark past the end (the writer's next Cluster, not yet
			// written) is ignored.
			marks2 := append(marks, ClusterMark{Offset: int64(len(live)) + 3, Timestamp: 1 << 20, CueTrack: 1})
			h, tl, dur, err := FinishLive(live[:headLen], tailOff, live[tailOff:], marks2)
			if err != nil {
				t.Fatal(err)
			}
			got := append(append(append([]byte(nil), h...), mid...), tl...)
			if dur != w.Duration() {
				t.Errorf("duration %v, the writer's %v", dur, w.Duration())
			}
			if !bytes.Equal(got, closed) {
				t.Fatalf("finished file of %d bytes differs from Close's (%d bytes)", len(got), len(closed))
			}
			p, err := Probe(bytes.NewReader(got))
			if err != nil || !p.Seekable || !p.HasCues || !p.HasDuration || len(p.Problems) > 0 {
				t.Fatalf("probe: %+v, %v", p, err)
			}

			// Cut inside the last block: the Cluster ends before it.
			cutLive := live[:len(live)-1]
			h2, tl2, _, err := FinishLive(live[:headLen], tailOff, cutLive[tailOff:], marks)
			if err != nil {
				t.Fatal(err)
			}
			got2 := append(append(append([]byte(nil), h2...), mid...), tl2...)
			if p, err := Probe(bytes.NewReader(got2)); err != nil || !p.HasCues || len(p.Problems) > 0 || p.Truncated {
				t.Fatalf("probe of the cut file: %+v, %v", p, err)
			}

			// A wrong index, a finished head: refused.
			bad := append([]ClusterMark(nil), marks...)
			bad[len(bad)-1].Offset++
			if _, _, _, err := FinishLive(live[:headLen], tailOff, live[tailOff:], bad); !errors.Is(err, ErrNotLive) {
				t.Errorf("a wrong index: %v", err)
			}
			if _, _, _, err := FinishLive(closed[:headLen], tailOff, live[tailOff:], marks); !errors.Is(err, ErrNotLive) {
				t.Errorf("a finished head: %v", err)
			}
			if _, _, _, err := FinishLive(live[:headLen], tailOff, live[tailOff:], marks[1:]); !errors.Is(err, ErrNotLive) {
				t.Errorf("an index without the first Cluster: %v", err)
			}
		})
	}
}

// FuzzFinishLive: the head, tail and index come from a store: whatever
// they hold, FinishLive answers with an error or a file whose head keeps
// its length, never a panic.
func FuzzFinishLive(f *testing.F) {
	m := &markFile{memFile: &memFile{}}
	w, err := NewWriter(m, Options{Tracks: avOptions.Tracks, Seekable: true, MaxClusterDuration: 500 * time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	writeFrames(f, w, synthetic(3*time.Second, 15))
	live, marks := m.b, m.marks
	headLen := int(marks[1].Offset) + 3
	tailOff := marks[len(marks)-3].Offset - 2
	f.Add(live[:headLen], live[tailOff:], uint8(0))
	f.Add(live[:headLen], live[tailOff:len(live)-3], uint8(1))
	f.Fuzz(func(t *testing.T, head, tail []byte, drop uint8) {
		ms := marks
		if int(drop) < len(ms) {
			ms = append(append([]ClusterMark(nil), ms[:drop]...), ms[drop+1:]...)
		}
		h, _, _, err := FinishLive(head, tailOff, tail, ms)
		if err == nil && len(h) != len(head) {
			t.Fatalf("head of %d bytes, was %d", len(h), len(head))
		}
	})
}
