package webm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/ebml"
)

// Hand-made EBML for the Reader tests.

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// el is a known-size element.
func el(id uint32, parts ...[]byte) []byte {
	body := cat(parts...)
	return append(ebml.AppendMaster(nil, id, uint64(len(body))), body...)
}

// elUnknown is an unknown-size element header followed by parts.
func elUnknown(id uint32, parts ...[]byte) []byte {
	return cat(append(ebml.AppendID(nil, id), ebml.UnknownSize8[:]...), cat(parts...))
}

func u(id uint32, v uint64) []byte { return ebml.AppendUint(nil, id, v) }

func blockBody(track uint64, rel int16, flags byte, payload []byte) []byte {
	b := ebml.AppendSize(nil, track)
	b = append(b, byte(uint16(rel)>>8), byte(rel), flags)
	return append(b, payload...)
}

func simpleBlock(track uint64, rel int16, flags byte, payload []byte) []byte {
	return el(idSimpleBlock, blockBody(track, rel, flags, payload))
}

// blockGroup is a BlockGroup with a BlockDuration when dur >= 0 and a
// ReferenceBlock per ref.
func blockGroup(track uint64, rel int16, flags byte, payload []byte, dur int64, refs ...int64) []byte {
	parts := [][]byte{el(idBlock, blockBody(track, rel, flags, payload))}
	if dur >= 0 {
		parts = append(parts, u(idBlockDuration, uint64(dur)))
	}
	for _, r := range refs {
		parts = append(parts, ebml.AppendInt(nil, idReferenceBlock, r))
	}
	return el(idBlockGroup, parts...)
}

// Lacing headers: the flags byte is the caller's; these return the lace
// count byte, the sizes and the frames.
func xiphLace(frames ...[]byte) []byte {
	b := []byte{byte(len(frames) - 1)}
	for _, f := range frames[:len(frames)-1] {
		n := len(f)
		for ; n >= 255; n -= 255 {
			b = append(b, 255)
		}
		b = append(b, byte(n))
	}
	return cat(b, cat(frames...))
}

func ebmlLace(frames ...[]byte) []byte {
	b := []byte{byte(len(frames) - 1)}
	b = ebml.AppendSize(b, uint64(len(frames[0])))
	for i := 1; i < len(frames)-1; i++ {
		d := int64(len(frames[i]) - len(frames[i-1]))
		// Signed vint: the shortest width whose range holds d.
		n := 1
		for d < -(1<<(7*n-1)-1) || d > 1<<(7*n-1)-1 {
			n++
		}
		b = ebml.AppendSizeN(b, uint64(d+(1<<(7*n-1)-1)), n)
	}
	return cat(b, cat(frames...))
}

func fixedLace(frames ...[]byte) []byte {
	return cat([]byte{byte(len(frames) - 1)}, cat(frames...))
}

func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

var (
	testVideo = TrackEntry{Number: 1, Type: TrackTypeVideo, CodecID: "V_VP8", PixelWidth: 64, PixelHeight: 48}
	// testPCM has a DefaultDuration of 20 ms: 160 samples at 8 kHz.
	testPCM = TrackEntry{Number: 2, Type: TrackTypeAudio, CodecID: "A_PCM/INT/LIT", SamplingFrequency: 8000,
		Channels: 1, BitDepth: 16, DefaultDuration: 20 * time.Millisecond}
	// testOpus has no DefaultDuration.
	testOpus = TrackEntry{Number: 3, Type: TrackTypeAudio, CodecID: "A_OPUS", CodecPrivate: opusHead,
		SamplingFrequency: 48000, Channels: 2}
)

// liveHeader is a Writer's live header (unknown-size Segment) for tracks.
func liveHeader(t testing.TB, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := NewWriter(&buf, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// cluster is an unknown-size Cluster at timestamp ts.
func cluster(ts uint64, blocks ...[]byte) []byte {
	return elUnknown(idCluster, u(idTimestamp, ts), cat(blocks...))
}

type wantFrame struct {
	track    uint64
	ts, dur  time.Duration
	key      bool
	data     []byte
	inv, dis bool
}

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

func checkFrames(t *testing.T, got []Frame, want []wantFrame) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d frames, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Track != w.track || g.Timestamp != w.ts || g.Duration != w.dur || g.KeyFrame != w.key ||
			g.Invisible != w.inv || g.Discardable != w.dis || !bytes.Equal(g.Data, w.data) {
			t.Errorf("frame %d: track %d ts %v dur %v key %v inv %v dis %v %d bytes; want track %d ts %v dur %v key %v inv %v dis %v %d bytes",
				i, g.Track, g.Timestamp, g.Duration, g.KeyFrame, g.Invisible, g.Discardable, len(g.Data),
				w.track, w.ts, w.dur, w.key, w.inv, w.dis, len(w.data))
		}
	}
}

// readerCase is a hand-made file and the frames it holds.
type readerCase struct {
	name   string
	file   func(t testing.TB) []byte
	frames []wantFrame
	gaps   int // number of Gaps
}

var (
	p300, p5, p0, p70 = payload(300, 1), payload(5, 2), payload(0, 3), payload(70, 4)
	p10, p500, p3     = payload(10, 5), payload(500, 6), payload(3, 7)
	p7a, p7b, p7c     = payload(7, 8), payload(7, 9), payload(7, 10)
	k1, d1, d2        = []byte{0x10, 1, 2}, []byte{0x11, 3}, []byte{0x11, 4}
)

var avpTracks = Options{Tracks: []TrackEntry{testVideo, testPCM, testOpus}}

var readerCases = []readerCase{
	{
		name: "simple blocks",
		file: func(t testing.TB) []byte {
			return cat(liveHeader(t, avpTracks),
				cluster(1000, simpleBlock(1, 0, 0x80, k1), simpleBlock(3, -5, 0x80, p5),
					simpleBlock(1, 33, 0x08, d1), simpleBlock(1, 66, 0x01, d2)),
				cluster(2000, simpleBlock(2, 0, 0x80, p10)))
		},
		frames: []wantFrame{
			{track: 1, ts: ms(1000), key: true, data: k1},
			{track: 3, ts: ms(995), key: true, data: p5},
			{track: 1, ts: ms(1033), data: d1, inv: true},
			{track: 1, ts: ms(1066), data: d2, dis: true},
			{track: 2, ts: ms(2000), dur: ms(20), key: true, data: p10},
		},
	},
	{
		name: "Xiph lacing",
		file: func(t testing.TB) []byte {
			return cat(liveHeader(t, avpTracks),
				cluster(0, simpleBlock(2, 100, 0x82, xiphLace(p300, p5, p0, p70)),
					simpleBlock(3, 7, 0x82, xiphLace(p500, p3))))
		},
		frames: []wantFrame{
			{track: 2, ts: ms(100), dur: ms(20), key: true, data: p300},
			{track: 2, ts: ms(120), dur: ms(20), key: true, data: p5},
			{track: 2, ts: ms(140), dur: ms(20), key: true, data: p0},
			{track: 2, ts: ms(160), dur: ms(20), key: true, data: p70},
			// No DefaultDuration, no BlockDuration: all at the block time.
			{track: 3, ts: ms(7), key: true, data: p500},
			{track: 3, ts: ms(7), key: true, data: p3},
		},
	},
	{
		name: "EBML lacing",
		file: func(t testing.TB) []byte {
			return cat(liveHeader(t, avpTracks),
				cluster(5, simpleBlock(2, 0, 0x86, ebmlLace(p10, p500, p3, p70, p0, p300))))
		},
		frames: []wantFrame{
			{track: 2, ts: ms(5), dur: ms(20), key: true, data: p10},
			{track: 2, ts: ms(25), dur: ms(20), key: true, data: p500},
			{track: 2, ts: ms(45), dur: ms(20), key: true, data: p3},
			{track: 2, ts: ms(65), dur: ms(20), key: true, data: p70},
			{track: 2, ts: ms(85), dur: ms(20), key: true, data: p0},
			{track: 2, ts: ms(105), dur: ms(20), key: true, data: p300},
		},
	},
	{
		name: "fixed-size lacing",
		file: func(t testing.TB) []byte {
			return cat(liveHeader(t, avpTracks),
				cluster(0, simpleBlock(2, 40, 0x84, fixedLace(p7a, p7b, p7c))))
		},
		frames: []wantFrame{
			{track: 2, ts: ms(40), dur: ms(20), key: true, data: p7a},
			{track: 2, ts: ms(60), dur: ms(20), key: true, data: p7b},
			{track: 2, ts: ms(80), dur: ms(20), key: true, data: p7c},
		},
	},
	{
		name: "BlockGroups",
		file: func(t testing.TB) []byte {
			return cat(liveHeader(t, avpTracks),
				cluster(0,
					blockGroup(1, 0, 0, k1, 40),
					blockGroup(1, 40, 0x08, d1, -1, -40),
					blockGroup(3, 10, 0, p5, 25),
					// A BlockDuration shared out over laced frames.
					blockGroup(3, 50, 0x04, fixedLace(p7a, p7b, p7c), 10),
					// BlockDuration wins over DefaultDuration.
					blockGroup(2, 90, 0x02, xiphLace(p3, p10), 30)))
		},
		frames: []wantFrame{
			{track: 1, ts: 0, dur: ms(40), key: true, data: k1},
			{track: 1, ts: ms(40), data: d1, inv: true},
			{track: 3, ts: ms(10), dur: ms(25), key: true, data: p5},
			{track: 3, ts: ms(50), dur: ms(3), key: true, data: p7a},
			{track: 3, ts: ms(53), dur: ms(3), key: true, data: p7b},
			{track: 3, ts: ms(56), dur: ms(4), key: true, data: p7c},
			{track: 2, ts: ms(90), dur: ms(15), key: true, data: p3},
			{track: 2, ts: ms(105), dur: ms(15), key: true, data: p10},
		},
	},
	{
		name: "Void CRC-32 Tags SeekHead and Cues anywhere",
		file: func(t testing.TB) []byte {
			tags := el(idTags, el(0x7373, el(0x67C8, el(0x45A3, []byte("TITLE")), el(0x4487, []byte("x")))))
			cues := el(idCues, el(idCuePoint, u(idCueTime, 1000),
				el(idCueTrackPositions, u(idCueTrack, 1), u(idCueClusterPosition, 5))))
			seek := el(idSeekHead, el(idSeek, el(idSeekID, []byte{0x1C, 0x53, 0xBB, 0x6B}), u(idSeekPosition, 9)))
			return cat(liveHeader(t, avpTracks), tags, cues, ebml.AppendVoid(nil, 20),
				elUnknown(idCluster, el(idCRC32, []byte{1, 2, 3, 4}), u(idTimestamp, 1000), ebml.AppendVoid(nil, 3),
					simpleBlock(1, 0, 0x80, k1), el(idCRC32, []byte{1, 2, 3, 4}), u(idPosition, 77), ebml.AppendVoid(nil, 9),
					simpleBlock(1, 30, 0, d1)),
				tags, seek, ebml.AppendVoid(nil, 2),
				cluster(2000, simpleBlock(1, 0, 0, d2)), cues, tags)
		},
		frames: []wantFrame{
			{track: 1, ts: ms(1000), key: true, data: k1},
			{track: 1, ts: ms(1030), data: d1},
			{track: 1, ts: ms(2000), data: d2},
		},
	},
	{
		name: "blocks after a level 1 element in an unknown-size Cluster",
		file: func(t testing.TB) []byte {
			tags := el(idTags, el(0x7373))
			return cat(liveHeader(t, avpTracks),
				cluster(1000, simpleBlock(1, 0, 0x80, k1), tags, simpleBlock(1, 30, 0, d1)),
				el(idCluster, u(idTimestamp, 2000), simpleBlock(1, 0, 0, d2)), simpleBlock(1, 40, 0, d1))
		},
		frames: []wantFrame{
			{track: 1, ts: ms(1000), key: true, data: k1},
			{track: 1, ts: ms(1030), data: d1},
			{track: 1, ts: ms(2000), data: d2},
			{track: 1, ts: ms(2040), data: d1},
		},
	},
	{
		name: "known sizes",
		file: func(t testing.TB) []byte {
			h := liveHeader(t, avpTracks)
			body := cat(h[bytes.Index(h, []byte{0x18, 0x53, 0x80, 0x67})+12:],
				el(idCluster, u(idTimestamp, 0), simpleBlock(1, 0, 0x80, k1), simpleBlock(1, 33, 0, d1)),
				el(idCluster, u(idTimestamp, 66), simpleBlock(1, 0, 0, d2)))
			return cat(h[:bytes.Index(h, []byte{0x18, 0x53, 0x80, 0x67})], el(idSegment, body),
				[]byte("trailing bytes after the Segment are not read"))
		},
		frames: []wantFrame{
			{track: 1, ts: 0, key: true, data: k1},
			{track: 1, ts: ms(33), data: d1},
			{track: 1, ts: ms(66), data: d2},
		},
	},
	{
		name: "TimestampScale 100 us",
		file: func(t testing.TB) []byte {
			return cat(liveHeader(t, Options{Tracks: avpTracks.Tracks, TimestampScale: 100 * time.Microsecond}),
				cluster(20000, simpleBlock(1, 0, 0x80, k1), simpleBlock(1, 333, 0, d1)),
				cluster(20666, simpleBlock(2, 0, 0x84, fixedLace(p7a, p7b))))
		},
		frames: []wantFrame{
			{track: 1, ts: ms(2000), key: true, data: k1},
			{track: 1, ts: 2033300 * time.Microsecond, data: d1},
			{track: 2, ts: 2066600 * time.Microsecond, dur: ms(20), key: true, data: p7a},
			{track: 2, ts: 2086600 * time.Microsecond, dur: ms(20), key: true, data: p7b},
		},
	},
	{
		name: "garbage between and inside Clusters",
		file: func(t testing.TB) []byte {
			return cat(liveHeader(t, avpTracks),
				cluster(0, simpleBlock(1, 0, 0x80, k1)),
				[]byte("\x00\x00 this is not EBML \x1f\x43\xb6\x75 nor is this"),
				cluster(100, simpleBlock(1, 0, 0, d1), []byte{0x42, 0x00, 0x00}, simpleBlock(1, 10, 0, d2)),
				cluster(200, simpleBlock(1, 0, 0, d2),
					// A SimpleBlock whose size runs past its known-size Cluster.
					el(idCluster, u(idTimestamp, 300), simpleBlock(1, 5, 0, d1))[:10], simpleBlock(1, 5, 0, d1)),
				cluster(400, simpleBlock(1, 0, 0, d1)))
		},
		frames: []wantFrame{
			{track: 1, ts: 0, key: true, data: k1},
			{track: 1, ts: ms(100), data: d1},
			{track: 1, ts: ms(200), data: d2},
			{track: 1, ts: ms(400), data: d1},
		},
		gaps: 3,
	},
	{
		name: "a second file after an unknown-size Segment",
		file: func(t testing.TB) []byte {
			h := liveHeader(t, avpTracks)
			return cat(h, cluster(0, simpleBlock(1, 0, 0x80, k1)), h, cluster(0, simpleBlock(1, 0, 0x80, k1)))
		},
		frames: []wantFrame{{track: 1, ts: 0, key: true, data: k1}},
	},
	{
		name: "bad laces are skipped",
		file: func(t testing.TB) []byte {
			return cat(liveHeader(t, avpTracks),
				cluster(0,
					simpleBlock(2, 0, 0x82, []byte{2, 255, 255}),   // Xiph sizes past the end
					simpleBlock(2, 0, 0x84, []byte{2, 1, 2, 3, 4}), // 4 bytes in 3 fixed laces
					simpleBlock(2, 0, 0x86, []byte{1, 0x40}),       // EBML size cut
					simpleBlock(2, 0, 0x86, []byte{2, 0x81, 0x00, 1, 2}),
					simpleBlock(2, 0, 0x82, nil),            // no lace count
					el(idSimpleBlock, []byte{0x82, 0}),      // no flags
					el(idBlockGroup, u(idBlockDuration, 5)), // no Block
					el(idBlockGroup, el(idBlock, blockBody(1, 0, 0, k1)), el(idBlock, blockBody(1, 0, 0, k1))),
					simpleBlock(1, 1, 0x80, k1)))
		},
		frames: []wantFrame{{track: 1, ts: ms(1), key: true, data: k1}},
		gaps:   8,
	},
}

func TestReaderCases(t *testing.T) {
	for _, c := range readerCases {
		t.Run(c.name, func(t *testing.T) {
			b := c.file(t)
			for _, mode := range []string{"whole", "one byte", "half"} {
				var src io.Reader = bytes.NewReader(b)
				switch mode {
				case "one byte":
					src = iotest.OneByteReader(src)
				case "half":
					src = iotest.HalfReader(src)
				}
				r, err := NewReader(src)
				if err != nil {
					t.Fatal(err)
				}
				var frames []Frame
				for {
					f, err := r.ReadFrame()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("%s: frame %d: %v", mode, len(frames), err)
					}
					if f.BlockOffset <= 0 || f.BlockOffset >= int64(len(b)) {
						t.Errorf("BlockOffset %d", f.BlockOffset)
					} else if id, _, _ := ebml.ReadID(b[f.BlockOffset:]); id != idSimpleBlock && id != idBlock {
						t.Errorf("BlockOffset %d points to %X", f.BlockOffset, id)
					}
					f.Data = bytes.Clone(f.Data)
					frames = append(frames, f)
				}
				checkFrames(t, frames, c.frames)
				if len(r.Gaps()) != c.gaps {
					t.Errorf("%s: gaps %v, want %d", mode, r.Gaps(), c.gaps)
				}
				if _, err := r.ReadFrame(); err != io.EOF {
					t.Errorf("ReadFrame after the end: %v", err)
				}
			}
		})
	}
}

func TestReaderHeader(t *testing.T) {
	opts := Options{DocType: "matroska", MuxingApp: "mux", WritingApp: "app", Seekable: true,
		Tracks: []TrackEntry{testVideo, testOpus, testPCM}, TimestampScale: 10 * time.Microsecond}
	m := &memFile{}
	w, err := NewWriter(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(t, w, []frame{{1, 0, true, k1}, {3, 0, true, p5}, {1, 2 * time.Second, true, d1}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(m.b))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	if h.DocType != "matroska" || h.DocTypeVersion != 4 || h.DocTypeReadVersion != 2 || h.TimestampScale != 10000 ||
		!h.HasDuration || h.Duration != 4*time.Second || h.MuxingApp != "mux" || h.WritingApp != "app" ||
		h.SegmentSize != int64(len(m.b))-h.SegmentOffset || h.SegmentOffset <= 0 {
		t.Errorf("header %+v", h)
	}
	for i, want := range opts.Tracks {
		got := h.Tracks[i]
		got.Raw = nil
		want.UID = want.Number
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("track %d:\n got %+v\nwant %+v", i, got, want)
		}
		if !bytes.Equal(appendTrackEntry(nil, &want), el(idTrackEntry, h.Tracks[i].Raw)) {
			t.Errorf("track %d: Raw differs from the entry written", i)
		}
	}
	for {
		if _, err := r.ReadFrame(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	// The writer made one cue per video key frame.
	cues := r.Cues()
	if len(cues) != 2 || cues[1].Time != 2*time.Second || cues[1].Track != 1 || cues[0].ClusterPosition == 0 {
		t.Errorf("cues %+v", cues)
	}
	for _, c := range cues {
		off := h.SegmentOffset + int64(c.ClusterPosition)
		if !bytes.HasPrefix(m.b[off:], clusterMagic) {
			t.Errorf("cue %+v does not point to a Cluster", c)
		}
	}
}

func TestReaderErrors(t *testing.T) {
	good := cat(liveHeader(t, avpTracks), cluster(0, simpleBlock(1, 0, 0x80, k1)))
	bad := func(b []byte, at int, v ...byte) []byte {
		c := bytes.Clone(b)
		copy(c[at:], v)
		return c
	}
	h := liveHeader(t, avpTracks)
	segAt := bytes.Index(h, []byte{0x18, 0x53, 0x80, 0x67})
	for _, c := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"one byte", []byte{0x1A}, ErrTruncated},
		{"EBML ID only", []byte{0x1A, 0x45, 0xDF, 0xA3}, ErrTruncated},
		{"text", []byte("hello, world"), ErrNotWebM},
		{"short text", []byte("hi"), ErrNotWebM},
		{"Ogg", []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"), ErrNotWebM},
		{"DocType avi", bytes.Replace(good, []byte("webm"), []byte("avi\x00"), 1), ErrNotWebM},
		{"no Segment", cat(h[:segAt], el(idInfo)), ErrNotWebM},
		{"unknown-size EBML header", bad(good, 4, 0xFF), ErrNotWebM},
		{"cut in the EBML header", good[:20], ErrTruncated},
		{"cut in the Segment header", good[:segAt+6], ErrTruncated},
		{"cut in Tracks", h[:len(h)-5], ErrTruncated},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(c.in))
			if !errors.Is(err, c.want) {
				t.Fatalf("NewReader: %v, want %v", err, c.want)
			}
			var te *TruncatedError
			if errors.As(err, &te) {
				if te.Offset != int64(len(c.in)) || !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("TruncatedError %+v for %d bytes", te, len(c.in))
				}
			}
		})
	}
	// A header that ends at an element boundary is whole: no frames.
	r, err := NewReader(bytes.NewReader(h))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadFrame(); err != io.EOF {
		t.Errorf("ReadFrame on a header only: %v", err)
	}
	// Read errors are passed on.
	errRead := errors.New("read error")
	if _, err := NewReader(iotest.ErrReader(errRead)); err != errRead {
		t.Errorf("NewReader: %v", err)
	}
	r, err = NewReader(io.MultiReader(bytes.NewReader(good[:len(good)-2]), iotest.ErrReader(errRead)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadFrame(); err != errRead {
		t.Errorf("ReadFrame: %v", err)
	}
	if _, err := r.ReadFrame(); err != errRead {
		t.Errorf("ReadFrame is not sticky: %v", err)
	}
}

// TestReaderTruncated cuts files everywhere and checks the error and the
// frames before it.
func TestReaderTruncated(t *testing.T) {
	big := payload(3<<20, 1) // larger than the read buffer
	live := cat(liveHeader(t, avpTracks),
		cluster(0, simpleBlock(1, 0, 0x80, k1), simpleBlock(2, 0, 0x80, p300)),
		cluster(1000, simpleBlock(1, 0, 0x80, big), blockGroup(1, 40, 0, d1, 40, -40)))
	m := &memFile{}
	w, err := NewWriter(m, Options{Tracks: avpTracks.Tracks, Seekable: true})
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(t, w, []frame{{1, 0, true, k1}, {2, 0, true, p300}, {1, time.Second, true, big}, {1, 1040 * time.Millisecond, false, d1}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		b     []byte
		known bool
	}{{"live", live, false}, {"finished", m.b, true}} {
		t.Run(c.name, func(t *testing.T) {
			_, all, err := readAll(t, c.b)
			if err != nil || len(all) != 4 {
				t.Fatalf("%d frames, %v", len(all), err)
			}
			// Block element starts and ends.
			type span struct{ start, end int64 }
			var blocks []span
			for _, f := range all {
				start := f.BlockOffset
				if c.b[start] == idBlock { // in a BlockGroup
					for k := 2; k <= 9; k++ {
						if id, _, hl, _ := ebml.ReadElementHeader(c.b[start-int64(k):]); id == idBlockGroup && hl == k {
							start -= int64(k)
							break
						}
					}
				}
				_, size, hl, _ := ebml.ReadElementHeader(c.b[start:])
				blocks = append(blocks, span{start, start + int64(hl) + int64(size)})
			}
			cuts := []int64{}
			for _, s := range blocks {
				cuts = append(cuts, s.start, s.start+1, s.start+3, (s.start+s.end)/2, s.end-1)
			}
			for _, cut := range cuts {
				_, frames, err := readAll(t, c.b[:cut])
				whole := 0
				for _, s := range blocks {
					if s.end <= cut {
						whole++
					}
				}
				if len(frames) != whole {
					t.Errorf("cut at %d: %d frames, want %d", cut, len(frames), whole)
				}
				var te *TruncatedError
				atBoundary := whole < len(blocks) && blocks[whole].start == cut
				switch {
				case atBoundary && !c.known:
					if err != nil {
						t.Errorf("cut at %d between blocks of an unknown-size Cluster: %v", cut, err)
					}
				case !errors.As(err, &te) || !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(err, ErrTruncated):
					t.Errorf("cut at %d: %v, want a TruncatedError", cut, err)
				case te.Offset != cut:
					t.Errorf("cut at %d: TruncatedError.Offset %d", cut, te.Offset)
				case !atBoundary && te.Element != blocks[whole].start:
					t.Errorf("cut at %d: TruncatedError.Element %d, want %d", cut, te.Element, blocks[whole].start)
				}
			}
		})
	}
}

// TestReaderBigFrames reads frames larger than the buffer through a slow
// reader.
func TestReaderBigFrames(t *testing.T) {
	a, b := payload(readBufSize+1, 3), payload(5<<20, 4)
	file := cat(liveHeader(t, avpTracks), cluster(0, simpleBlock(1, 0, 0x80, a), simpleBlock(1, 1, 0, k1),
		blockGroup(1, 2, 0, b, 10, -1), simpleBlock(1, 3, 0, d1)))
	r, err := NewReader(iotest.HalfReader(bytes.NewReader(file)))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]byte{a, k1, b, d1} {
		f, err := r.ReadFrame()
		if err != nil || !bytes.Equal(f.Data, want) || f.Timestamp != ms(int64(i)) {
			t.Fatalf("frame %d: %v, %d bytes at %v", i, err, len(f.Data), f.Timestamp)
		}
	}
	if _, err := r.ReadFrame(); err != io.EOF {
		t.Fatal(err)
	}
}

// TestReadFrameNoAlloc checks the steady state: no allocation per frame.
func TestReadFrameNoAlloc(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, avOptions)
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(t, w, synthetic(time.Minute, 30))
	r, err := NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(2000, func() {
		if _, err := r.ReadFrame(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 && !raceEnabled {
		t.Errorf("%v allocations per ReadFrame", allocs)
	}
}

// benchFile makes a live stream of about size bytes: 30 fps video of 8 KB
// frames (key frame every 60) and 20 ms audio of 200 bytes.
func benchFile(t testing.TB, size int) []byte {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Options{Tracks: []TrackEntry{vp8Track, opusTrack}})
	if err != nil {
		t.Fatal(err)
	}
	v, a := payload(8000, 1), payload(200, 2)
	for i := 0; buf.Len() < size; i++ {
		ts := time.Duration(i) * time.Second / 30
		if err := w.WriteFrame(1, ts, i%60 == 0, v); err != nil {
			t.Fatal(err)
		}
		for ats := ts; ats < ts+time.Second/30; ats += 20 * time.Millisecond {
			if err := w.WriteFrame(2, ats, true, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	return buf.Bytes()
}

func BenchmarkReadFrame(b *testing.B) {
	file := benchFile(b, 10<<20)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	frames := 0
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.ReadFrame(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			frames++
		}
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
}

// TestReaderFixtures reads every browser recording: no error, and as many
// frames per track as ffprobe counts.
func TestReaderFixtures(t *testing.T) {
	for _, c := range fixtureCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := c.path(t)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			h, frames, err := readAll(t, b)
			var te *TruncatedError
			switch {
			case c.truncated && (!errors.As(err, &te) || te.Offset != int64(len(b))):
				t.Errorf("want a TruncatedError at the end, got %v", err)
			case !c.truncated && err != nil:
				t.Errorf("ReadFrame: %v", err)
			}
			count := map[uint64]int{}
			for _, f := range frames {
				count[f.Track]++
			}
			p := probeInput(t, path)
			if len(p.streams) != len(h.Tracks) {
				t.Fatalf("%d streams, %d tracks", len(p.streams), len(h.Tracks))
			}
			for i, s := range p.streams {
				if n := count[h.Tracks[i].Number]; n != s.packets {
					t.Errorf("track %d: %d frames, ffprobe counts %d", h.Tracks[i].Number, n, s.packets)
				}
			}
		})
	}
}

func FuzzReader(f *testing.F) {
	for _, c := range readerCases {
		f.Add(c.file(f))
	}
	f.Add(benchFile(f, 4000))
	for _, name := range fuzzSeedFiles {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b[:min(len(b), 4096)])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		for i := 0; ; i++ {
			f, err := r.ReadFrame()
			if err != nil {
				break
			}
			if i > 64*len(b)+256 {
				t.Fatalf("%d frames from %d bytes", i, len(b))
			}
			if f.BlockOffset < 0 || f.BlockOffset >= int64(len(b)) {
				t.Fatalf("BlockOffset %d", f.BlockOffset)
			}
			if r.Offset() > int64(len(b)) {
				t.Fatalf("Offset %d past %d bytes", r.Offset(), len(b))
			}
		}
	})
}
