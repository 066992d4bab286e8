package mp4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/vp9"
)

var (
	testVP9   = Track{ID: 1, Type: TrackTypeVideo, Codec: CodecVP09, Width: 320, Height: 240}
	testOpus  = Track{ID: 2, Type: TrackTypeAudio, Codec: CodecOpus, Channels: 2, PreSkip: 312}
	testOpus1 = Track{ID: 1, Type: TrackTypeAudio, Codec: CodecOpus, Channels: 1}
)

func TestToUnits(t *testing.T) {
	for _, c := range []struct {
		d     time.Duration
		scale uint32
		want  int64
	}{
		{0, 90000, 0},
		{time.Second, 90000, 90000},
		{time.Second / 30, 90000, 3000}, // 33.333333 ms rounds to 3000
		{2 * time.Second / 30, 90000, 6000},
		{20 * time.Millisecond, 48000, 960},
		{11111, 90000, 1}, // 0.99999 units rounds up
		{5555, 90000, 0},  // 0.49995 units rounds down
		{5556, 90000, 1},  // 0.50004 units rounds up
		{10 * time.Hour, 90000, 10 * 3600 * 90000},
		{100*time.Hour + time.Second/3, 48000, 100*3600*48000 + 16000},
	} {
		if got := toUnits(c.d, c.scale); got != c.want {
			t.Errorf("toUnits(%v, %d) = %d, want %d", c.d, c.scale, got, c.want)
		}
		if c.d%time.Millisecond == 0 {
			if got := fromUnits(c.want, c.scale); got != c.d {
				t.Errorf("fromUnits(%d, %d) = %v, want %v", c.want, c.scale, got, c.d)
			}
		}
	}
	if got := rescale(4941*48, 48000, 1000); got != 4941 {
		t.Errorf("rescale = %d", got)
	}
	if got := rescale(1499, 90000, 1000); got != 17 { // 16.66 ms
		t.Errorf("rescale = %d", got)
	}
}

func TestVP9Level(t *testing.T) {
	// What ffmpeg 5.1's mp4 muxer writes (get_vp9_level without a frame
	// rate) for these sizes.
	for _, c := range []struct {
		w, h uint16
		want uint8
	}{
		{0, 0, 0}, {176, 144, 10}, {256, 144, 10}, {320, 240, 20}, {480, 256, 20}, {640, 360, 21},
		{640, 480, 30}, {1280, 720, 31}, {1920, 1080, 40}, {2560, 1440, 50}, {3840, 2160, 50},
		{7680, 4320, 60}, {16384, 16384, 0},
	} {
		if got := vp9Level(c.w, c.h); got != c.want {
			t.Errorf("vp9Level(%d, %d) = %d, want %d", c.w, c.h, got, c.want)
		}
	}
}

func TestNewWriterErrors(t *testing.T) {
	avc := []byte{1, 0x42, 0xc0, 0x1f, 0xff, 0xe0, 0}
	for _, c := range []struct {
		name   string
		tracks []Track
		want   error
	}{
		{"no tracks", nil, ErrTrack},
		{"ID 0", []Track{{Type: TrackTypeVideo, Codec: CodecVP09}}, ErrTrack},
		{"ID twice", []Track{testVP9, {ID: 1, Type: TrackTypeAudio, Codec: CodecOpus, Channels: 1}}, ErrTrack},
		{"no type", []Track{{ID: 1, Codec: CodecVP09}}, ErrTrack},
		{"video Opus", []Track{{ID: 1, Type: TrackTypeVideo, Codec: CodecOpus}}, ErrTrack},
		{"audio vp09", []Track{{ID: 1, Type: TrackTypeAudio, Codec: CodecVP09, Channels: 1}}, ErrTrack},
		{"vp8", []Track{{ID: 1, Type: TrackTypeVideo, Codec: "vp08"}}, ErrTrack},
		{"avc1 without avcC", []Track{{ID: 1, Type: TrackTypeVideo, Codec: CodecAVC1}}, ErrTrack},
		{"avc1 bad avcC", []Track{{ID: 1, Type: TrackTypeVideo, Codec: CodecAVC1, AVCC: []byte{0, 1, 2, 3, 4, 5, 6}}}, ErrTrack},
		{"av01 without av1C", []Track{{ID: 1, Type: TrackTypeVideo, Codec: CodecAV01, AV1C: []byte{0x81}}}, ErrTrack},
		{"Opus 0 channels", []Track{{ID: 1, Type: TrackTypeAudio, Codec: CodecOpus}}, ErrTrack},
		{"Opus 256 channels", []Track{{ID: 1, Type: TrackTypeAudio, Codec: CodecOpus, Channels: 256}}, ErrTrack},
		{"ok avc1", []Track{{ID: 1, Type: TrackTypeVideo, Codec: CodecAVC1, AVCC: avc}}, nil},
		{"ok vp09 without header", []Track{testVP9, testOpus}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			_, err := NewWriter(&b, Options{Tracks: c.tracks})
			if !errors.Is(err, c.want) || (err == nil) != (c.want == nil) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if err != nil && b.Len() > 0 {
				t.Errorf("wrote %d bytes before failing", b.Len())
			}
		})
	}
	if _, err := NewWriter(io.Discard, Options{Tracks: []Track{testVP9}, MaxFragmentDuration: -1}); err == nil {
		t.Error("negative MaxFragmentDuration accepted")
	}
	if _, err := NewWriter(&bytes.Buffer{}, Options{Tracks: []Track{testVP9}, Seekable: true}); !errors.Is(err, ErrNotSeekable) {
		t.Errorf("bytes.Buffer, Seekable: %v", err)
	}
	r, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer pw.Close()
	if _, err := NewWriter(pw, Options{Tracks: []Track{testVP9}, Seekable: true}); !errors.Is(err, ErrNotSeekable) {
		t.Errorf("pipe, Seekable: %v", err)
	}
}

func TestWriteSampleErrors(t *testing.T) {
	var b bytes.Buffer
	w, err := NewWriter(&b, Options{Tracks: []Track{testVP9, testOpus}})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.WriteSample(1, time.Second, 0, true, []byte{1}))
	for _, c := range []struct {
		name    string
		track   uint32
		ts, dur time.Duration
		want    error
	}{
		{"unknown track", 3, time.Second, 0, ErrTrack},
		{"track 0", 0, time.Second, 0, ErrTrack},
		{"negative ts", 2, -1, 0, ErrTimestamp},
		{"negative dur", 2, time.Second, -1, ErrTimestamp},
		{"earlier than previous", 1, time.Second - 1, 0, ErrTimestamp},
	} {
		if err := w.WriteSample(c.track, c.ts, c.dur, false, []byte{2}); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// Invalid arguments are not sticky; an earlier time on another track
	// and an equal time on the same track are fine.
	must(w.WriteSample(2, 0, 0, true, []byte{3}))
	must(w.WriteSample(1, time.Second, 0, false, []byte{4}))
	must(w.Flush())
	must(w.Close())
	must(w.Close())
	if err := w.WriteSample(1, 2*time.Second, 0, false, nil); err != ErrClosed {
		t.Errorf("WriteSample after Close: %v", err)
	}
	if err := w.Flush(); err != ErrClosed {
		t.Errorf("Flush after Close: %v", err)
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct{ n int }

var errWrite = errors.New("disk full")

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		n := f.n
		f.n = 0
		return n, errWrite
	}
	f.n -= len(p)
	return len(p), nil
}

func TestStickyError(t *testing.T) {
	if _, err := NewWriter(&failWriter{n: 10}, Options{Tracks: []Track{testVP9}}); err != errWrite {
		t.Fatalf("NewWriter: %v", err)
	}
	var b bytes.Buffer
	NewWriter(&b, Options{Tracks: []Track{testVP9}})
	w, err := NewWriter(&failWriter{n: b.Len() + 10}, Options{Tracks: []Track{testVP9}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSample(1, 0, 0, true, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != errWrite {
		t.Fatalf("Flush: %v", err)
	}
	if err := w.WriteSample(1, time.Second, 0, true, nil); err != errWrite {
		t.Errorf("WriteSample after a failed write: %v", err)
	}
	if err := w.Flush(); err != errWrite {
		t.Errorf("Flush after a failed write: %v", err)
	}
	if err := w.Close(); err != errWrite {
		t.Errorf("Close after a failed write: %v", err)
	}
	if err := w.Close(); err != errWrite {
		t.Errorf("second Close: %v", err)
	}
	w, _ = NewWriter(&failWriter{n: b.Len() + 10}, Options{Tracks: []Track{testVP9}})
	w.WriteSample(1, 0, 0, true, make([]byte, 100))
	if err := w.Close(); err != errWrite {
		t.Errorf("Close with a failing last fragment: %v", err)
	}
}

// fragment is a parsed moof and its samples.
type fragment struct {
	seq   uint32
	trafs []traf
}

type traf struct {
	id           uint32
	tfdt         uint64
	defaultFlags uint32
	trunFlags    uint32
	firstFlags   uint32 // 0 when absent
	durs         []uint32
	samples      [][]byte
}

// parseOutput splits a writer's output into the init segment's boxes, the
// fragments (with each sample's bytes found through the data offsets) and
// the boxes after the last fragment.
func parseOutput(t *testing.T, b []byte) (init []string, frags []fragment, tail []string) {
	t.Helper()
	ok := eachBox(b, func(typ string, body []byte) bool {
		switch {
		case typ == "moof":
			frags = append(frags, parseMoof(t, body))
		case typ == "mdat":
		case len(frags) == 0:
			init = append(init, typ)
		default:
			tail = append(tail, typ)
		}
		return true
	})
	if !ok {
		t.Fatal("output is not a sequence of boxes")
	}
	// Resolve the samples: data offsets count from the moof's first byte.
	off, i := 0, 0
	for off < len(b) {
		size := int(binary.BigEndian.Uint32(b[off:]))
		if string(b[off+4:off+8]) == "moof" {
			f := &frags[i]
			i++
			for k := range f.trafs {
				tr := &f.trafs[k]
				for j, s := range tr.samples {
					// samples holds (offset, size) pairs until resolved
					o, n := int(binary.BigEndian.Uint32(s)), int(binary.BigEndian.Uint32(s[4:]))
					if off+o+n > len(b) {
						t.Fatalf("sample past the end")
					}
					tr.samples[j] = b[off+o : off+o+n]
				}
			}
		}
		off += size
	}
	return init, frags, tail
}

func parseMoof(t *testing.T, b []byte) fragment {
	t.Helper()
	var f fragment
	eachBox(b, func(typ string, body []byte) bool {
		switch typ {
		case "mfhd":
			f.seq = u32(body, 4)
		case "traf":
			var tr traf
			eachBox(body, func(typ string, b []byte) bool {
				switch typ {
				case "tfhd":
					if u32(b, 0)&0xffffff != 0x020020 {
						t.Errorf("tfhd flags %x", u32(b, 0))
					}
					tr.id, tr.defaultFlags = u32(b, 4), u32(b, 8)
				case "tfdt":
					if b[0] != 1 {
						t.Errorf("tfdt version %d", b[0])
					}
					tr.tfdt = u64(b, 4)
				case "trun":
					tr.trunFlags = u32(b, 0)
					n := int(u32(b, 4))
					off := u32(b, 8)
					p := b[12:]
					if tr.trunFlags&4 != 0 {
						tr.firstFlags, p = u32(p, 0), p[4:]
					}
					for range n {
						d, s := u32(p, 0), u32(p, 4)
						tr.durs = append(tr.durs, d)
						tr.samples = append(tr.samples, binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, off), s))
						off += s
						p = p[8:]
					}
				}
				return true
			})
			f.trafs = append(f.trafs, tr)
		}
		return true
	})
	return f
}

type in struct {
	track   uint32
	ts, dur time.Duration
	key     bool
	size    int
}

// shape describes a fragment: per traf, track ID, tfdt and durations.
type shape struct {
	id   uint32
	tfdt uint64
	durs []uint32
}

func TestFragments(t *testing.T) {
	ms := time.Millisecond
	video := func(n int, every int, step time.Duration) []in {
		var s []in
		for i := range n {
			s = append(s, in{1, time.Duration(i) * step, 0, i%every == 0, 10 + i})
		}
		return s
	}
	audio := func(id uint32, n int, dur time.Duration) []in {
		var s []in
		for i := range n {
			s = append(s, in{id, time.Duration(i) * dur, dur, true, 5})
		}
		return s
	}
	rep := func(v uint32, n int) []uint32 { return slices.Repeat([]uint32{v}, n) }
	for _, c := range []struct {
		name   string
		tracks []Track
		max    time.Duration
		in     []in
		want   [][]shape
	}{
		{
			name:   "key frames cut",
			tracks: []Track{testVP9},
			in:     video(7, 3, 40*ms),
			// The last sample of a fragment cut by a key frame lasts
			// until it; the very last one repeats the previous duration.
			want: [][]shape{{{1, 0, rep(3600, 3)}}, {{1, 3 * 3600, rep(3600, 3)}}, {{1, 6 * 3600, []uint32{3600}}}},
		},
		{
			name:   "max duration cuts",
			tracks: []Track{testVP9},
			max:    100 * ms,
			in:     video(6, 100, 40*ms),
			want:   [][]shape{{{1, 0, rep(3600, 3)}}, {{1, 3 * 3600, rep(3600, 3)}}},
		},
		{
			name:   "audio alone: 1 s",
			tracks: []Track{testOpus1},
			in:     audio(1, 120, 20*ms),
			want:   [][]shape{{{1, 0, rep(960, 50)}}, {{1, 48000, rep(960, 50)}}, {{1, 96000, rep(960, 20)}}},
		},
		{
			name:   "last sample uses dur",
			tracks: []Track{testOpus1},
			in:     []in{{1, 0, 20 * ms, true, 1}, {1, 20 * ms, 60 * ms, true, 1}},
			want:   [][]shape{{{1, 0, []uint32{960, 2880}}}},
		},
		{
			name:   "first sample without dur",
			tracks: []Track{testOpus1},
			in:     []in{{1, 0, 0, true, 1}},
			want:   [][]shape{{{1, 0, []uint32{0}}}},
		},
		{
			name:   "interleaved, tracks in order",
			tracks: []Track{testVP9, testOpus},
			in: []in{
				{2, 0, 20 * ms, true, 3}, {1, 0, 0, true, 100}, {2, 20 * ms, 20 * ms, true, 3},
				{1, 33 * ms, 0, false, 50}, {2, 40 * ms, 20 * ms, true, 3}, {1, 66 * ms, 0, true, 90},
				{2, 60 * ms, 20 * ms, true, 3},
			},
			want: [][]shape{
				{{1, 0, []uint32{2970, 2970}}, {2, 0, rep(960, 3)}},
				{{1, 5940, []uint32{2970}}, {2, 2880, []uint32{960}}},
			},
		},
		{
			name:   "size cuts",
			tracks: []Track{testVP9},
			in:     []in{{1, 0, 0, true, 7 << 20}, {1, 10 * ms, 0, false, 7 << 20}, {1, 20 * ms, 0, false, 7 << 20}},
			want:   [][]shape{{{1, 0, []uint32{900, 900}}}, {{1, 1800, []uint32{900}}}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			w, err := NewWriter(&b, Options{Tracks: c.tracks, MaxFragmentDuration: c.max})
			if err != nil {
				t.Fatal(err)
			}
			data := map[uint32][][]byte{}
			for i, s := range c.in {
				p := bytes.Repeat([]byte{byte(i)}, s.size)
				if err := w.WriteSample(s.track, s.ts, s.dur, s.key, p); err != nil {
					t.Fatal(err)
				}
				data[s.track] = append(data[s.track], bytes.Clone(p))
				clear(p) // the writer copied it
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			_, frags, tail := parseOutput(t, b.Bytes())
			if len(tail) > 0 {
				t.Errorf("boxes after the fragments of a live stream: %v", tail)
			}
			var got [][]shape
			samples := map[uint32][][]byte{}
			for i, f := range frags {
				if f.seq != uint32(i+1) {
					t.Errorf("fragment %d: sequence number %d", i, f.seq)
				}
				var fs []shape
				for _, tr := range f.trafs {
					fs = append(fs, shape{tr.id, tr.tfdt, tr.durs})
					samples[tr.id] = append(samples[tr.id], tr.samples...)
					video := tr.id == 1 && c.tracks[0].Type == TrackTypeVideo
					checkFlags(t, tr, video, c.in)
				}
				got = append(got, fs)
			}
			if !equalShapes(got, c.want) {
				t.Errorf("fragments\n%v, want\n%v", got, c.want)
			}
			for id, want := range data {
				if !slices.EqualFunc(samples[id], want, bytes.Equal) {
					t.Errorf("track %d: the samples read back differ", id)
				}
			}
		})
	}
}

// checkFlags checks a traf's sample flags: audio all sync by default;
// video non-sync by default, and a key frame first with first-sample
// flags.
func checkFlags(t *testing.T, tr traf, video bool, in []in) {
	t.Helper()
	if !video {
		if tr.defaultFlags != flagsSync || tr.trunFlags != 0x301 {
			t.Errorf("audio traf: default flags %x, trun flags %x", tr.defaultFlags, tr.trunFlags)
		}
		return
	}
	if tr.defaultFlags != flagsNonSync {
		t.Errorf("video default flags %x", tr.defaultFlags)
	}
	key := false
	for _, s := range in {
		if s.track == tr.id && toUnits(s.ts, VideoTimescale) == int64(tr.tfdt) {
			key = s.key
			break
		}
	}
	switch {
	case key && (tr.trunFlags != 0x305 || tr.firstFlags != flagsSync):
		t.Errorf("key frame traf: trun flags %x, first sample flags %x", tr.trunFlags, tr.firstFlags)
	case !key && tr.trunFlags != 0x301:
		t.Errorf("traf without key frame: trun flags %x", tr.trunFlags)
	}
}

func equalShapes(a, b [][]shape) bool {
	return slices.EqualFunc(a, b, func(x, y []shape) bool {
		return slices.EqualFunc(x, y, func(p, q shape) bool {
			return p.id == q.id && p.tfdt == q.tfdt && slices.Equal(p.durs, q.durs)
		})
	})
}

// seekBuffer is an in-memory io.WriteSeeker.
type seekBuffer struct {
	b   []byte
	pos int
}

func (s *seekBuffer) Write(p []byte) (int, error) {
	if n := s.pos + len(p); n > len(s.b) {
		s.b = append(s.b, make([]byte, n-len(s.b))...)
	}
	copy(s.b[s.pos:], p)
	s.pos += len(p)
	return len(p), nil
}

func (s *seekBuffer) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += int64(s.pos)
	case io.SeekEnd:
		off += int64(len(s.b))
	}
	if off < 0 {
		return 0, errors.New("negative position")
	}
	s.pos = int(off)
	return off, nil
}

func TestSeekableFinish(t *testing.T) {
	for _, prefix := range []int{0, 100} {
		s := &seekBuffer{}
		s.Write(make([]byte, prefix))
		w, err := NewWriter(s, Options{Tracks: []Track{testVP9, testOpus}, Seekable: true})
		if err != nil {
			t.Fatal(err)
		}
		// 3 s of 30 fps video with key frames every second, and 3.02 s
		// of Opus, interleaved.
		for v, a := 0, 0; v < 90 || a < 151; {
			vts, ats := time.Duration(v)*time.Second/30, time.Duration(a)*20*time.Millisecond
			if v < 90 && (a == 151 || vts <= ats) {
				w.WriteSample(1, vts, 0, v%30 == 0, []byte{byte(v)})
				v++
			} else {
				w.WriteSample(2, ats, 20*time.Millisecond, true, []byte{byte(a)})
				a++
			}
		}
		if got, want := w.Duration(), 3020*time.Millisecond; got != want {
			t.Errorf("Duration before Close = %v, want %v", got, want)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if s.pos != len(s.b) {
			t.Errorf("position %d after Close, want the end %d", s.pos, len(s.b))
		}
		out := s.b[prefix:]
		if int64(len(out)) != w.Size() {
			t.Errorf("Size %d, wrote %d", w.Size(), len(out))
		}
		r, err := Probe(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if r.Duration != 3020*time.Millisecond || r.DurationSource != "mvhd" || !r.Seekable || len(r.Problems) > 0 {
			t.Errorf("Probe: %+v", r)
		}
		if d := r.Tracks[0].Duration; d != 3*time.Second {
			t.Errorf("video duration %v", d)
		}
		var mvhd, mehd, tkhd, mdhd []uint64
		var tfra [][]uint64
		var mfroSize uint32
		var moofs []uint64
		var walk func(b []byte) bool
		walk = func(b []byte) bool {
			return eachBox(b, func(typ string, body []byte) bool {
				switch typ {
				case "moov", "trak", "mdia", "mvex", "mfra":
					walk(body)
				case "mvhd":
					mvhd = append(mvhd, u64(body, 24))
				case "mehd":
					mehd = append(mehd, u64(body, 4))
				case "tkhd":
					tkhd = append(tkhd, u64(body, 28))
				case "mdhd":
					mdhd = append(mdhd, u64(body, 24))
				case "tfra":
					var times []uint64
					n := int(u32(body, 12))
					for i := range n {
						e := body[16+19*i:]
						times = append(times, u64(e, 0), u64(e, 8), uint64(e[16]))
					}
					tfra = append(tfra, times)
				case "mfro":
					mfroSize = u32(body, 4)
				}
				return true
			})
		}
		walk(out)
		for off := 0; off < len(out); off += int(u32(out, off)) {
			if string(out[off+4:off+8]) == "moof" {
				moofs = append(moofs, uint64(off))
			}
		}
		if !slices.Equal(mvhd, []uint64{3020}) || !slices.Equal(mehd, []uint64{3020}) ||
			!slices.Equal(tkhd, []uint64{3000, 3020}) || !slices.Equal(mdhd, []uint64{270000, 151 * 960}) {
			t.Errorf("durations: mvhd %v, mehd %v, tkhd %v, mdhd %v", mvhd, mehd, tkhd, mdhd)
		}
		if last := u32(out, len(out)-4); mfroSize != last || int(u32(out, len(out)-int(last))) != int(last) ||
			string(out[len(out)-int(last)+4:][:4]) != "mfra" {
			t.Errorf("mfro says %d", mfroSize)
		}
		// The video fragments start at the key frames: 0, 1 and 2 s. The
		// audio traf of each is the second one.
		if len(moofs) != 3 || len(tfra) != 2 {
			t.Fatalf("%d moofs, %d tfra", len(moofs), len(tfra))
		}
		wantV := []uint64{0, moofs[0], 1, 90000, moofs[1], 1, 180000, moofs[2], 1}
		if !slices.Equal(tfra[0], wantV) {
			t.Errorf("video tfra %v, want %v", tfra[0], wantV)
		}
		if len(tfra[1]) != 9 || tfra[1][1] != moofs[0] || tfra[1][2] != 2 {
			t.Errorf("audio tfra %v", tfra[1])
		}
	}
}

func TestDisableSeeking(t *testing.T) {
	s := &seekBuffer{}
	w, err := NewWriter(s, Options{Tracks: []Track{testOpus1}, Seekable: true})
	if err != nil {
		t.Fatal(err)
	}
	w.WriteSample(1, 0, 20*time.Millisecond, true, []byte{1})
	w.Flush()
	w.DisableSeeking()
	w.WriteSample(1, 20*time.Millisecond, 20*time.Millisecond, true, []byte{2})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	init, frags, tail := parseOutput(t, s.b)
	if len(tail) > 0 || len(frags) != 2 || !slices.Equal(init, []string{"ftyp", "moov"}) {
		t.Errorf("init %v, %d fragments, then %v", init, len(frags), tail)
	}
	r, _ := Probe(bytes.NewReader(s.b))
	if r.Duration != 40*time.Millisecond || r.DurationSource != "samples" || r.Seekable {
		t.Errorf("Probe: %+v", r)
	}
}

func TestFlushEmpty(t *testing.T) {
	var b bytes.Buffer
	w, _ := NewWriter(&b, Options{Tracks: []Track{testOpus1}})
	n := b.Len()
	if err := w.Flush(); err != nil || b.Len() != n {
		t.Errorf("Flush with nothing pending: %v, wrote %d bytes", err, b.Len()-n)
	}
	if err := w.Close(); err != nil || b.Len() != n {
		t.Errorf("Close with nothing pending: %v, wrote %d bytes", err, b.Len()-n)
	}
	if w.Duration() != 0 {
		t.Errorf("Duration %v", w.Duration())
	}
}

func TestDuration(t *testing.T) {
	var b bytes.Buffer
	w, _ := NewWriter(&b, Options{Tracks: []Track{testVP9, testOpus}})
	for _, c := range []struct {
		track   uint32
		ts, dur time.Duration
		want    time.Duration
	}{
		{1, 0, 0, 0},
		{1, 100 * time.Millisecond, 0, 200 * time.Millisecond}, // previous duration
		{2, 0, 20 * time.Millisecond, 200 * time.Millisecond},
		{1, 150 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond}, // its own
		{2, 300 * time.Millisecond, 20 * time.Millisecond, 320 * time.Millisecond},
	} {
		if err := w.WriteSample(c.track, c.ts, c.dur, true, []byte{1}); err != nil {
			t.Fatal(err)
		}
		if got := w.Duration(); got != c.want {
			t.Errorf("after %v on track %d: Duration %v, want %v", c.ts, c.track, got, c.want)
		}
	}
	w.Close()
	if got := w.Duration(); got != 320*time.Millisecond {
		t.Errorf("after Close: Duration %v", got)
	}
}

// TestSurroundOpus checks the channel mapping table of dOps for more than
// two channels.
func TestSurroundOpus(t *testing.T) {
	var b bytes.Buffer
	NewWriter(&b, Options{Tracks: []Track{{ID: 1, Type: TrackTypeAudio, Codec: CodecOpus, Channels: 6, PreSkip: 312, SampleRate: 44100}}})
	i := bytes.Index(b.Bytes(), []byte("dOps"))
	want := []byte{0, 6, 0x01, 0x38, 0, 0, 0xac, 0x44, 0, 0, 1, 4, 2, 0, 4, 1, 2, 3, 5}
	if got := b.Bytes()[i+4 : i-4+int(u32(b.Bytes(), i-4))]; !bytes.Equal(got, want) {
		t.Errorf("dOps %x, want %x", got, want)
	}
}

func TestPictureSize(t *testing.T) {
	hdr := vp9.Header{Width: 352, Height: 288, BitDepth: 10, Profile: 2, SubsamplingX: true, SubsamplingY: true, ColorRange: 1}
	var b bytes.Buffer
	NewWriter(&b, Options{Tracks: []Track{{ID: 1, Type: TrackTypeVideo, Codec: CodecVP09, VP9: &hdr}}})
	out := b.Bytes()
	i := bytes.Index(out, []byte("stsd")) + 16 // the sample entry's type
	if string(out[i:i+4]) != "vp09" {
		t.Fatalf("sample entry %q", out[i:i+4])
	}
	if w, h := u16(out, i+4+24), u16(out, i+4+26); w != 352 || h != 288 {
		t.Errorf("vp09 entry %dx%d", w, h)
	}
	i = bytes.Index(out, []byte("vpcC"))
	if got, want := out[i+4:i+16], []byte{1, 0, 0, 0, 2, 20, 10<<4 | 1<<1 | 1, 2, 2, 2, 0, 0}; !bytes.Equal(got, want) {
		t.Errorf("vpcC %x, want %x", got, want)
	}
	i = bytes.Index(out, []byte("tkhd"))
	if w, h := u32(out, i+4+88), u32(out, i+4+92); w != 352<<16 || h != 288<<16 {
		t.Errorf("tkhd %x x %x", w, h)
	}
}

func TestWriteSampleAllocs(t *testing.T) {
	w, _ := NewWriter(io.Discard, Options{Tracks: []Track{testVP9, testOpus}})
	frame, pkt := make([]byte, 1000), make([]byte, 100)
	i := 0
	write := func() {
		ts := time.Duration(i) * time.Second / 30
		w.WriteSample(1, ts, 0, i%30 == 0, frame)
		w.WriteSample(2, ts, 0, true, pkt)
		i++
	}
	for range 100 { // grow the buffers
		write()
	}
	if n := testing.AllocsPerRun(1000, write); n != 0 {
		t.Errorf("%v allocations per sample pair", n)
	}
}
