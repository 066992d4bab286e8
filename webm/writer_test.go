package webm

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/ebml"
)

var (
	vp8Track  = TrackEntry{Number: 1, Type: TrackTypeVideo, CodecID: "V_VP8", PixelWidth: 320, PixelHeight: 240}
	opusHead  = []byte("OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00")
	opusTrack = TrackEntry{Number: 2, Type: TrackTypeAudio, CodecID: "A_OPUS", CodecPrivate: opusHead,
		CodecDelay: 6500 * time.Microsecond, SeekPreRoll: 80 * time.Millisecond, SamplingFrequency: 48000, Channels: 2}
	avOptions = Options{Tracks: []TrackEntry{vp8Track, opusTrack}}
)

// synthetic returns d of interleaved frames: 30 fps video (key frame every
// keyEvery frames, payload byte = frame index) and 20 ms audio.
func synthetic(d time.Duration, keyEvery int) []frame {
	var v, a []frame
	for i := 0; time.Duration(i)*time.Second/30 < d; i++ {
		v = append(v, frame{1, time.Duration(i) * time.Second / 30, i%keyEvery == 0, []byte{byte(i), 1, 2, 3}})
	}
	for i := 0; time.Duration(i)*20*time.Millisecond < d; i++ {
		a = append(a, frame{2, time.Duration(i) * 20 * time.Millisecond, true, []byte{0xFC, byte(i)}})
	}
	return interleave(v, a)
}

func TestHeaderLayout(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, avOptions)
	if err != nil {
		t.Fatal(err)
	}
	if int64(buf.Len()) != w.Offset() {
		t.Fatalf("Offset %d, wrote %d", w.Offset(), buf.Len())
	}
	p := parseOutput(t, buf.Bytes())
	e := p.ebml
	for _, c := range []struct {
		id   uint32
		want uint64
	}{{idEBMLVersion, 1}, {idEBMLReadVersion, 1}, {idEBMLMaxIDLength, 4}, {idEBMLMaxSizeLength, 8},
		{idDocTypeVersion, 4}, {idDocTypeReadVersion, 2}} {
		if got := e.uint(t, c.id); got != c.want {
			t.Errorf("EBML %X = %d, want %d", c.id, got, c.want)
		}
	}
	if got := e.str(t, idDocType); got != "webm" {
		t.Errorf("DocType %q", got)
	}
	// Segment: 8-byte unknown size; first a Void for the SeekHead.
	s := p.segment
	if !bytes.Equal(buf.Bytes()[s.off+4:s.off+12], ebml.UnknownSize8[:]) {
		t.Errorf("Segment size % x", buf.Bytes()[s.off+4:s.off+12])
	}
	if len(s.kids) != 3 || s.kids[0].id != idVoid || s.kids[0].end-s.kids[0].off != seekHeadReserve {
		t.Fatalf("Segment children: want Void(%d), Info, Tracks", seekHeadReserve)
	}
	if s.kids[1].id != idInfo || s.kids[2].id != idTracks {
		t.Fatalf("Segment children %X %X", s.kids[1].id, s.kids[2].id)
	}
	info := p.info
	if got := info.uint(t, idTimestampScale); got != 1000000 {
		t.Errorf("TimestampScale %d", got)
	}
	if info.str(t, idMuxingApp) != "mediarecorder" || info.str(t, idWritingApp) != "mediarecorder" {
		t.Errorf("apps %q %q", info.str(t, idMuxingApp), info.str(t, idWritingApp))
	}
	last := info.kids[len(info.kids)-1]
	if last.id != idVoid || last.end-last.off != durationLen || info.find(idDuration) != nil {
		t.Errorf("Info must end with an %d-byte Void and no Duration", durationLen)
	}
	entries := p.tracks.all(idTrackEntry)
	if len(entries) != 2 {
		t.Fatalf("%d track entries", len(entries))
	}
	v, a := entries[0], entries[1]
	for _, c := range []struct {
		e    *elem
		id   uint32
		want uint64
	}{
		{v, idTrackNumber, 1}, {v, idTrackUID, 1}, {v, idTrackType, 1}, {v, idFlagLacing, 0},
		{a, idTrackNumber, 2}, {a, idTrackUID, 2}, {a, idTrackType, 2},
		{a, idCodecDelay, 6500000}, {a, idSeekPreRoll, 80000000},
		{v.find(idVideo), idPixelWidth, 320}, {v.find(idVideo), idPixelHeight, 240},
		{a.find(idAudio), idChannels, 2},
	} {
		if got := c.e.uint(t, c.id); got != c.want {
			t.Errorf("%X in %X = %d, want %d", c.id, c.e.id, got, c.want)
		}
	}
	if v.str(t, idCodecID) != "V_VP8" || a.str(t, idCodecID) != "A_OPUS" {
		t.Errorf("codec IDs %q %q", v.str(t, idCodecID), a.str(t, idCodecID))
	}
	if v.find(idCodecPrivate) != nil || !bytes.Equal(a.find(idCodecPrivate).body, opusHead) {
		t.Error("CodecPrivate")
	}
	if v.find(idAudio) != nil || a.find(idVideo) != nil || v.find(idCodecDelay) != nil {
		t.Error("unexpected elements")
	}
	if f, _ := ebml.ReadFloat(a.find(idAudio).find(idSamplingFrequency).body); f != 48000 {
		t.Errorf("SamplingFrequency %v", f)
	}
}

func TestOptions(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Options{
		DocType: "matroska", MuxingApp: "mux", WritingApp: "app",
		Tracks: []TrackEntry{
			{Number: 300, UID: 0xDEADBEEF, Type: TrackTypeAudio, CodecID: "A_PCM/INT/LIT",
				SamplingFrequency: 44100, Channels: 1, BitDepth: 16, DefaultDuration: 10 * time.Millisecond},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame(300, 0, true, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	p := parseOutput(t, buf.Bytes())
	if p.ebml.str(t, idDocType) != "matroska" || p.info.str(t, idMuxingApp) != "mux" || p.info.str(t, idWritingApp) != "app" {
		t.Error("DocType or apps not written")
	}
	te := p.tracks.find(idTrackEntry)
	if te.uint(t, idTrackNumber) != 300 || te.uint(t, idTrackUID) != 0xDEADBEEF ||
		te.uint(t, idDefaultDuration) != 10000000 || te.find(idAudio).uint(t, idBitDepth) != 16 {
		t.Error("track entry fields")
	}
	bl := p.clusters[0].blocks(t)
	if len(bl) != 1 || bl[0].track != 300 || !bytes.Equal(bl[0].data, []byte{1, 2}) {
		t.Errorf("block %+v", bl)
	}
	if got := w.Duration(); got != 10*time.Millisecond {
		t.Errorf("Duration with DefaultDuration = %v", got)
	}
}

func TestNewWriterErrors(t *testing.T) {
	tr := func(mod func(*TrackEntry)) []TrackEntry {
		e := vp8Track
		mod(&e)
		return []TrackEntry{e}
	}
	cases := []struct {
		name string
		w    io.Writer
		opts Options
		err  error
	}{
		{"no tracks", io.Discard, Options{}, ErrNoTracks},
		{"doctype", io.Discard, Options{DocType: "mp4", Tracks: []TrackEntry{vp8Track}}, ErrDocType},
		{"zero number", io.Discard, Options{Tracks: tr(func(e *TrackEntry) { e.Number = 0 })}, ErrTrackNumber},
		{"huge number", io.Discard, Options{Tracks: tr(func(e *TrackEntry) { e.Number = math.MaxUint64 })}, ErrTrackNumber},
		{"duplicate", io.Discard, Options{Tracks: []TrackEntry{vp8Track, vp8Track}}, ErrTrackNumber},
		{"type", io.Discard, Options{Tracks: tr(func(e *TrackEntry) { e.Type = 3 })}, ErrTrackEntry},
		{"codec", io.Discard, Options{Tracks: tr(func(e *TrackEntry) { e.CodecID = "" })}, ErrTrackEntry},
		{"delay", io.Discard, Options{Tracks: tr(func(e *TrackEntry) { e.CodecDelay = -1 })}, ErrTrackEntry},
		{"preroll", io.Discard, Options{Tracks: tr(func(e *TrackEntry) { e.SeekPreRoll = -1 })}, ErrTrackEntry},
		{"default duration", io.Discard, Options{Tracks: tr(func(e *TrackEntry) { e.DefaultDuration = -1 })}, ErrTrackEntry},
		{"not seekable", &bytes.Buffer{}, Options{Seekable: true, Tracks: []TrackEntry{vp8Track}}, ErrNotSeekable},
		{"write error", &failWriter{n: 10}, avOptions, errWrite},
	}
	for _, c := range cases {
		w, err := NewWriter(c.w, c.opts)
		if !errors.Is(err, c.err) || w != nil {
			t.Errorf("%s: NewWriter = %v, %v; want nil, %v", c.name, w, err, c.err)
		}
	}
}

var errWrite = errors.New("test write error")

// failWriter accepts n bytes, then fails.
type failWriter struct {
	n      int
	writes int
}

func (f *failWriter) Write(p []byte) (int, error) {
	f.writes++
	if len(p) > f.n {
		n := f.n
		f.n = 0
		return n, errWrite
	}
	f.n -= len(p)
	return len(p), nil
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestWriteFrameErrors(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, avOptions)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got, want error) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	check("first", w.WriteFrame(1, time.Second, true, []byte{1}), nil)
	check("unknown track", w.WriteFrame(3, time.Second, true, []byte{1}), ErrTrackNumber)
	check("negative", w.WriteFrame(2, -time.Millisecond, true, []byte{1}), ErrTimestamp)
	check("backwards", w.WriteFrame(1, time.Second-time.Microsecond, false, []byte{1}), ErrTimestamp)
	check("equal", w.WriteFrame(1, time.Second, false, []byte{1}), nil)
	check("other track earlier", w.WriteFrame(2, 990*time.Millisecond, true, []byte{1}), nil)
	check("far future", w.WriteFrame(2, math.MaxInt64, true, []byte{1}), nil)
	check("close", w.Close(), nil)
	check("close again", w.Close(), nil)
	check("after close", w.WriteFrame(1, 2*time.Second, true, []byte{1}), ErrClosed)
	n := buf.Len()
	check("close live", w.Close(), nil)
	if buf.Len() != n {
		t.Error("Close of a closed writer wrote")
	}

	// Write errors are sticky.
	fw := &failWriter{n: 1000}
	w, err = NewWriter(fw, avOptions)
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 2000)
	check("fail", w.WriteFrame(1, 0, true, big), errWrite)
	writes := fw.writes
	check("sticky", w.WriteFrame(1, time.Millisecond, false, []byte{1}), errWrite)
	check("sticky close", w.Close(), errWrite)
	check("sticky close again", w.Close(), errWrite)
	if fw.writes != writes {
		t.Error("writer wrote after an error")
	}

	w, err = NewWriter(&struct{ io.Writer }{&buf}, avOptions)
	if err != nil {
		t.Fatal(err)
	}
	w.w = shortWriter{}
	check("short", w.WriteFrame(1, 0, true, big), io.ErrShortWrite)
}

func TestClusters(t *testing.T) {
	frames := synthetic(3*time.Second, 30)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, avOptions)
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(t, w, frames)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := parseOutput(t, buf.Bytes())
	if p.segment.size != ebml.UnknownSize || p.cues != nil || p.seekHead != nil {
		t.Error("live output must have an unknown Segment size and no Cues or SeekHead")
	}
	// Clusters start at each video key frame: 0, 1 s, 2 s. Audio at 0
	// comes after the video frame at 0, so only 3 clusters.
	if len(p.clusters) != 3 {
		t.Fatalf("%d clusters, want 3", len(p.clusters))
	}
	var got []frame
	for i, c := range p.clusters {
		if c.size != ebml.UnknownSize || c.sizeW != 8 {
			t.Errorf("cluster %d: size %d in %d bytes, want unknown in 8", i, c.size, c.sizeW)
		}
		if c.kids[0].id != idTimestamp {
			t.Errorf("cluster %d does not start with its Timestamp", i)
		}
		cts := c.uint(t, idTimestamp)
		if cts != uint64(i)*1000 {
			t.Errorf("cluster %d timestamp %d", i, cts)
		}
		bl := c.blocks(t)
		if bl[0].track != 1 || bl[0].flags != 0x80 {
			t.Errorf("cluster %d starts with %+v, want a video key frame", i, bl[0])
		}
		for _, b := range bl {
			got = append(got, frame{b.track, time.Duration(int64(cts)+int64(b.rel)) * time.Millisecond, b.flags&0x80 != 0, b.data})
		}
	}
	if len(got) != len(frames) {
		t.Fatalf("%d blocks, want %d", len(got), len(frames))
	}
	for i, f := range frames {
		g := got[i]
		if g.track != f.track || g.key != f.key || g.ts != f.ts.Round(time.Millisecond) || !bytes.Equal(g.data, f.data) {
			t.Fatalf("block %d = %+v, want %+v", i, g, f)
		}
	}
	if d := w.Duration(); d != 3*time.Second {
		t.Errorf("Duration %v, want 3s", d)
	}
	if w.Offset() != int64(buf.Len()) {
		t.Errorf("Offset %d, len %d", w.Offset(), buf.Len())
	}
}

// clusterStarts writes frames (live) and returns the cluster timestamps and
// each cluster's block relative timestamps.
func clusterStarts(t *testing.T, opts Options, frames []frame) ([]uint64, [][]int16) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(t, w, frames)
	p := parseOutput(t, buf.Bytes())
	var ts []uint64
	var rels [][]int16
	for _, c := range p.clusters {
		ts = append(ts, c.uint(t, idTimestamp))
		var r []int16
		for _, b := range c.blocks(t) {
			r = append(r, b.rel)
		}
		rels = append(rels, r)
	}
	return ts, rels
}

func TestClusterRules(t *testing.T) {
	ms := time.Millisecond
	audioOnly := Options{Tracks: []TrackEntry{opusTrack}}
	cases := []struct {
		name   string
		opts   Options
		frames []frame
		starts []uint64
		rels   [][]int16
	}{
		{"audio keys do not split", audioOnly,
			[]frame{{2, 0, true, nil}, {2, 20 * ms, true, nil}, {2, 40 * ms, true, nil}},
			[]uint64{0}, [][]int16{{0, 20, 40}}},
		{"video key splits", avOptions,
			[]frame{{1, 0, true, nil}, {1, 33 * ms, false, nil}, {1, 66 * ms, true, nil}, {1, 100 * ms, false, nil}},
			[]uint64{0, 66}, [][]int16{{0, 33}, {0, 34}}},
		{"max duration", audioOnly,
			[]frame{{2, 0, true, nil}, {2, 4999 * ms, true, nil}, {2, 5000 * ms, true, nil}, {2, 9999 * ms, true, nil}, {2, 10 * time.Second, true, nil}},
			[]uint64{0, 5000, 10000}, [][]int16{{0, 4999}, {0, 4999}, {0}}},
		{"custom max duration", Options{Tracks: []TrackEntry{opusTrack}, MaxClusterDuration: 100 * ms},
			[]frame{{2, 0, true, nil}, {2, 99 * ms, true, nil}, {2, 100 * ms, true, nil}},
			[]uint64{0, 100}, [][]int16{{0, 99}, {0}}},
		{"long gap", Options{Tracks: []TrackEntry{opusTrack}, MaxClusterDuration: time.Hour},
			[]frame{{2, 0, true, nil}, {2, 32767 * ms, true, nil}, {2, 32768 * ms, true, nil}, {2, 100 * time.Second, true, nil}},
			[]uint64{0, 32768, 100000}, [][]int16{{0, 32767}, {0}, {0}}},
		{"negative relative", avOptions,
			[]frame{{1, time.Second, true, nil}, {2, 990 * ms, true, nil}, {1, 1033 * ms, false, nil}},
			[]uint64{1000}, [][]int16{{0, -10, 33}}},
		{"too negative", Options{Tracks: []TrackEntry{vp8Track, opusTrack, {Number: 3, Type: TrackTypeAudio, CodecID: "A_OPUS"}}, MaxClusterDuration: time.Minute},
			[]frame{{1, 50 * time.Second, true, nil}, {2, 17232 * ms, true, nil}, {3, 17231 * ms, true, nil}},
			[]uint64{50000, 17231}, [][]int16{{0, -32768}, {0}}},
		{"rounding", audioOnly,
			[]frame{{2, 0, true, nil}, {2, 1499 * time.Microsecond, true, nil}, {2, 1500 * time.Microsecond, true, nil}},
			[]uint64{0}, [][]int16{{0, 1, 2}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			starts, rels := clusterStarts(t, c.opts, c.frames)
			if len(starts) != len(c.starts) {
				t.Fatalf("clusters at %v, want %v", starts, c.starts)
			}
			for i := range starts {
				if starts[i] != c.starts[i] || len(rels[i]) != len(c.rels[i]) {
					t.Fatalf("clusters at %v %v, want %v %v", starts, rels, c.starts, c.rels)
				}
				for j := range rels[i] {
					if rels[i][j] != c.rels[i][j] {
						t.Fatalf("clusters at %v %v, want %v %v", starts, rels, c.starts, c.rels)
					}
				}
			}
		})
	}
}

func TestSeekable(t *testing.T) {
	// Start at a non-zero position to check that offsets are relative.
	m := &memFile{b: []byte("prefix"), pos: 6}
	w, err := NewWriter(m, Options{Tracks: avOptions.Tracks, Seekable: true})
	if err != nil {
		t.Fatal(err)
	}
	frames := synthetic(3*time.Second, 30)
	// The first cluster starts with audio, so it gets no cue.
	writeFrames(t, w, []frame{{2, 0, true, []byte{1}}})
	writeFrames(t, w, frames)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if string(m.b[:6]) != "prefix" || m.pos != int64(len(m.b)) || w.Offset() != int64(len(m.b)-6) {
		t.Fatalf("prefix %q, pos %d, len %d, offset %d", m.b[:6], m.pos, len(m.b), w.Offset())
	}
	b := m.b[6:]
	p := parseOutput(t, b)
	seg := p.segment
	if seg.size == ebml.UnknownSize || seg.sizeW != 8 || seg.end != len(b) {
		t.Fatalf("Segment size %d (%d bytes), data %d..%d", seg.size, seg.sizeW, seg.data(), len(b))
	}
	// SeekHead then a Void fill the reservation.
	if seg.kids[0].id != idSeekHead || seg.kids[1].id != idVoid || seg.kids[1].end-seg.kids[0].off != seekHeadReserve {
		t.Fatal("SeekHead + Void do not fill the reservation")
	}
	seeks := p.seekHead.all(idSeek)
	if len(seeks) != 3 {
		t.Fatalf("%d Seek entries", len(seeks))
	}
	for i, want := range []uint32{idInfo, idTracks, idCues} {
		id, _, _ := ebml.ReadID(seeks[i].find(idSeekID).body)
		pos := seeks[i].uint(t, idSeekPosition)
		got, _, _, err := ebml.ReadElementHeader(b[seg.data()+int(pos):])
		if id != want || err != nil || got != want {
			t.Errorf("Seek %d: SeekID %X -> element %X at %d, want %X", i, id, got, pos, want)
		}
	}
	// Duration replaced the Void in Info.
	if f, err := ebml.ReadFloat(p.info.find(idDuration).body); err != nil || f != 3000 {
		t.Errorf("Duration %v %v, want 3000", f, err)
	}
	if p.info.find(idVoid) != nil {
		t.Error("Info still has its Void")
	}
	// Clusters have known sizes, 8 bytes wide.
	if len(p.clusters) != 4 {
		t.Fatalf("%d clusters, want 4", len(p.clusters))
	}
	for i, c := range p.clusters {
		if c.size == ebml.UnknownSize || c.sizeW != 8 {
			t.Errorf("cluster %d: size %d in %d bytes", i, c.size, c.sizeW)
		}
	}
	// One cue per cluster that starts with a video key frame.
	points := p.cues.all(idCuePoint)
	if len(points) != 3 {
		t.Fatalf("%d CuePoints, want 3", len(points))
	}
	for i, cp := range points {
		ctime := cp.uint(t, idCueTime)
		tp := cp.find(idCueTrackPositions)
		cpos := tp.uint(t, idCueClusterPosition)
		rel := tp.uint(t, idCueRelativePosition)
		if tp.uint(t, idCueTrack) != 1 {
			t.Errorf("cue %d track %d", i, tp.uint(t, idCueTrack))
		}
		c := p.clusters[i+1]
		if uint64(c.off-seg.data()) != cpos || c.uint(t, idTimestamp) != ctime || ctime != uint64(i)*1000 {
			t.Errorf("cue %d: time %d, cluster position %d; cluster at %d", i, ctime, cpos, c.off-seg.data())
		}
		id, _, hdr, err := ebml.ReadElementHeader(b[c.data()+int(rel):])
		if err != nil || id != idSimpleBlock || b[c.data()+int(rel)+hdr] != 0x81 || b[c.data()+int(rel)+hdr+3]&0x80 == 0 {
			t.Errorf("cue %d: relative position %d is not a key SimpleBlock of track 1", i, rel)
		}
	}
}

// TestSeekableAlwaysValid checks the bytes after every frame: closed
// clusters have known sizes, the open one and the Segment are unknown.
func TestSeekableAlwaysValid(t *testing.T) {
	m := &memFile{}
	w, err := NewWriter(m, Options{Tracks: avOptions.Tracks, Seekable: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range synthetic(2500*time.Millisecond, 30) {
		writeFrames(t, w, []frame{f})
		if m.pos != int64(len(m.b)) {
			t.Fatalf("frame %d: position %d, length %d", i, m.pos, len(m.b))
		}
		p := parseOutput(t, m.b)
		if p.segment.size != ebml.UnknownSize || p.segment.end != len(m.b) {
			t.Fatalf("frame %d: Segment", i)
		}
		for j, c := range p.clusters {
			if (c.size == ebml.UnknownSize) != (j == len(p.clusters)-1) {
				t.Fatalf("frame %d: cluster %d size %d", i, j, c.size)
			}
		}
	}
}

func TestDisableSeeking(t *testing.T) {
	m := &memFile{}
	w, err := NewWriter(m, Options{Tracks: avOptions.Tracks, Seekable: true})
	if err != nil {
		t.Fatal(err)
	}
	frames := synthetic(3*time.Second, 30)
	writeFrames(t, w, frames[:len(frames)/2])
	w.DisableSeeking()
	handed := bytes.Clone(m.b)
	writeFrames(t, w, frames[len(frames)/2:])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(m.b, handed) {
		t.Fatal("bytes written before DisableSeeking changed")
	}
	p := parseOutput(t, m.b)
	if p.segment.size != ebml.UnknownSize || p.cues != nil || p.seekHead != nil || p.info.find(idDuration) != nil {
		t.Error("Close finalised after DisableSeeking")
	}
	// Clusters closed before DisableSeeking have sizes; later ones do not.
	sizes := 0
	for _, c := range p.clusters {
		if c.size != ebml.UnknownSize {
			if c.end > len(handed) {
				t.Error("cluster after DisableSeeking has a size")
			}
			sizes++
		}
	}
	if sizes != 1 || len(p.clusters) != 3 {
		t.Errorf("%d clusters, %d with sizes; want 3, 1", len(p.clusters), sizes)
	}
}

func TestSeekableEmpty(t *testing.T) {
	m := &memFile{}
	w, err := NewWriter(m, Options{Tracks: avOptions.Tracks, Seekable: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := parseOutput(t, m.b)
	if len(p.seekHead.all(idSeek)) != 2 || p.cues != nil || len(p.clusters) != 0 {
		t.Error("empty file: want a SeekHead with Info and Tracks only")
	}
	if f, _ := ebml.ReadFloat(p.info.find(idDuration).body); f != 0 {
		t.Errorf("Duration %v", f)
	}
}

// errSeeker fails to seek after the first seek.
type errSeeker struct {
	memFile
	seeks int
}

func (e *errSeeker) Seek(off int64, whence int) (int64, error) {
	e.seeks++
	if e.seeks > 1 {
		return 0, errWrite
	}
	return e.memFile.Seek(off, whence)
}

func TestSeekError(t *testing.T) {
	s := &errSeeker{}
	w, err := NewWriter(s, Options{Tracks: avOptions.Tracks, Seekable: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame(1, 0, true, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame(1, time.Second, true, []byte{1}); err != errWrite {
		t.Fatalf("new cluster with failing Seek: %v", err)
	}
	if err := w.Close(); err != errWrite {
		t.Fatalf("Close: %v", err)
	}
}

func TestDuration(t *testing.T) {
	w, err := NewWriter(io.Discard, avOptions)
	if err != nil {
		t.Fatal(err)
	}
	if w.Duration() != 0 {
		t.Error("Duration before frames")
	}
	writeFrames(t, w, []frame{{1, time.Second, true, nil}})
	if w.Duration() != time.Second {
		t.Errorf("one frame: %v", w.Duration())
	}
	writeFrames(t, w, []frame{{1, 1100 * time.Millisecond, false, nil}, {2, 500 * time.Millisecond, true, nil}})
	if w.Duration() != 1200*time.Millisecond {
		t.Errorf("two frames: %v", w.Duration())
	}
}

// TestWriteFrameNoAlloc checks the hot path: no allocations and one Write
// per frame, live and seekable (within a cluster).
func TestWriteFrameNoAlloc(t *testing.T) {
	data := make([]byte, 1024)
	for _, seekable := range []bool{false, true} {
		m := &memFile{}
		w, err := NewWriter(m, Options{Tracks: avOptions.Tracks, Seekable: seekable, MaxClusterDuration: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteFrame(1, 0, true, data); err != nil {
			t.Fatal(err)
		}
		m.b = make([]byte, len(m.b), 1<<22) // room so memFile itself does not allocate
		ts := time.Duration(0)
		writes := m.writes
		allocs := testing.AllocsPerRun(1000, func() {
			ts += time.Millisecond
			if err := w.WriteFrame(1, ts, false, data); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 && !raceEnabled {
			t.Errorf("seekable=%v: %v allocs per WriteFrame", seekable, allocs)
		}
		if n := m.writes - writes; n != 1001 {
			t.Errorf("seekable=%v: %d writes for 1001 frames", seekable, n)
		}
	}
}

func BenchmarkWriteSample(b *testing.B) {
	w, err := NewWriter(io.Discard, avOptions)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 1024)
	data[0] = 1 // a VP8 inter frame
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var ts time.Duration
	for b.Loop() {
		if err := w.WriteFrame(1, ts, false, data); err != nil {
			b.Fatal(err)
		}
		ts += 33 * time.Millisecond
	}
}

// The two ways to hand a block to the destination: header and frame copied
// into one buffer and written once (what WriteFrame does), or two Writes.
// Into io.Discard two Writes avoid the copy; into anything that costs a
// call (a file: /dev/null here) one Write wins.
func BenchmarkBlockOneWrite(b *testing.B)  { benchmarkBlock(b, io.Discard, false) }
func BenchmarkBlockTwoWrites(b *testing.B) { benchmarkBlock(b, io.Discard, true) }
func BenchmarkBlockOneWriteFile(b *testing.B) {
	benchmarkBlock(b, devNull(b), false)
}
func BenchmarkBlockTwoWritesFile(b *testing.B) {
	benchmarkBlock(b, devNull(b), true)
}

func devNull(b *testing.B) io.Writer {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Skip(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}

func benchmarkBlock(b *testing.B, dst io.Writer, two bool) {
	data := make([]byte, 1024)
	var scratch []byte
	b.ReportAllocs()
	for b.Loop() {
		h := ebml.AppendSize(append(scratch[:0], idSimpleBlock), uint64(4+len(data)))
		h = append(h, 0x81, 0, 33, 0)
		if two {
			dst.Write(h)
			dst.Write(data)
		} else {
			h = append(h, data...)
			dst.Write(h)
		}
		scratch = h
	}
}
