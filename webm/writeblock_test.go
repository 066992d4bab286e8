package webm

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/ebml"
)

// roundTrip writes frames with WriteBlock and reads them back.
func roundTrip(t *testing.T, opts Options, in []Frame) (*parsed, []Frame) {
	t.Helper()
	m := &memFile{}
	opts.Seekable = true
	w, err := NewWriter(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range in {
		if err := w.WriteBlock(f); err != nil {
			t.Fatalf("WriteBlock %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, out, err := readAll(t, m.b)
	if err != nil {
		t.Fatal(err)
	}
	return parseOutput(t, m.b), out
}

func TestWriteBlock(t *testing.T) {
	in := []Frame{
		{Track: 1, Timestamp: 0, KeyFrame: true, Data: k1},
		{Track: 2, Timestamp: 0, Duration: ms(20), KeyFrame: true, Data: p10},       // = DefaultDuration
		{Track: 2, Timestamp: ms(20), Duration: ms(13), KeyFrame: true, Data: p300}, // BlockGroup
		{Track: 1, Timestamp: ms(33), Invisible: true, Data: d1},
		{Track: 1, Timestamp: ms(66), Discardable: true, Data: d2},
		{Track: 1, Timestamp: ms(100), Duration: ms(40), Data: d1}, // BlockGroup + ReferenceBlock
		{Track: 1, Timestamp: ms(140), Duration: ms(40), KeyFrame: true, Invisible: true, Data: d2},
		{Track: 3, Timestamp: ms(150), Duration: 1500 * time.Microsecond, KeyFrame: true, Data: p5}, // rounds to 2 ms
		{Track: 3, Timestamp: ms(160), Duration: 100 * time.Microsecond, KeyFrame: true, Data: p5},  // at least 1 unit
	}
	p, out := roundTrip(t, avpTracks, in)
	want := make([]Frame, len(in))
	copy(want, in)
	want[1].Duration = ms(20)
	want[7].Duration = ms(2)
	want[8].Duration = ms(1)
	for i := range want {
		if want[i].Track == 2 && want[i].Duration == 0 {
			want[i].Duration = ms(20)
		}
	}
	sameFrames(t, "round trip", want, out)

	// Which frames went into BlockGroups, and what they hold.
	var groups []*elem
	simple := 0
	for _, c := range p.clusters {
		groups = append(groups, c.all(idBlockGroup)...)
		simple += len(c.all(idSimpleBlock))
	}
	if len(groups) != 5 || simple != 4 {
		t.Fatalf("%d BlockGroups and %d SimpleBlocks, want 5 and 4", len(groups), simple)
	}
	for i, c := range []struct {
		dur  uint64
		ref  bool
		flag byte
	}{{13, false, 0}, {40, true, 0}, {40, false, 0x08}, {2, false, 0}, {1, false, 0}} {
		g := groups[i]
		if d := g.uint(t, idBlockDuration); d != c.dur || (g.find(idReferenceBlock) != nil) != c.ref {
			t.Errorf("group %d: duration %d, reference %v", i, d, g.find(idReferenceBlock) != nil)
		}
		if b := g.find(idBlock).body; b[3] != c.flag {
			t.Errorf("group %d: Block flags %#x", i, b[3])
		}
	}
	if ref := groups[1].find(idReferenceBlock); ref != nil {
		if v := int8(ref.body[0]); len(ref.body) != 1 || v != -34 {
			t.Errorf("ReferenceBlock % x, want -34 (the previous video frame)", ref.body)
		}
	}

	w, err := NewWriter(&memFile{}, avpTracks)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteBlock(Frame{Track: 1, Duration: -1}); err != ErrTimestamp {
		t.Errorf("negative duration: %v", err)
	}
	if err := w.WriteBlock(Frame{Track: 9}); err != ErrTrackNumber {
		t.Errorf("unknown track: %v", err)
	}
}

func TestWriteBlockNoAlloc(t *testing.T) {
	w, err := NewWriter(&memFile{b: make([]byte, 0, 1<<24)}, Options{Tracks: avpTracks.Tracks, MaxClusterDuration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1000)
	f := Frame{Track: 1, KeyFrame: true, Data: data, Duration: ms(40)}
	if err := w.WriteBlock(f); err != nil {
		t.Fatal(err)
	}
	f.KeyFrame = false
	allocs := testing.AllocsPerRun(1000, func() {
		f.Timestamp += ms(1)
		if err := w.WriteBlock(f); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 && !raceEnabled {
		t.Errorf("%v allocs per WriteBlock", allocs)
	}
}

func TestAllowReorder(t *testing.T) {
	// H.264 with B-frames in decode order: I0 P3 B1 B2 P6 B4 B5 ..., then
	// a jump back of 40 s (out of int16 range) and a frame before zero.
	var in []Frame
	pts := []int{0, 3, 1, 2, 6, 4, 5, 9, 7, 8}
	for i, p := range pts {
		in = append(in, Frame{Track: 1, Timestamp: time.Duration(p) * 40 * time.Millisecond, KeyFrame: i == 0, Data: []byte{byte(i)}})
	}
	in = append(in,
		Frame{Track: 1, Timestamp: 50 * time.Second, KeyFrame: true, Data: k1},
		Frame{Track: 1, Timestamp: 10 * time.Second, Data: d1}, // 40 s back: a new Cluster
		Frame{Track: 2, Timestamp: -5 * time.Millisecond, KeyFrame: true, Data: p10},
		Frame{Track: 2, Timestamp: -32768 * time.Millisecond, KeyFrame: true, Data: p10},
	)
	opts := Options{Tracks: avpTracks.Tracks, AllowReorder: true}
	p, out := roundTrip(t, opts, in)
	want := make([]Frame, len(in))
	copy(want, in)
	for i := range want {
		if want[i].Track == 2 {
			want[i].Duration = ms(20)
		}
	}
	sameFrames(t, "round trip", want, out)
	for _, c := range p.clusters {
		ts := c.uint(t, idTimestamp)
		for _, b := range c.blocks(t) {
			if int64(ts)+int64(b.rel) < -32768 {
				t.Errorf("block at %d ms", int64(ts)+int64(b.rel))
			}
		}
	}
	if len(p.clusters) != 4 {
		t.Errorf("%d clusters, want 4 (0, 50 s, 10 s, 0)", len(p.clusters))
	}

	// Without AllowReorder, or too far below zero: ErrTimestamp.
	w, err := NewWriter(&memFile{}, Options{Tracks: avpTracks.Tracks})
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(t, w, []frame{{1, ms(120), true, k1}})
	if err := w.WriteFrame(1, ms(40), false, d1); err != ErrTimestamp {
		t.Errorf("backwards without AllowReorder: %v", err)
	}
	if err := w.WriteFrame(2, -ms(1), true, d1); err != ErrTimestamp {
		t.Errorf("negative without AllowReorder: %v", err)
	}
	w, err = NewWriter(&memFile{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame(2, -ms(32769), true, d1); err != ErrTimestamp {
		t.Errorf("-32769 ms: %v", err)
	}
	// Duration is the end of the latest frame, not of the last written,
	// and the frames in between narrow down its duration: I0 P3 B1 B2.
	writeFrames(t, w, []frame{{1, 0, true, k1}, {1, ms(120), false, d1}, {1, ms(40), false, d2}})
	if d := w.Duration(); d != ms(200) {
		t.Errorf("Duration %v, want 200ms", d)
	}
	writeFrames(t, w, []frame{{1, ms(80), false, d2}})
	if d := w.Duration(); d != ms(160) {
		t.Errorf("Duration %v, want 160ms", d)
	}
}

func TestTimestampScale(t *testing.T) {
	opts := Options{Tracks: avpTracks.Tracks, TimestampScale: 100 * time.Microsecond}
	in := []Frame{
		{Track: 1, Timestamp: 0, KeyFrame: true, Data: k1},
		{Track: 1, Timestamp: 33349 * time.Microsecond, Data: d1}, // rounds to 333 units
		{Track: 1, Timestamp: 33350 * time.Microsecond, Data: d2}, // rounds up to 334
		{Track: 3, Timestamp: 4 * time.Second, KeyFrame: true, Data: p5},
	}
	p, out := roundTrip(t, opts, in)
	if got := p.info.uint(t, idTimestampScale); got != 100000 {
		t.Errorf("TimestampScale %d", got)
	}
	for i, want := range []time.Duration{0, 33300 * time.Microsecond, 33400 * time.Microsecond, 4 * time.Second} {
		if out[i].Timestamp != want {
			t.Errorf("frame %d at %v, want %v", i, out[i].Timestamp, want)
		}
	}
	// 4 s is more than 32767 units: a second Cluster, at 40000 units.
	if len(p.clusters) != 2 || p.clusters[1].uint(t, idTimestamp) != 40000 {
		t.Errorf("clusters %d", len(p.clusters))
	}
	if f, _ := ebml.ReadFloat(p.info.find(idDuration).body); f != 40000 {
		t.Errorf("Duration %v units, want 40000", f)
	}
	for _, s := range []time.Duration{-1, time.Second + 1} {
		if _, err := NewWriter(&memFile{}, Options{Tracks: avpTracks.Tracks, TimestampScale: s}); err != ErrTimestampScale {
			t.Errorf("TimestampScale %v: %v", s, err)
		}
	}
}

func TestRawTrackEntry(t *testing.T) {
	// A subtitle track, which only a Raw entry can carry, and an Opus
	// entry with elements the Writer does not know (Name, Language).
	sub := TrackEntry{Number: 4, Type: 0x11, Raw: cat(u(idTrackNumber, 4), u(idTrackUID, 99), u(idTrackType, 0x11),
		el(idCodecID, []byte("S_TEXT/UTF8")))}
	opus := TrackEntry{Number: 3, Type: TrackTypeAudio, Raw: cat(u(idTrackNumber, 3), u(idTrackType, 2),
		el(idCodecID, []byte("A_OPUS")), el(0x536E, []byte("commentary")), el(0x22B59C, []byte("fre")))}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Options{Tracks: []TrackEntry{testVideo, opus, sub}})
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(t, w, []frame{{4, 0, true, []byte("hello")}, {3, 0, true, p5}})
	r, err := NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	if !bytes.Equal(h.Tracks[1].Raw, opus.Raw) || !bytes.Equal(h.Tracks[2].Raw, sub.Raw) ||
		h.Tracks[2].CodecID != "S_TEXT/UTF8" || h.Tracks[2].UID != 99 || h.Tracks[1].CodecID != "A_OPUS" {
		t.Errorf("tracks %+v", h.Tracks)
	}
	if _, err := NewWriter(&buf, Options{Tracks: []TrackEntry{{Number: 1, Raw: []byte{0xD7, 0x81, 1}}}}); err != ErrTrackEntry {
		t.Errorf("Raw without Type: %v", err)
	}
}

func TestSetDuration(t *testing.T) {
	m := &memFile{}
	w, err := NewWriter(m, Options{Tracks: avpTracks.Tracks, Seekable: true})
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(t, w, []frame{{1, 0, true, k1}, {1, ms(40), false, d1}})
	w.SetDuration(1234 * time.Millisecond)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(m.b))
	if err != nil || r.Header().Duration != 1234*time.Millisecond {
		t.Errorf("Duration %v, %v", r.Header().Duration, err)
	}
}

func TestTruncatedError(t *testing.T) {
	var err error = &TruncatedError{Offset: 10, Element: 4}
	if !errors.Is(err, ErrTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrNotWebM) {
		t.Error("errors.Is")
	}
	if err.Error() != "webm: input truncated at byte 10, inside the element at byte 4" {
		t.Error(err)
	}
}
