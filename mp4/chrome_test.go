package mp4_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/vp9"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/mp4"
)

// box is a parsed box for layout comparisons.
type box struct {
	typ      string
	body     []byte // after the header (and, for sample entries, their fixed fields)
	fixed    []byte // the fixed fields of a container with some (stsd, sample entries)
	children []box
}

// containerSkip lists the boxes whose body holds boxes, after how many
// bytes of fixed fields.
var containerSkip = map[string]int{
	"moov": 0, "trak": 0, "mdia": 0, "minf": 0, "stbl": 0, "dinf": 0, "mvex": 0,
	"moof": 0, "traf": 0, "mfra": 0, "stsd": 8, "dref": 8,
	"avc1": 78, "av01": 78, "vp09": 78, "Opus": 28,
}

// parseBoxes parses b into boxes, recursing into containers.
func parseBoxes(t testing.TB, b []byte) []box {
	t.Helper()
	var bs []box
	for len(b) > 0 {
		if len(b) < 8 {
			t.Fatalf("%d stray bytes", len(b))
		}
		n := int(binary.BigEndian.Uint32(b))
		if n < 8 || n > len(b) {
			t.Fatalf("bad %q box size %d", b[4:8], n)
		}
		x := box{typ: string(b[4:8]), body: b[8:n]}
		if skip, ok := containerSkip[x.typ]; ok {
			if len(x.body) < skip {
				t.Fatalf("short %s", x.typ)
			}
			x.fixed = x.body[:skip]
			x.children = parseBoxes(t, x.body[skip:])
		}
		bs = append(bs, x)
		b = b[n:]
	}
	return bs
}

// find returns the boxes at path ("moov/trak/mdia") below bs.
func find(bs []box, path string) []box {
	first, rest, more := strings.Cut(path, "/")
	var out []box
	for _, b := range bs {
		if b.typ != first {
			continue
		}
		if !more {
			out = append(out, b)
		} else {
			out = append(out, find(b.children, rest)...)
		}
	}
	return out
}

// one returns the only box at path, failing the test unless there is
// exactly one.
func one(t testing.TB, bs []box, path string) box {
	t.Helper()
	f := find(bs, path)
	if len(f) != 1 {
		t.Fatalf("%d boxes at %s", len(f), path)
	}
	return f[0]
}

func types(bs []box) []string {
	var s []string
	for _, b := range bs {
		s = append(s, b.typ)
	}
	return s
}

// topLevel returns the types of the top-level boxes with runs of moof+mdat
// pairs collapsed into one.
func topLevel(bs []box) []string {
	var s []string
	for _, b := range bs {
		if b.typ == "mdat" || b.typ == "moof" && len(s) >= 2 && s[len(s)-2] == "moof" {
			if b.typ == "mdat" && s[len(s)-1] == "mdat" {
				s = s[:len(s)-1]
			}
			if b.typ == "moof" {
				continue
			}
		}
		s = append(s, b.typ)
	}
	return s
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// chromeLike returns the options of a recording like Chromium's av-5s.mp4
// (Opus mono as track 1, 640x480 VP9 as track 2) and a few samples.
func chromeLike() (mp4.Options, []testSample) {
	hdr := vp9.Header{BitDepth: 8, SubsamplingX: true, SubsamplingY: true, KeyFrame: true, Width: 640, Height: 480}
	opts := mp4.Options{Tracks: []mp4.Track{
		{ID: 1, Type: mp4.TrackTypeAudio, Codec: mp4.CodecOpus, Channels: 1, SampleRate: 48000, PreSkip: 3840},
		{ID: 2, Type: mp4.TrackTypeVideo, Codec: mp4.CodecVP09, VP9: &hdr},
	}}
	var s []testSample
	for i := 0; i < 10; i++ {
		ts := time.Duration(i) * 60 * time.Millisecond
		s = append(s, testSample{2, ts, 0, i%5 == 0, []byte{0x82, byte(i)}}, testSample{1, ts, 0, true, []byte{0xfc, byte(i)}})
	}
	return opts, s
}

// TestChromeLayout compares the boxes the writer makes for a recording like
// Chromium's with Chromium's own. The differences that remain are
// deliberate; see the comments.
func TestChromeLayout(t *testing.T) {
	chrome := parseBoxes(t, readTestdata(t, "chrome-av-5s-head.mp4"))
	opts, samples := chromeLike()
	dir := t.TempDir()
	ours := parseBoxes(t, mustRead(t, writeSeekable(t, dir, "ours.mp4", opts, samples)))

	// Top level: ftyp, moov, moof+mdat pairs, and (in the whole file,
	// not in the head kept in testdata) mfra.
	if got := topLevel(ours); !slices.Equal(got, []string{"ftyp", "moov", "moof", "mdat", "mfra"}) {
		t.Errorf("top level %v", got)
	}
	if got := topLevel(chrome); !slices.Equal(got, []string{"ftyp", "moov", "moof", "mdat"}) {
		t.Errorf("Chromium's top level %v", got)
	}
	if c, o := one(t, chrome, "ftyp"), one(t, ours, "ftyp"); !bytes.Equal(c.body, o.body) {
		t.Errorf("ftyp %q, Chromium %q", o.body, c.body)
	}

	same := func(path string) {
		t.Helper()
		c, o := find(chrome, path), find(ours, path)
		if len(c) == 0 || len(o) == 0 {
			t.Fatalf("%s: %d boxes, Chromium %d", path, len(o), len(c))
		}
		if !slices.Equal(types(c[0].children), types(o[0].children)) {
			t.Errorf("%s holds %v, Chromium %v", path, types(o[0].children), types(c[0].children))
		}
	}
	for _, p := range []string{"moov", "moov/trak", "moov/trak/mdia", "moof", "moof/traf"} {
		same(p)
	}
	for i := range 2 {
		c, o := find(chrome, "moov/trak/mdia/minf")[i], find(ours, "moov/trak/mdia/minf")[i]
		if !slices.Equal(types(c.children), types(o.children)) {
			t.Errorf("minf %d holds %v, Chromium %v", i, types(o.children), types(c.children))
		}
		// stbl: the same boxes, but we write stsd first as ISO/IEC
		// 14496-12 lists them (and ffmpeg writes them); Chromium writes
		// it last.
		cs, os := types(find(c.children, "stbl")[0].children), types(find(o.children, "stbl")[0].children)
		if os[0] != "stsd" || !sameSet(cs, os) {
			t.Errorf("stbl %d holds %v, Chromium %v", i, os, cs)
		}
	}
	// mvex: ours reserves mehd (seekable output) before the trex boxes.
	if got := types(one(t, ours, "moov/mvex").children); !slices.Equal(got, []string{"mehd", "trex", "trex"}) {
		t.Errorf("mvex holds %v", got)
	}

	// Sample entries. The fixed fields of the Opus entry are
	// byte-identical; the visual entry's differ only in compressorname
	// (Chromium: "VP9 Coding", ours empty) and in the 16 bits after
	// pre_defined, which ISO/IEC 14496-12 reserves as 0 and Chromium sets
	// to 1. Chromium adds btrt (zero rates) and colr boxes we leave out.
	co, oo := one(t, chrome, "moov/trak/mdia/minf/stbl/stsd/Opus"), one(t, ours, "moov/trak/mdia/minf/stbl/stsd/Opus")
	if !bytes.Equal(co.fixed, oo.fixed) {
		t.Errorf("Opus sample entry %x, Chromium %x", oo.fixed, co.fixed)
	}
	if got := types(oo.children); !slices.Equal(got, []string{"dOps"}) {
		t.Errorf("Opus entry holds %v (Chromium %v)", got, types(co.children))
	}
	// dOps: byte-identical for the same parameters.
	cd, od := one(t, co.children, "dOps"), one(t, oo.children, "dOps")
	if !bytes.Equal(cd.body, od.body) {
		t.Errorf("dOps %x, Chromium %x", od.body, cd.body)
	}
	cv, ov := one(t, chrome, "moov/trak/mdia/minf/stbl/stsd/vp09"), one(t, ours, "moov/trak/mdia/minf/stbl/stsd/vp09")
	if !sameVisualEntry(cv.fixed, ov.fixed) {
		t.Errorf("vp09 sample entry %x, Chromium %x", ov.fixed, cv.fixed)
	}
	if got := types(ov.children); !slices.Equal(got, []string{"vpcC", "pasp"}) {
		t.Errorf("vp09 entry holds %v (Chromium %v)", got, types(cv.children))
	}
	// vpcC: the same layout (version 1, 8 bytes of fields, no
	// initialization data). Values differ: level 30 (ffmpeg's choice for
	// 640x480) where Chromium writes 0; chroma subsampling 1 (4:2:0
	// co-located, as ffmpeg and libvpx take VP9's 4:2:0) where Chromium
	// writes 0; colour 2/2/2 (unspecified) where Chromium writes 6/6/6
	// from its camera's colour space.
	cc, oc := one(t, cv.children, "vpcC").body, one(t, ov.children, "vpcC").body
	if want := []byte{1, 0, 0, 0, 0, 30, 8<<4 | 1<<1, 2, 2, 2, 0, 0}; !bytes.Equal(oc, want) {
		t.Errorf("vpcC %x, want %x", oc, want)
	}
	if len(cc) != len(oc) || !bytes.Equal(cc[:5], oc[:5]) || cc[6]>>4 != oc[6]>>4 {
		t.Errorf("vpcC %x, Chromium %x", oc, cc)
	}

	// Fragments: tfhd flags (default-base-is-moof, default-sample-flags)
	// and default flags, trun flags, first-sample flags and the data
	// offsets are as Chromium writes them.
	for i, path := range []string{"moof/traf/tfhd", "moof/traf/trun"} {
		c, o := find(chrome, path), find(ours, path)
		for j := range 2 {
			cb, ob := c[j].body, o[j].body
			switch i {
			case 0: // flags, track ID, default flags
				if !bytes.Equal(cb, ob) {
					t.Errorf("traf %d tfhd %x, Chromium %x", j, ob, cb)
				}
			case 1: // flags; first sample flags after count and offset
				// Chromium writes trun version 1 (signed composition
				// offsets), which means nothing without composition
				// offsets; ours is version 0, as ffmpeg's.
				if ob[0] != 0 || !bytes.Equal(cb[1:4], ob[1:4]) {
					t.Errorf("traf %d trun flags %x, Chromium %x", j, ob[:4], cb[:4])
				}
				if cb[3]&4 != 0 && !bytes.Equal(cb[12:16], ob[12:16]) {
					t.Errorf("traf %d first sample flags %x, Chromium %x", j, ob[12:16], cb[12:16])
				}
			}
		}
	}
	for _, bs := range [][]box{chrome, ours} {
		moof := find(bs, "moof")[0]
		size := 8 + len(moof.body)
		trun := find(bs, "moof/traf/trun")[0].body
		if off := int(binary.BigEndian.Uint32(trun[8:])); off != size+8 {
			t.Errorf("first data offset %d, want moof size + 8 = %d", off, size+8)
		}
	}
}

// sameVisualEntry compares the fixed fields of two visual sample entries
// but for the reserved bytes 10-11 and compressorname.
func sameVisualEntry(chrome, ours []byte) bool {
	return len(chrome) == 78 && len(ours) == 78 && bytes.Equal(chrome[:10], ours[:10]) &&
		bytes.Equal(chrome[12:42], ours[12:42]) && bytes.Equal(chrome[74:], ours[74:]) &&
		ours[10] == 0 && ours[11] == 0
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChromeDOps reads Chromium's dOps field by field: its multi-byte
// fields are big-endian, unlike OpusHead's.
func TestChromeDOps(t *testing.T) {
	bs := parseBoxes(t, readTestdata(t, "chrome-av-5s-head.mp4"))
	d := one(t, bs, "moov/trak/mdia/minf/stbl/stsd/Opus/dOps").body
	// 00 | 01 | 0f 00 | 00 00 bb 80 | 00 00 | 00
	if len(d) != 11 {
		t.Fatalf("dOps is %d bytes: %x", len(d), d)
	}
	got := struct {
		version, channels uint8
		preSkip           uint16
		rate              uint32
		gain              int16
		family            uint8
	}{d[0], d[1], binary.BigEndian.Uint16(d[2:]), binary.BigEndian.Uint32(d[4:]), int16(binary.BigEndian.Uint16(d[8:])), d[10]}
	// Pre-skip 3840 (80 ms, the pre-roll the Opus-in-ISOBMFF spec asks
	// for) and rate 48000 read big-endian; little-endian they would be
	// 15 and 2159738880.
	if got.version != 0 || got.channels != 1 || got.preSkip != 3840 || got.rate != 48000 || got.gain != 0 || got.family != 0 {
		t.Errorf("Chromium's dOps %+v", got)
	}
	// Ours, for the same values, are the same bytes.
	w := parseBoxes(t, initSegment(t, mp4.Track{ID: 1, Type: mp4.TrackTypeAudio, Codec: mp4.CodecOpus, Channels: 1, PreSkip: 3840, SampleRate: 48000}))
	if ours := one(t, w, "moov/trak/mdia/minf/stbl/stsd/Opus/dOps").body; !bytes.Equal(ours, d) {
		t.Errorf("dOps %x, Chromium %x", ours, d)
	}
}

// initSegment returns what NewWriter writes for tracks.
func initSegment(t testing.TB, tracks ...mp4.Track) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := mp4.NewWriter(&b, mp4.Options{Tracks: tracks}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestChromeAVCC checks that avc1 tracks carry avcC as given, in a sample
// entry laid out like Chromium's.
func TestChromeAVCC(t *testing.T) {
	chrome := parseBoxes(t, readTestdata(t, "chrome-avc1-init.mp4"))
	ce := one(t, chrome, "moov/trak/mdia/minf/stbl/stsd/avc1")
	avcc := one(t, ce.children, "avcC").body
	ours := parseBoxes(t, initSegment(t, mp4.Track{ID: 1, Type: mp4.TrackTypeVideo, Codec: mp4.CodecAVC1, AVCC: avcc}))
	oe := one(t, ours, "moov/trak/mdia/minf/stbl/stsd/avc1")
	if got := one(t, oe.children, "avcC").body; !bytes.Equal(got, avcc) {
		t.Errorf("avcC %x, Chromium %x", got, avcc)
	}
	// The size comes from the SPS: 640x480, as Chromium wrote.
	if !sameVisualEntry(ce.fixed, oe.fixed) {
		t.Errorf("avc1 sample entry %x, Chromium %x", oe.fixed, ce.fixed)
	}
	if got := one(t, ours, "ftyp").body; !bytes.Equal(got, one(t, chrome, "ftyp").body) {
		t.Errorf("ftyp %q, Chromium %q", got, one(t, chrome, "ftyp").body)
	}
}

// TestFFmpegConfigBoxes checks vpcC and av1C against what ffmpeg's mp4
// muxer writes for the same streams.
func TestFFmpegConfigBoxes(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	dir := t.TempDir()
	for _, c := range []struct {
		file, box string
		load      func(testing.TB, uint32) media
	}{
		{"vp9.ivf", "vpcC", loadVP9},
		{"av1.ivf", "av1C", loadAV1},
		{"h264.h264", "avcC", loadH264},
	} {
		t.Run(c.box, func(t *testing.T) {
			ff := mediatest.FFmpeg(t, dir, "-i", mediatest.Testdata(t, c.file), "-c", "copy",
				"-movflags", "+frag_keyframe+empty_moov+default_base_moof", c.box+".mp4")
			want := mediatest.MP4Box(t, ff, c.box)
			m := c.load(t, 1)
			path := writeSeekable(t, dir, "ours-"+c.box+".mp4", mp4.Options{Tracks: []mp4.Track{m.track}}, m.samples)
			if got := mediatest.MP4Box(t, path, c.box); !bytes.Equal(got, want) {
				t.Errorf("%s %x, ffmpeg %x", c.box, got, want)
			}
		})
	}
}
