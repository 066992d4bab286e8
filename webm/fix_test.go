package webm

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/ebml"
)

// fixtureCase is one real browser recording.
type fixtureCase struct {
	name      string
	file      string // under fixturesDir()
	chunks    string // else: concatenate this directory's chunks
	truncated bool   // the input ends inside a block
	problems  []string
}

func (c fixtureCase) path(t testing.TB) string {
	if c.chunks != "" {
		return concatChunks(t, c.chunks)
	}
	return fixture(t, c.file)
}

// What each recording reveals (see the fixtures' READMEs).
var (
	chromeLive  = []string{"unknown-size Segment", "no Duration", "no Cues", "no SeekHead"}
	firefoxLive = []string{"unknown-size Segment", "no Cues", "empty SeekHead"}
)

func with(base []string, extra ...string) []string {
	out := slices.Clone(base)
	for _, e := range extra {
		// Keep the order Fix reports in: sizes, Duration, Cues, SeekHead,
		// then truncation.
		switch {
		case strings.HasPrefix(e, "unknown-size Clusters"):
			out = slices.Insert(out, 1, e)
		case strings.HasPrefix(e, "Duration"):
			out = slices.Insert(out, 2, e)
		default:
			out = append(out, e)
		}
	}
	return out
}

var fixtureCases = []fixtureCase{
	// Chromium, finished files: nothing to fix.
	{name: "chrome/av-5s", file: "browser/av-5s.webm"},
	{name: "chrome/audio-3s-opus", file: "browser/audio-3s-opus.webm"},
	{name: "chrome/av-3s-vp9", file: "browser/av-3s-vp9.webm"},
	{name: "chrome/av-pause-resume", file: "browser/av-pause-resume.webm"},
	{name: "chrome/video-only-3s", file: "browser/video-only-3s.webm"},
	{name: "chrome/av-3s-h264.mkv", file: "browser/av-3s-h264.mkv"},
	// Chromium live streams: chunks end with the ID byte of the next block.
	{name: "chrome/webm-ts1000/concat", file: "browser/webm-ts1000/concat.webm",
		problems: with(chromeLive, "unknown-size Clusters (5 of 5)")},
	{name: "chrome/webm-ts1000/chunk-000", file: "browser/webm-ts1000/chunk-000.webm", truncated: true,
		problems: with(chromeLive, "unknown-size Clusters (1 of 1)", "truncated at byte 49156")},
	{name: "chrome/webm-ts1000-slowstart/cat", chunks: "browser/webm-ts1000-slowstart",
		problems: with(chromeLive, "unknown-size Clusters (5 of 5)")},
	{name: "chrome/audio-ts1000/concat", file: "browser/audio-ts1000/concat.webm",
		problems: with(chromeLive, "unknown-size Clusters (3 of 3)")},
	{name: "chrome/audio-ts1000/chunk-000", file: "browser/audio-ts1000/chunk-000.webm", truncated: true,
		problems: with(chromeLive, "unknown-size Clusters (1 of 1)", "truncated at byte 8039")},
	// Chromium requestData: the hybrid with a 1 ms Duration and Cues.
	{name: "chrome/webm-requestdata/concat", file: "browser/webm-requestdata/concat.webm",
		problems: []string{"unknown-size Segment", "unknown-size Clusters (1 of 1)",
			"Duration 1 ms does not match the media (3.00 s)", "no SeekHead"}},
	{name: "chrome/webm-requestdata/chunk-000", file: "browser/webm-requestdata/chunk-000.webm",
		problems: []string{"unknown-size Segment", "unknown-size Clusters (1 of 1)",
			"Duration 1 ms does not match the media (638 ms)", "no Cues", "no SeekHead"}},
	// Firefox: never finished, Duration 0.
	{name: "firefox/av-4s", file: "firefox/av-4s.webm",
		problems: with(firefoxLive, "unknown-size Clusters (4 of 4)", "Duration 0 ms does not match the media (3.99 s)")},
	{name: "firefox/av-pause-resume", file: "firefox/av-pause-resume.webm",
		problems: with(firefoxLive, "unknown-size Clusters (4 of 4)", "Duration 0 ms does not match the media (3.03 s)")},
	{name: "firefox/ts1000/concat", file: "firefox/ts1000/concat.webm",
		problems: with(firefoxLive, "unknown-size Clusters (5 of 5)", "Duration 0 ms does not match the media (4.03 s)")},
	{name: "firefox/ts1000/chunk-000", file: "firefox/ts1000/chunk-000.webm",
		problems: with(firefoxLive, "unknown-size Clusters (2 of 2)", "Duration 0 ms does not match the media (1.03 s)")},
	{name: "firefox/requestdata/concat", file: "firefox/requestdata/concat.webm",
		problems: with(firefoxLive, "unknown-size Clusters (4 of 4)", "Duration 0 ms does not match the media (3.03 s)")},
	{name: "firefox/requestdata/chunk-000", file: "firefox/requestdata/chunk-000.webm",
		problems: with(firefoxLive, "unknown-size Clusters (1 of 1)", "Duration 0 ms does not match the media (966 ms)")},
}

// fuzzSeedFiles start the fuzz corpora (their first 4 KB).
var fuzzSeedFiles = []string{
	"testdata/chrome-requestdata-chunk-000.webm",
	"testdata/chrome-audio-ts1000-chunk-000.webm",
	"testdata/firefox-requestdata-chunk-000.webm",
	filepath.Join(fixturesDir(), "browser/av-5s.webm"),
	filepath.Join(fixturesDir(), "browser/av-3s-h264.mkv"),
	filepath.Join(fixturesDir(), "firefox/av-4s.webm"),
}

// fixFile fixes in into out.
func fixFile(t testing.TB, in, out string) FixReport {
	t.Helper()
	src, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	rep, err := Fix(dst, src, FixOptions{})
	if err != nil {
		t.Fatalf("Fix %s: %v", filepath.Base(in), err)
	}
	if pos, _ := dst.Seek(0, io.SeekCurrent); pos != fileSize(t, out) {
		t.Errorf("Fix left dst at %d of %d", pos, fileSize(t, out))
	}
	return rep
}

func fileSize(t testing.TB, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// sameFrames compares two frame lists, BlockOffset aside.
func sameFrames(t testing.TB, what string, want, got []Frame) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%s: %d frames, want %d", what, len(got), len(want))
	}
	for i := range min(len(want), len(got)) {
		w, g := want[i], got[i]
		w.BlockOffset, g.BlockOffset = 0, 0
		if w.Track != g.Track || w.Timestamp != g.Timestamp || w.Duration != g.Duration || w.KeyFrame != g.KeyFrame ||
			w.Invisible != g.Invisible || w.Discardable != g.Discardable || !bytes.Equal(w.Data, g.Data) {
			t.Errorf("%s: frame %d: got track %d %v+%v key %v %d bytes, want track %d %v+%v key %v %d bytes", what, i,
				g.Track, g.Timestamp, g.Duration, g.KeyFrame, len(g.Data), w.Track, w.Timestamp, w.Duration, w.KeyFrame, len(w.Data))
			return
		}
	}
}

// checkFixed checks a fixed file against its input with our Reader and
// with ffmpeg, ffprobe and mkvinfo: same frames (bytes, timestamps, key
// flags), decodes without new errors, seekable, the right Duration.
func checkFixed(t *testing.T, in, out string, wantFrames int) {
	t.Helper()
	inB, _ := os.ReadFile(in)
	outB, _ := os.ReadFile(out)
	inH, inFrames, _ := readAll(t, inB)
	outH, outFrames, err := readAll(t, outB)
	if err != nil {
		t.Fatalf("reading the fixed file: %v", err)
	}
	sameFrames(t, "Reader", inFrames[:min(wantFrames, len(inFrames))], outFrames)
	if outH.DocType != inH.DocType || outH.TimestampScale != inH.TimestampScale || len(outH.Tracks) != len(inH.Tracks) {
		t.Errorf("header %+v, input %+v", outH, inH)
	}
	for i := range min(len(outH.Tracks), len(inH.Tracks)) {
		if !bytes.Equal(outH.Tracks[i].Raw, inH.Tracks[i].Raw) {
			t.Errorf("track entry %d changed", i)
		}
	}
	p, err := Probe(bytes.NewReader(outB))
	if err != nil || !p.Seekable || len(p.Problems) != 0 || p.Clusters == 0 {
		t.Errorf("Probe of the fixed file: %v %+v", err, p)
	}

	// ffmpeg's null muxer complains about Firefox's jittery 30 fps
	// timestamps whenever it rounds two frames to one (see the fixtures'
	// README), depending on what it guesses the frame rate is.
	dts := regexp.MustCompile(`(?m)^\[null\] Application provided invalid, non monotonically increasing dts to muxer in stream \d+: \d+ >= \d+\n`)
	if e := dts.ReplaceAllString(decodeErrors(t, out), ""); e != "" {
		t.Errorf("ffmpeg decode errors:\n%s", e)
	}
	info := mkvinfoAll(t, out)
	for _, s := range []string{"|+ Seek head", "|+ Cues", "| + Duration:", "|+ Cluster"} {
		if !strings.Contains(info, s) {
			t.Errorf("mkvinfo shows no %q", s)
		}
	}
	pin, pout := probeInput(t, in), probeFile(t, out)
	end := pin.lastPacketEnd()
	if d, ok := parseSeconds(pout.duration); !ok || d-end > durationSlack || end-d > durationSlack {
		t.Errorf("ffprobe duration %s, input's last packet ends at %v", pout.duration, end)
	}
	// ffprobe's packets in file order: timestamps, durations, sizes, key
	// flags and MD5s of the data. A truncated input keeps its first ones.
	want := pin.lines()
	diffLines(t, "ffprobe packets (stream, pts, dts, duration, size, flags, MD5)", want[:min(len(want), wantFrames)], pout.lines())
}

func TestFixFixtures(t *testing.T) {
	for _, c := range fixtureCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in := c.path(t)
			out := filepath.Join(t.TempDir(), "fixed.webm")
			rep := fixFile(t, in, out)
			if !slices.Equal(rep.Problems, c.problems) {
				t.Errorf("problems:\n got %q\nwant %q", rep.Problems, c.problems)
			}
			if rep.Truncated != c.truncated || (c.truncated && rep.TruncatedAt != fileSize(t, in)) {
				t.Errorf("Truncated %v at %d", rep.Truncated, rep.TruncatedAt)
			}
			b, _ := os.ReadFile(in)
			_, frames, _ := readAll(t, b)
			if rep.Frames != len(frames) || rep.Tracks == 0 {
				t.Errorf("report %+v, %d frames in the input", rep, len(frames))
			}
			p, err := Probe(bytes.NewReader(b))
			if err != nil || !slices.Equal(p.Problems, rep.Problems) || p.Duration != rep.Duration {
				t.Errorf("Probe: %v %+v", err, p)
			}
			if wantSeekable := c.problems == nil; p.Seekable != wantSeekable {
				t.Errorf("Probe: Seekable %v", p.Seekable)
			}
			checkFixed(t, in, out, len(frames))
		})
	}
}

// TestFixSlowStart: Chromium's first blob of a slow start is 1 byte.
func TestFixSlowStart(t *testing.T) {
	in := fixture(t, "browser/webm-ts1000-slowstart/chunk-000.webm")
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = Fix(&memFile{}, f, FixOptions{})
	var te *TruncatedError
	if !errors.As(err, &te) || te.Offset != 1 {
		t.Errorf("Fix: %v, want truncated at byte 1", err)
	}
}

// TestFixTruncated cuts recordings inside the header, inside blocks and
// between blocks: the frames before the cut survive, byte for byte.
func TestFixTruncated(t *testing.T) {
	for _, name := range []string{"browser/av-5s.webm", "firefox/av-4s.webm", "browser/av-3s-h264.mkv"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			full := fixture(t, name)
			b, err := os.ReadFile(full)
			if err != nil {
				t.Fatal(err)
			}
			h, frames, err := readAll(t, b)
			if err != nil {
				t.Fatal(err)
			}
			knownSizes := h.SegmentSize >= 0
			tracksAt := int64(bytes.Index(b, []byte{0x16, 0x54, 0xAE, 0x6B}))
			n := len(frames)
			// mid is the middle of frame k's SimpleBlock.
			mid := func(k int) int64 {
				_, size, hl, _ := ebml.ReadElementHeader(b[frames[k].BlockOffset:])
				return frames[k].BlockOffset + int64(hl) + int64(size)/2
			}
			for _, cut := range []struct {
				name string
				at   int64
				k    int // frames before the cut
			}{
				{"in Tracks", tracksAt + 10, -1},
				{"in a block", mid(n / 2), n / 2},
				{"between blocks", frames[n/3].BlockOffset, n / 3},
				{"in the last block", mid(n - 1), n - 1},
				{"in the first block", frames[0].BlockOffset + 2, 0},
			} {
				t.Run(cut.name, func(t *testing.T) {
					in := filepath.Join(t.TempDir(), "cut"+filepath.Ext(name))
					if err := os.WriteFile(in, b[:cut.at], 0o644); err != nil {
						t.Fatal(err)
					}
					_, got, rerr := readAll(t, b[:cut.at])
					var te *TruncatedError
					if cut.k < 0 {
						if !errors.As(rerr, &te) || te.Offset != cut.at {
							t.Fatalf("NewReader: %v", rerr)
						}
						f, _ := os.Open(in)
						defer f.Close()
						if _, err := Fix(&memFile{}, f, FixOptions{}); !errors.Is(err, ErrTruncated) {
							t.Errorf("Fix: %v", err)
						}
						return
					}
					wantTrunc := cut.name != "between blocks" || knownSizes
					if wantTrunc && (!errors.As(rerr, &te) || te.Offset != cut.at) {
						t.Errorf("ReadFrame: %v, want truncated at %d", rerr, cut.at)
					}
					if !wantTrunc && rerr != nil {
						t.Errorf("ReadFrame: %v", rerr)
					}
					sameFrames(t, "Reader", frames[:cut.k], got)
					if cut.k == 0 {
						// No frame survives: nothing a player could use.
						f, _ := os.Open(in)
						defer f.Close()
						if _, err := Fix(&memFile{}, f, FixOptions{}); !errors.Is(err, ErrNoFrames) {
							t.Errorf("Fix: %v, want ErrNoFrames", err)
						}
						return
					}
					out := filepath.Join(t.TempDir(), "fixed"+filepath.Ext(name))
					rep := fixFile(t, in, out)
					if rep.Frames != cut.k || rep.Truncated != wantTrunc || (wantTrunc && rep.TruncatedAt != cut.at) {
						t.Errorf("report %+v, want %d frames", rep, cut.k)
					}
					outB, err := os.ReadFile(out)
					if err != nil {
						t.Fatal(err)
					}
					_, fixed, err := readAll(t, outB)
					if err != nil {
						t.Fatal(err)
					}
					sameFrames(t, "fixed file", frames[:cut.k], fixed)
					if cut.name == "in a block" {
						// The outside tools, for one cut of each file.
						checkFixed(t, in, out, cut.k)
						diffLines(t, "ffprobe packets of the fixed file and the whole input",
							probeInput(t, full).lines()[:cut.k], probeFile(t, out).lines())
					}
				})
			}
		})
	}
}

// toolMedia makes files with ffmpeg and mkvmerge that use what browsers do
// not: lacing of each kind, BlockGroups, other TimestampScales, B-frames.
type toolMedia struct {
	name    string
	make    func(t *testing.T, dir string) string
	lacing  byte // lacing flags that must occur
	groups  bool // BlockGroups must occur
	reorder bool // timestamps go back within a track
	decode  bool // compare decoded framemd5 (side data such as DiscardPadding matters)
	// remux: the Reader -> WriteBlock path keeps the file's framemd5.
	remux bool
}

func ffmpegTo(args ...string) func(t *testing.T, dir string) string {
	return func(t *testing.T, dir string) string {
		out := filepath.Join(dir, args[len(args)-1])
		a := append([]string{"-v", "error", "-y"}, args[:len(args)-1]...)
		run(t, "ffmpeg", append(a, out)...)
		return out
	}
}

func mkvmergeTo(out string, opts []string, inputs ...func(t *testing.T, dir string) string) func(t *testing.T, dir string) string {
	return func(t *testing.T, dir string) string {
		args := append([]string{"-q", "-o", filepath.Join(dir, out)}, opts...)
		for _, in := range inputs {
			args = append(args, in(t, dir))
		}
		run(t, "mkvmerge", args...)
		return filepath.Join(dir, out)
	}
}

var (
	aacTo    = ffmpegTo("-f", "lavfi", "-i", "sine=sample_rate=48000", "-t", "2", "-c:a", "aac", "aac.mka")
	vorbisTo = ffmpegTo("-f", "lavfi", "-i", "sine=sample_rate=44100", "-t", "2", "-c:a", "libvorbis", "vorbis.webm")
	h264To   = ffmpegTo("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-t", "2", "-c:v", "libx264",
		"-bf", "2", "-g", "25", "-preset", "ultrafast", "h264.mkv")
)

var toolCases = []toolMedia{
	{name: "mkvmerge AAC: Xiph lacing, TimestampScale 20832", make: mkvmergeTo("aac.mkv", nil, aacTo),
		lacing: 0x02, remux: true},
	{name: "mkvmerge Vorbis: EBML lacing without DefaultDuration", make: mkvmergeTo("vorbis.mkv", nil, vorbisTo),
		lacing: 0x06},
	{name: "mkvmerge durations: BlockGroups with laced BlockDuration", make: mkvmergeTo("dur.mkv",
		[]string{"--enable-durations"}, h264To, vorbisTo), lacing: 0x06, groups: true, reorder: true},
	{name: "ffmpeg H.264 B-frames", make: h264To, reorder: true, remux: true},
	{name: "ffmpeg Opus with DiscardPadding", make: ffmpegTo("-f", "lavfi", "-i", "sine=sample_rate=48000",
		"-t", "1.013", "-c:a", "libopus", "opus.webm"), groups: true, decode: true},
	{name: "hand-made fixed-size lacing", make: func(t *testing.T, dir string) string {
		// 16-bit PCM: every frame has an even size.
		pcm := Options{Tracks: []TrackEntry{testPCM}}
		e := func(n int, seed byte) []byte { return payload(n, seed) }
		b := cat(liveHeader(t, pcm),
			cluster(0, simpleBlock(2, 0, 0x84, fixedLace(e(8, 1), e(8, 2), e(8, 3))),
				simpleBlock(2, 60, 0x82, xiphLace(e(300, 4), e(6, 5), e(70, 6))),
				simpleBlock(2, 120, 0x86, ebmlLace(e(10, 7), e(510, 8), e(2, 9), e(70, 10))),
				blockGroup(2, 200, 0x84, fixedLace(e(4, 11), e(4, 12)), 30)),
			cluster(230, simpleBlock(2, 0, 0x80, e(10, 13))))
		p := filepath.Join(dir, "laced.mka")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}, lacing: 0x04, groups: true, remux: true},
}

// blockKinds scans a file's blocks for lacing, BlockGroups and timestamps
// that go back.
func blockKinds(t *testing.T, b []byte) (lacing map[byte]bool, groups, reorder bool) {
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	lacing = map[byte]bool{}
	last := map[uint64]int64{}
	for r.nextBlock() == nil {
		lacing[r.blk.flags&flagLacing] = true
		groups = groups || !r.blk.simple
		if l, ok := last[r.blk.track]; ok && r.blk.ticks < l {
			reorder = true
		}
		last[r.blk.track] = r.blk.ticks
	}
	return lacing, groups, reorder
}

func TestFixToolMedia(t *testing.T) {
	for _, c := range toolCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			in := c.make(t, dir)
			b, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			lacing, groups, reorder := blockKinds(t, b)
			if (c.lacing != 0 && !lacing[c.lacing]) || groups != c.groups || reorder != c.reorder {
				t.Errorf("the input has lacing %v, BlockGroups %v, reordering %v", lacing, groups, reorder)
			}
			h, frames, err := readAll(t, b)
			if err != nil {
				t.Fatal(err)
			}
			// Our frames are ffmpeg's packets: count, bytes and timestamps.
			want := probeInput(t, in)
			for i, tr := range h.Tracks {
				// ffmpeg takes CodecDelay off the timestamps, in ticks
				// rounded to the nearest.
				delay := (int64(tr.CodecDelay) + int64(h.TimestampScale)/2) / int64(h.TimestampScale)
				var ours []string
				for _, f := range frames {
					if f.Track == tr.Number {
						pts := int64(f.Timestamp)/int64(h.TimestampScale) - delay
						ours = append(ours, fmt.Sprintf("%d,%d,MD5:%x", pts, len(f.Data), md5.Sum(f.Data)))
					}
				}
				var theirs []string
				for _, k := range want.packets {
					if k.stream == i {
						theirs = append(theirs, k.pts+","+k.size+","+k.hash)
					}
				}
				if !lacing[0x06] || tr.DefaultDuration > 0 { // else ffmpeg makes up laced frames' timestamps
					diffLines(t, fmt.Sprintf("track %d frames (pts, size, md5)", tr.Number), theirs, ours)
				} else if len(ours) != len(theirs) {
					t.Errorf("track %d: %d frames, ffmpeg %d", tr.Number, len(ours), len(theirs))
				}
			}

			out := filepath.Join(dir, "fixed.mkv")
			rep := fixFile(t, in, out)
			if rep.Frames != len(frames) {
				t.Errorf("Fix wrote %d frames of %d", rep.Frames, len(frames))
			}
			checkFixed(t, in, out, len(frames))
			if c.decode {
				diffLines(t, "decoded framemd5", framemd5(t, in, true), framemd5(t, out, true))
			}
			if c.remux {
				out := filepath.Join(dir, "remuxed.mkv")
				remux(t, in, out)
				diffLines(t, "framemd5 after Reader -> WriteBlock", framemd5(t, in, false), framemd5(t, out, false))
				outB, _ := os.ReadFile(out)
				_, got, err := readAll(t, outB)
				if err != nil {
					t.Fatal(err)
				}
				sameFrames(t, "Reader -> WriteBlock", frames, got)
			}
		})
	}
}

// remux copies a file frame by frame through Reader and WriteBlock.
func remux(t testing.TB, in, out string) {
	t.Helper()
	src, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	r, err := NewReader(bufio.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	w, err := NewWriter(dst, Options{DocType: h.DocType, Tracks: h.Tracks, Seekable: true,
		AllowReorder: true, TimestampScale: time.Duration(h.TimestampScale)})
	if err != nil {
		t.Fatal(err)
	}
	for {
		f, err := r.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteBlock(f); err != nil {
			t.Fatalf("WriteBlock %+v: %v", f, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestFixLong fixes a 2-hour live stream of tiny frames with flat memory.
func TestFixLong(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "long.webm"), filepath.Join(dir, "fixed.webm")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w, err := NewWriter(bw, Options{Tracks: []TrackEntry{vp8Track, opusTrack}})
	if err != nil {
		t.Fatal(err)
	}
	const length = 2 * time.Hour
	frames := 0
	for ts := time.Duration(0); ts < length; ts += 200 * time.Millisecond {
		// 5 fps video with a key frame every 2 s; 100 ms audio.
		if err := w.WriteFrame(1, ts, ts%(2*time.Second) == 0, []byte{byte(ts), 1, 2}); err != nil {
			t.Fatal(err)
		}
		for a := ts; a < ts+200*time.Millisecond; a += 100 * time.Millisecond {
			if err := w.WriteFrame(2, a, true, []byte{0xFC, byte(a)}); err != nil {
				t.Fatal(err)
			}
		}
		frames += 3
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	src, _ := os.Open(in)
	defer src.Close()
	dst, _ := os.Create(out)
	defer dst.Close()
	runtime.GC()
	var ms0, ms runtime.MemStats
	runtime.ReadMemStats(&ms0)
	var peak uint64
	calls := 0
	rep, err := Fix(dst, src, FixOptions{Progress: func(done, total int64) {
		calls++
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&ms)
	allocated := ms.TotalAlloc - ms0.TotalAlloc
	t.Logf("%d frames, %d bytes in, %d progress calls, peak heap %d KiB, %d KiB allocated in all",
		rep.Frames, fileSize(t, in), calls, peak>>10, allocated>>10)
	if peak > 16<<20 || allocated > 16<<20 {
		t.Errorf("peak heap %d KiB, %d KiB allocated: memory is not flat", peak>>10, allocated>>10)
	}
	if rep.Frames != frames || rep.Duration != length || calls < 3 {
		t.Errorf("report %+v, %d progress calls", rep, calls)
	}
	dst.Seek(0, io.SeekStart)
	p, err := Probe(bufio.NewReader(dst))
	if err != nil || !p.Seekable || p.Duration != length || p.Frames[1]+p.Frames[2] != frames {
		t.Errorf("Probe: %v %+v", err, p)
	}
	if pf := probeFile(t, out); pf.duration != "7200.000000" {
		t.Errorf("ffprobe duration %s", pf.duration)
	}
}

// nonSeeker hides the Seek method of a reader.
type nonSeeker struct{ io.Reader }

func TestFixProgress(t *testing.T) {
	file := benchFile(t, 5<<20)
	path := filepath.Join(t.TempDir(), "in.webm")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, seek := range []bool{true, false} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var src io.Reader = f
		wantTotal := int64(len(file))
		if !seek {
			src, wantTotal = nonSeeker{f}, -1
		}
		var calls [][2]int64
		_, err = Fix(&memFile{}, src, FixOptions{Progress: func(done, total int64) {
			calls = append(calls, [2]int64{done, total})
		}})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) < 4 {
			t.Fatalf("%d progress calls", len(calls))
		}
		for i, c := range calls {
			if c[1] != wantTotal || (i > 0 && c[0] <= calls[i-1][0]) || c[0] > int64(len(file)) {
				t.Errorf("call %d: %v (seekable %v)", i, c, seek)
			}
		}
		if last := calls[len(calls)-1]; last[0] != int64(len(file)) {
			t.Errorf("last call %v, want done = %d", last, len(file))
		}
	}
}

// TestFixDst checks that Fix writes from dst's position on.
func TestFixDst(t *testing.T) {
	in := cat(liveHeader(t, avpTracks), cluster(0, simpleBlock(1, 0, 0x80, k1)), cluster(40, simpleBlock(1, 0, 0, d1)))
	m := &memFile{b: []byte("keep"), pos: 4}
	rep, err := Fix(m, bytes.NewReader(in), FixOptions{})
	if err != nil || rep.Frames != 2 || string(m.b[:4]) != "keep" || m.pos != int64(len(m.b)) {
		t.Fatalf("Fix: %v %+v, %q, pos %d of %d", err, rep, m.b[:4], m.pos, len(m.b))
	}
	_, frames, err := readAll(t, m.b[4:])
	if err != nil || len(frames) != 2 || frames[1].Timestamp != ms(40) {
		t.Fatalf("fixed file: %v %+v", err, frames)
	}
	// No usable track.
	bad := cat(liveHeader(t, Options{Tracks: []TrackEntry{{Number: 1, Type: TrackTypeVideo, CodecID: "V_VP8"}}}))
	bad = bytes.Replace(bad, []byte{0xD7, 0x81, 0x01}, []byte{0xD7, 0x81, 0x00}, 1) // TrackNumber 0
	if _, err := Fix(&memFile{}, bytes.NewReader(bad), FixOptions{}); !errors.Is(err, ErrNoTracks) {
		t.Errorf("Fix without tracks: %v", err)
	}
	if _, err := Fix(&memFile{}, strings.NewReader("not a webm file"), FixOptions{}); !errors.Is(err, ErrNotWebM) {
		t.Errorf("Fix of text: %v", err)
	}
}

// TestBufWriteSeeker compares random writes and seeks with memFile.
func TestBufWriteSeeker(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		want, under := &memFile{b: []byte("xy"), pos: 2}, &memFile{b: []byte("xy"), pos: 2}
		b, err := newBufWriteSeeker(under)
		if err != nil {
			t.Fatal(err)
		}
		end := int64(2)
		for range 200 {
			switch rng.IntN(4) {
			case 0, 1:
				p := payload(rng.IntN(1<<rng.IntN(20)), byte(rng.IntN(256)))
				want.Write(p)
				if n, err := b.Write(p); n != len(p) || err != nil {
					t.Fatal(n, err)
				}
				end = max(end, want.pos)
			case 2:
				off := 2 + rng.Int64N(end-1)
				want.Seek(off, io.SeekStart)
				if pos, err := b.Seek(off, io.SeekStart); pos != off || err != nil {
					t.Fatal(pos, err)
				}
			case 3:
				want.Seek(0, io.SeekEnd)
				if pos, err := b.Seek(0, io.SeekEnd); pos != want.pos || err != nil {
					t.Fatal(pos, want.pos, err)
				}
			}
		}
		if err := b.Flush(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want.b, under.b) || under.pos != want.pos {
			t.Fatalf("contents differ (%d, %d bytes), pos %d, want %d", len(under.b), len(want.b), under.pos, want.pos)
		}
	}
}

func BenchmarkFix(b *testing.B) {
	file := benchFile(b, 10<<20)
	b.SetBytes(int64(len(file)))
	m := &memFile{b: make([]byte, 0, 2*len(file))}
	for b.Loop() {
		m.b, m.pos = m.b[:0], 0
		if _, err := Fix(m, bytes.NewReader(file), FixOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzFix(f *testing.F) {
	for _, c := range readerCases {
		f.Add(c.file(f))
	}
	for _, name := range fuzzSeedFiles {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b[:min(len(b), 4096)])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := &memFile{}
		rep, err := Fix(m, bytes.NewReader(b), FixOptions{})
		if err != nil {
			return
		}
		_, frames, err := readAll(t, m.b)
		if err != nil {
			t.Fatalf("the fixed file does not read: %v", err)
		}
		if len(frames) != rep.Frames {
			t.Fatalf("%d frames in the fixed file, report says %d", len(frames), rep.Frames)
		}
		if _, err := Probe(bytes.NewReader(m.b)); err != nil {
			t.Fatal(err)
		}
	})
}

// TestFixTestdata fixes the browser blobs kept in testdata (no outside
// tools needed): every frame survives, and the result is seekable.
func TestFixTestdata(t *testing.T) {
	for _, c := range []struct {
		file      string
		frames    map[uint64]int // ffprobe -count_packets
		truncated int64
		problems  []string
	}{
		{"chrome-requestdata-chunk-000.webm", map[uint64]int{1: 7, 2: 10}, 0, []string{"unknown-size Segment",
			"unknown-size Clusters (1 of 1)", "Duration 1 ms does not match the media (638 ms)", "no Cues", "no SeekHead"}},
		{"chrome-audio-ts1000-chunk-000.webm", map[uint64]int{1: 16}, 8039,
			with(chromeLive, "unknown-size Clusters (1 of 1)", "truncated at byte 8039")},
		{"firefox-requestdata-chunk-000.webm", map[uint64]int{1: 29, 2: 48}, 0,
			with(firefoxLive, "unknown-size Clusters (1 of 1)", "Duration 0 ms does not match the media (966 ms)")},
	} {
		t.Run(c.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			p, err := Probe(bytes.NewReader(b))
			if err != nil || fmt.Sprint(p.Frames) != fmt.Sprint(c.frames) || p.Seekable || p.TruncatedAt != c.truncated ||
				p.Truncated != (c.truncated > 0) || !slices.Equal(p.Problems, c.problems) {
				t.Errorf("Probe: %v %+v", err, p)
			}
			m := &memFile{}
			rep, err := Fix(m, bytes.NewReader(b), FixOptions{})
			if err != nil || !slices.Equal(rep.Problems, c.problems) || rep.Duration != p.Duration {
				t.Fatalf("Fix: %v %+v", err, rep)
			}
			_, in, _ := readAll(t, b)
			_, out, err := readAll(t, m.b)
			if err != nil {
				t.Fatal(err)
			}
			sameFrames(t, "fixed", in, out)
			q, err := Probe(bytes.NewReader(m.b))
			if err != nil || !q.Seekable || len(q.Problems) != 0 || q.Duration != p.Duration || !q.HasSeekHead {
				t.Errorf("Probe of the fixed file: %v %+v", err, q)
			}
		})
	}
}
