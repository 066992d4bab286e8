package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrNotLive is returned by FinishLive for bytes that are not the start of
// a stream as the Writer writes it (ftyp, then a moov whose durations are
// still 0), or an index of fragments that does not match the bytes.
var ErrNotLive = errors.New("mp4: not a live Writer stream, or its index does not match")

// FragmentMark is one traf of a fragment the Writer wrote, as a
// FragmentMarker was told (Offset from the fragment's start), or as
// FinishLive takes it (Offset in the file).
type FragmentMark struct {
	Offset int64  // where the traf box starts
	Time   int64  // its tfdt: the decode time of its first sample, in the track's timescale
	Dur    int64  // the duration of its samples, in the track's timescale
	Track  uint32 // the track's ID
	First  bool   // the moof's first traf: the fragment starts moofToTraf bytes before
	Sync   bool   // its first sample is a sync sample (a key frame, or audio)
}

// moofToTraf is where the first traf of the Writer's moof starts: after
// the moof header (8 bytes) and the mfhd (16).
const moofToTraf = 24

// maxMarkDur is the largest Dur that Key keeps; a longer one is cut to it.
const maxMarkDur = 1<<30 - 1

// Key packs the mark's Track, Dur (up to 2^30-1 units), First and Sync in
// one number, for an index that keeps an offset, a time and a number per
// unit (storage.Mark); FragmentMarkOf unpacks it.
func (m FragmentMark) Key() uint64 {
	k := uint64(m.Track) | uint64(min(max(m.Dur, 0), maxMarkDur))<<32
	if m.First {
		k |= 1 << 62
	}
	if m.Sync {
		k |= 1 << 63
	}
	return k
}

// FragmentMarkOf returns the mark at offset off, at time t, whose other
// fields Key packed in key.
func FragmentMarkOf(off, t int64, key uint64) FragmentMark {
	return FragmentMark{Offset: off, Time: t, Track: uint32(key), Dur: int64(key>>32) & maxMarkDur,
		First: key>>62&1 == 1, Sync: key>>63 == 1}
}

// FinishLive finishes in place a file the Writer (Seekable) was writing
// when it stopped short, of which the caller has only the first bytes
// (head: from the file's start, through the moov and maybe fragments)
// and the last ones (tail: from file offset tailOff to the end of what
// was written), with the index of every traf (marks, by offset, as a
// FragmentMarker was told them, with file offsets). The bytes in between
// are not needed and stay as they are.
//
// It returns head with the durations of mvhd, mehd, tkhd and mdhd filled
// in (the same length), and tail cut after its last whole fragment (moof
// and mdat), with the mfra index appended: head + the bytes between +
// newTail is a finished file, as the Writer's Close makes it. dur is its
// duration. The last whole fragment must start in tail (else ErrNotLive:
// the caller repairs the whole file with Fix). Each track ends where its
// last traf in the index ends (its Time plus its Dur).
func FinishLive(head []byte, tailOff int64, tail []byte, marks []FragmentMark) (newHead, newTail []byte, dur time.Duration, err error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrNotLive, fmt.Sprintf(format, a...))
	}
	// ftyp, then moov.
	if len(head) < 8 || string(head[4:8]) != "ftyp" {
		return nil, nil, 0, bad("no ftyp")
	}
	moovOff := int64(u32(head, 0))
	if moovOff < 8 || moovOff+8 > int64(len(head)) || string(head[moovOff+4:moovOff+8]) != "moov" {
		return nil, nil, 0, bad("no moov after the ftyp")
	}
	moovSize := int64(u32(head, int(moovOff)))
	if moovSize < 8 || moovOff+moovSize > int64(len(head)) {
		return nil, nil, 0, bad("the moov is not whole in the head")
	}
	f := &fixer{}
	if err := f.readMoov(topBox{typ: "moov", start: moovOff, hdr: 8, b: head[moovOff : moovOff+moovSize]}); err != nil {
		return nil, nil, 0, bad("%v", err)
	}
	if f.mvhd.off == 0 || durAt(head[moovOff:], f.mvhd) != 0 {
		return nil, nil, 0, bad("the duration is set already: not a live stream")
	}
	firstMoof := moovOff + moovSize
	if tailOff < int64(len(head)) {
		return nil, nil, 0, bad("tail at %d overlaps the head (%d bytes)", tailOff, len(head))
	}
	tailEnd := tailOff + int64(len(tail))

	// The index: trafs by offset, each fragment's first one marked, the
	// first one right after the moov.
	if len(marks) == 0 || marks[0].Offset != firstMoof+moofToTraf || !marks[0].First {
		return nil, nil, 0, bad("the index does not start after the moov")
	}
	moofs := make([]int64, len(marks))     // each mark's fragment
	trafNums := make([]uint32, len(marks)) // and its number in the moof
	for i, m := range marks {
		if f.track(m.Track) == nil {
			return nil, nil, 0, bad("a mark of track %d, not in the moov", m.Track)
		}
		switch {
		case i > 0 && m.Offset < marks[i-1].Offset+16:
			return nil, nil, 0, bad("the index is not in order")
		case m.First:
			moofs[i], trafNums[i] = m.Offset-moofToTraf, 1
			if i > 0 && moofs[i] < marks[i-1].Offset+16 {
				return nil, nil, 0, bad("the index is not in order")
			}
		default:
			moofs[i], trafNums[i] = moofs[i-1], trafNums[i-1]+1
		}
	}
	newHead, newTail = append([]byte(nil), head...), append([]byte(nil), tail...)
	// at returns the bytes at file offset off (n of them), if at hand.
	at := func(off int64, n int64) []byte {
		switch {
		case off >= 0 && off+n <= int64(len(newHead)):
			return newHead[off : off+n]
		case off >= tailOff && off+n <= tailEnd:
			return newTail[off-tailOff : off-tailOff+n]
		}
		return nil
	}
	// Each traf at hand must be where and what the index says.
	for i, m := range marks {
		if h := at(moofs[i], moofToTraf); h != nil && (string(h[4:8]) != "moof" || string(h[12:16]) != "mfhd") {
			return nil, nil, 0, bad("no moof at %d", moofs[i])
		}
		h := at(m.Offset, 8+16)
		if h == nil {
			continue
		}
		if string(h[4:8]) != "traf" || string(h[12:16]) != "tfhd" || u32(h, 20) != m.Track {
			return nil, nil, 0, bad("no traf of track %d at %d", m.Track, m.Offset)
		}
		tfdt := m.Offset + 8 + int64(u32(h, 8))
		if d := at(tfdt, 12); d != nil && string(d[4:8]) == "tfdt" {
			var v int64 = -1
			if d[8] == 1 {
				if e := at(tfdt+12, 8); e != nil {
					v = int64(u64(e, 0))
				}
			} else if e := at(tfdt+12, 4); e != nil {
				v = int64(u32(e, 0))
			}
			if v >= 0 && v != m.Time {
				return nil, nil, 0, bad("the traf at %d is not at %d", m.Offset, m.Time)
			}
		}
	}

	// The last whole fragment, in the tail: the marks after it go.
	var cut int64
	for {
		n := len(marks)
		if n == 0 || moofs[n-1] < tailOff {
			return nil, nil, 0, bad("the last whole fragment does not start in the tail")
		}
		moof := moofs[n-1]
		k := n - 1
		for k > 0 && moofs[k-1] == moof {
			k--
		}
		if end, ok := wholeFragment(newTail[min(moof-tailOff, int64(len(newTail))):]); ok {
			cut = moof + end
			break
		}
		marks, moofs = marks[:k], moofs[:k]
	}
	// The tracks' ends, from the index, checked against the fragments
	// kept in the tail.
	ends := map[uint32]uint64{}
	for i := len(marks) - 1; i >= 0 && moofs[i] >= tailOff; i-- {
		if i+1 < len(marks) && moofs[i+1] == moofs[i] {
			continue // the fragment was read with its last traf
		}
		if !f.fragmentEnds(newTail[moofs[i]-tailOff:], ends) {
			return nil, nil, 0, bad("a malformed moof at %d", moofs[i])
		}
	}
	for i, m := range marks {
		if e, ok := ends[m.Track]; ok && moofs[i] >= tailOff && e < uint64(max(m.Time+m.Dur, 0)) {
			return nil, nil, 0, bad("the traf at %d does not last %d", m.Offset, m.Dur)
		}
	}
	newTail = newTail[:cut-tailOff]

	// mfra after the last fragment, then the durations.
	w := &Writer{}
	for _, t := range f.tracks {
		tr := track{Track: Track{ID: t.id}}
		for i, m := range marks {
			if m.Track != t.id {
				continue
			}
			t.end = max(t.end, uint64(max(m.Time, 0)+max(m.Dur, 0)))
			if m.Sync {
				tr.index = append(tr.index, tfraEntry{time: m.Time, moof: moofs[i], trafNum: trafNums[i]})
			}
		}
		if e, ok := ends[t.id]; ok {
			t.end = max(t.end, e)
		}
		w.tracks = append(w.tracks, tr)
	}
	newTail = w.appendMFRA(newTail)
	var movie uint64
	moov := newHead[moovOff : moovOff+moovSize]
	for _, t := range f.tracks {
		end := min(t.end, math.MaxInt64/2)
		d := uint64(rescale(int64(end), t.timescale, f.moovTS))
		movie = max(movie, d)
		dur = max(dur, fromUnits(int64(end), t.timescale))
		putDur(moov, t.tkhd, d)
		putDur(moov, t.mdhd, end)
	}
	putDur(moov, f.mvhd, movie)
	putDur(moov, f.mehd, movie)
	return newHead, newTail, dur, nil
}

// wholeFragment reports whether b starts with a whole moof and mdat, and
// where they end.
func wholeFragment(b []byte) (end int64, ok bool) {
	if len(b) < 8 || string(b[4:8]) != "moof" {
		return 0, false
	}
	n := int64(u32(b, 0))
	if n < 8 || n+8 > int64(len(b)) || string(b[n+4:n+8]) != "mdat" {
		return 0, false
	}
	m := int64(u32(b, int(n)))
	if m < 8 || n+m > int64(len(b)) {
		return 0, false
	}
	return n + m, true
}

// fragmentEnds notes in ends the end of each track's samples in the whole
// fragment (moof and mdat: see wholeFragment) at the start of b, whose
// samples must lie in its mdat.
func (f *fixer) fragmentEnds(b []byte, ends map[uint32]uint64) bool {
	end, ok := wholeFragment(b)
	if !ok {
		return false
	}
	moofLen := int64(u32(b, 0))
	dataEnd, n := int64(0), 0
	return eachBox(b[8:moofLen], func(typ string, body []byte) bool {
		if typ != "traf" {
			return true
		}
		ti, e, ok := f.traf(body, 0, dataEnd, n == 0, moofLen+8, end, 0)
		if !ok {
			return false
		}
		dataEnd, n = e, n+1
		ends[ti.t.id] = max(ends[ti.t.id], ti.end)
		return true
	})
}

// durAt reads the duration field fld of the moov box b.
func durAt(b []byte, fld durField) uint64 {
	if fld.wide {
		return u64(b, fld.off)
	}
	return uint64(u32(b, fld.off))
}

// putDur sets the duration field fld (none when its offset is 0) of the
// moov box b to v.
func putDur(b []byte, fld durField, v uint64) {
	switch {
	case fld.off == 0:
	case fld.wide:
		binary.BigEndian.PutUint64(b[fld.off:], v)
	default:
		binary.BigEndian.PutUint32(b[fld.off:], uint32(min(v, math.MaxUint32-1)))
	}
}
