package mp4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

// markBuffer is a seekBuffer that keeps the Writer's FragmentMarker
// calls, with file offsets.
type markBuffer struct {
	seekBuffer
	marks []FragmentMark
}

func (m *markBuffer) MarkFragment(trafs []FragmentMark) {
	for _, t := range trafs {
		t.Offset += int64(m.pos)
		m.marks = append(m.marks, t)
	}
}

// liveAV writes 6 s of 30 fps video (a key frame every second) and Opus
// in fragments of at most 500 ms (some starting without a key frame),
// audio only when video is false; Flush, not Close.
func liveAV(t testing.TB, video bool) (*markBuffer, *Writer) {
	return liveAVSize(t, video, 6, 300)
}

// liveAVSize is liveAV for secs seconds, with video samples of size bytes.
func liveAVSize(t testing.TB, video bool, secs, size int) (*markBuffer, *Writer) {
	m := &markBuffer{}
	tracks := []Track{testVP9, testOpus}
	if !video {
		tracks = tracks[1:]
	}
	w, err := NewWriter(m, Options{Tracks: tracks, Seekable: true, MaxFragmentDuration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	nv, na := 30*secs, 50*secs+1
	for v, a := 0, 0; v < nv || a < na; {
		vts, ats := time.Duration(v)*time.Second/30, time.Duration(a)*20*time.Millisecond
		if video && v < nv && (a == na || vts <= ats) {
			err = w.WriteSample(1, vts, 0, v%30 == 0, bytes.Repeat([]byte{byte(v)}, size))
			v++
		} else {
			if !video {
				v = nv
			}
			err = w.WriteSample(2, ats, 20*time.Millisecond, true, bytes.Repeat([]byte{byte(a)}, size/8))
			a++
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return m, w
}

// thirdLast returns the offset of the third last fragment.
func thirdLast(marks []FragmentMark) int64 {
	n := 0
	for i := len(marks) - 1; i >= 0; i-- {
		if marks[i].First {
			if n++; n == 3 {
				return marks[i].Offset - moofToTraf
			}
		}
	}
	return 0
}

// FinishLive, given the head, the tail and the index of a live file, makes
// the very bytes Close makes at the same point, whatever the bytes
// between.
func TestFinishLive(t *testing.T) {
	for _, video := range []bool{true, false} {
		name := map[bool]string{true: "av", false: "audio"}[video]
		t.Run(name, func(t *testing.T) {
			m, w := liveAV(t, video)
			live := bytes.Clone(m.b)
			marks := append([]FragmentMark(nil), m.marks...)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			closed := m.b
			if len(marks) < 8 {
				t.Fatalf("%d marks", len(marks))
			}
			headLen := int(marks[2].Offset) + 7 // into a later fragment
			tailOff := thirdLast(marks) - 5
			mid := closed[headLen:tailOff]
			// Marks past the end (the writer's next fragment, not yet
			// written) are ignored.
			marks2 := append(marks, FragmentMark{Offset: int64(len(live)) + moofToTraf, Time: 1 << 30, Track: 2, First: true, Sync: true})
			h, tl, dur, err := FinishLive(live[:headLen], tailOff, live[tailOff:], marks2)
			if err != nil {
				t.Fatal(err)
			}
			if dur != w.Duration() {
				t.Errorf("duration %v, the writer's %v", dur, w.Duration())
			}
			got := append(append(append([]byte(nil), h...), mid...), tl...)
			if !bytes.Equal(got, closed) {
				for i := range got {
					if got[i] != closed[i] {
						t.Logf("first difference at %d (tail at %d, moov %d): % x vs % x", i, tailOff, headLen, got[max(i-16, 0):i+16], closed[max(i-16, 0):i+16])
						break
					}
				}
				t.Fatalf("finished file of %d bytes differs from Close's (%d bytes)", len(got), len(closed))
			}

			// A tail cut inside the last fragment: cut after the one
			// before, as Fix cuts the whole file.
			short := live[:len(live)-10]
			h, tl, _, err = FinishLive(short[:headLen], tailOff, short[tailOff:], marks)
			if err != nil {
				t.Fatal(err)
			}
			got = append(append(append([]byte(nil), h...), live[headLen:tailOff]...), tl...)
			var fixed seekBuffer
			if _, err := Fix(&fixed, bytes.NewReader(short), FixOptions{}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, fixed.b) {
				t.Fatalf("finished short file of %d bytes differs from Fix's (%d bytes)", len(got), len(fixed.b))
			}
		})
	}
}

// FinishLive refuses what it cannot finish with ErrNotLive.
func TestFinishLiveErrors(t *testing.T) {
	m, w := liveAV(t, true)
	live, marks := m.b, m.marks
	headLen := int(marks[2].Offset) + 7
	tailOff := thirdLast(marks) - 5
	moved := append([]FragmentMark(nil), marks...)
	moved[len(moved)-1].Time++
	for name, tc := range map[string]struct {
		head  []byte
		off   int64
		tail  []byte
		marks []FragmentMark
	}{
		"no index":         {live[:headLen], tailOff, live[tailOff:], nil},
		"not mp4":          {make([]byte, headLen), tailOff, live[tailOff:], marks},
		"wrong time":       {live[:headLen], tailOff, live[tailOff:], moved},
		"overlap":          {live[:headLen], int64(headLen - 1), live[headLen-1:], marks},
		"no whole in tail": {live[:headLen], tailOff, live[tailOff : tailOff+30], marks},
		"out of order":     {live[:headLen], tailOff, live[tailOff:], append(append([]FragmentMark(nil), marks[:3]...), marks[1])},
	} {
		if _, _, _, err := FinishLive(tc.head, tc.off, tc.tail, tc.marks); !errors.Is(err, ErrNotLive) {
			t.Errorf("%s: %v, want ErrNotLive", name, err)
		}
	}
	// A finished file is not live.
	w.Close()
	if _, _, _, err := FinishLive(m.b[:headLen], tailOff, m.b[tailOff:], marks); !errors.Is(err, ErrNotLive) {
		t.Errorf("finished: %v, want ErrNotLive", err)
	}
}

// FragmentMarkOf undoes Key.
func TestFragmentMarkKey(t *testing.T) {
	for _, m := range []FragmentMark{{5, 7, 40, 1, true, true}, {9, 0, maxMarkDur, 0xFFFF_FFFF, false, false}, {9, 0, 0, 3, true, false}} {
		if got := FragmentMarkOf(m.Offset, m.Time, m.Key()); got != m {
			t.Errorf("%+v: got %+v", m, got)
		}
	}
}

// encodeMarks packs marks as FuzzFinishLive reads them.
func encodeMarks(ms []FragmentMark) []byte {
	var b []byte
	for _, m := range ms {
		b = binary.BigEndian.AppendUint64(b, uint64(m.Offset))
		b = binary.BigEndian.AppendUint64(b, uint64(m.Time))
		b = binary.BigEndian.AppendUint64(b, m.Key())
	}
	return b
}

// FuzzFinishLive checks that FinishLive never panics, and that what it
// returns keeps the head's length and is a file that ends with whole
// boxes: the whole file (head, the bytes between, tail) with its index,
// cut anywhere.
func FuzzFinishLive(f *testing.F) {
	m, _ := liveAVSize(f, true, 2, 8)
	f.Add(m.b, uint32(m.marks[2].Offset+7), uint32(thirdLast(m.marks)-5), encodeMarks(m.marks))
	f.Add(m.b[:len(m.b)-9], uint32(m.marks[1].Offset), uint32(m.marks[len(m.marks)-1].Offset), encodeMarks(m.marks))
	m, _ = liveAVSize(f, false, 2, 8)
	f.Add(m.b, uint32(m.marks[0].Offset+7), uint32(thirdLast(m.marks)), encodeMarks(m.marks))
	f.Fuzz(checkFinishLive)
}

// checkFinishLive runs FinishLive on file cut at headLen and tailOff,
// with the marks packed in idx (encodeMarks), and checks what it returns.
func checkFinishLive(t *testing.T, file []byte, headLen, tailOff uint32, idx []byte) {
	if int(headLen) > len(file) || tailOff < headLen || int(tailOff) > len(file) {
		return
	}
	var marks []FragmentMark
	for ; len(idx) >= 24; idx = idx[24:] {
		marks = append(marks, FragmentMarkOf(int64(binary.BigEndian.Uint64(idx)), int64(binary.BigEndian.Uint64(idx[8:])), binary.BigEndian.Uint64(idx[16:])))
	}
	h, tl, dur, err := FinishLive(file[:headLen], int64(tailOff), file[tailOff:], marks)
	if err != nil {
		if !errors.Is(err, ErrNotLive) {
			t.Fatalf("%v, not ErrNotLive", err)
		}
		return
	}
	if len(h) != int(headLen) || dur < 0 || len(tl) < 8 {
		t.Fatalf("head %d bytes (of %d), tail %d, duration %v", len(h), headLen, len(tl), dur)
	}
	// The tail ends with the mfra, whose mfro says its size.
	if n := binary.BigEndian.Uint32(tl[len(tl)-4:]); int(n) > len(tl) || string(tl[len(tl)-int(n)+4:][:4]) != "mfra" {
		t.Fatalf("the tail does not end with an mfra")
	}
}

// FinishLive on 20000 random mutations of a live file and its index (the
// fuzz target's check, run as a test).
func TestFinishLiveMutations(t *testing.T) {
	m, _ := liveAVSize(t, true, 2, 8)
	idx := encodeMarks(m.marks)
	r := rand.New(rand.NewPCG(1, 2))
	headLen, tailOff := uint32(m.marks[2].Offset+7), uint32(thirdLast(m.marks)-5)
	ok := 0
	for range 20000 {
		file, ix := bytes.Clone(m.b), bytes.Clone(idx)
		for range 1 + r.IntN(4) {
			if r.IntN(2) == 0 {
				file[r.IntN(len(file))] = byte(r.IntN(256))
			} else {
				ix[r.IntN(len(ix))] = byte(r.IntN(256))
			}
		}
		checkFinishLive(t, file, headLen, tailOff, ix)
		if _, _, _, err := FinishLive(file[:headLen], int64(tailOff), file[tailOff:], m.marks); err == nil {
			ok++
		}
	}
	if ok == 0 {
		t.Error("no mutation of the bytes alone was finished")
	}
}
