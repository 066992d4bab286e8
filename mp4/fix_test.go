package mp4_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/mp4"
)

// crashBuf is the file of a recording that is never closed: an in-memory
// io.WriteSeeker that notes where each fragment starts (Boundary).
type crashBuf struct {
	seekBuf
	bounds []int
}

func (c *crashBuf) Boundary() { c.bounds = append(c.bounds, len(c.b)) }

// crashed writes samples as a recording into a file does (seekable, so
// mehd is reserved, with fragments of at most half a second) and returns
// the bytes written before Close, and the start of each fragment.
func crashed(t testing.TB, opts mp4.Options, samples []testSample) ([]byte, []int) {
	t.Helper()
	var c crashBuf
	opts.Seekable = true
	opts.MaxFragmentDuration = 500 * time.Millisecond
	w, err := mp4.NewWriter(&c, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		if err := w.WriteSample(s.track, s.ts, s.dur, s.key, s.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return c.b, append(c.bounds, len(c.b))
}

// fixBytes runs Fix on in.
func fixBytes(t testing.TB, in []byte) ([]byte, mp4.FixReport) {
	t.Helper()
	var out seekBuf
	rep, err := mp4.Fix(&out, bytes.NewReader(in), mp4.FixOptions{})
	if err != nil {
		t.Fatalf("Fix: %v (%+v)", err, rep)
	}
	if rep.Size != int64(len(out.b)) || out.pos != len(out.b) {
		t.Errorf("Size %d, wrote %d, left at %d", rep.Size, len(out.b), out.pos)
	}
	return out.b, rep
}

// md5s returns the frame checksums of each stream of a file, as ffmpeg's
// framemd5 lists them: "stream,size,md5".
func md5s(t testing.TB, path string) map[string][]string {
	t.Helper()
	m := map[string][]string{}
	for _, l := range mediatest.FrameMD5(t, path) {
		f := strings.Split(l, ",")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		if len(f) == 6 {
			m[f[0]] = append(m[f[0]], f[4]+","+f[5])
		}
	}
	return m
}

// prefixOf reports whether every stream of got is a prefix of want's.
func prefixOf(got, want map[string][]string) bool {
	for s, g := range got {
		w := want[s]
		if len(g) > len(w) || !slices.Equal(g, w[:len(g)]) {
			return false
		}
	}
	return true
}

// TestFixTruncated cuts a recording that was never closed at points in
// every kind of place (box headers, moof, mdat, fragment boundaries) and
// fixes it: the output decodes without a complaint, keeps exactly the
// whole fragments before the cut with their bytes unchanged, has the
// duration of their samples in mvhd and mehd and an index, and fixing it
// again changes nothing. Before Fix existed, MP4 could not be repaired.
func TestFixTruncated(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	v, a := loadH264(t, 1), loadOpus(t, 2)
	// One key frame only, as from a WebRTC sender with a long interval:
	// fragments are cut by time, and all but the first start with a
	// non-sync sample.
	for i := range v.samples[1:] {
		v.samples[i+1].key = false
	}
	data, bounds := crashed(t, mp4.Options{Tracks: []mp4.Track{v.track, a.track}}, interleave(v, a))
	dir := t.TempDir()
	full := filepath.Join(dir, "full.mp4")
	fixedFull, rep := fixBytes(t, data)
	if rep.Truncated || rep.Fragments != len(bounds)-1 || len(rep.Problems) != 0 {
		t.Fatalf("the whole file: %+v", rep)
	}
	if err := os.WriteFile(full, fixedFull, 0o644); err != nil {
		t.Fatal(err)
	}
	// Fragments cut between key frames start with a sample flagged
	// sample_is_non_sync_sample: the one key frame is the only sync one.
	if p := probeFile(t, full); p.Tracks[0].SyncSamples != 1 || p.Tracks[0].Samples != len(v.samples) || p.Fragments < 4 {
		t.Errorf("%+v", p)
	}
	want := md5s(t, full)

	cuts := []int{bounds[0] + 3, bounds[1], bounds[1] + 40, bounds[2] - 1}
	for i := 2; i < len(bounds)-1; i += 2 {
		mid := (bounds[i] + bounds[i+1]) / 2
		cuts = append(cuts, bounds[i]+5, mid, bounds[i+1])
	}
	for _, cut := range cuts {
		whole := 0 // whole fragments before the cut
		for whole+1 < len(bounds) && bounds[whole+1] <= cut {
			whole++
		}
		fixed, rep := fixBytes(t, data[:cut])
		atBound := slices.Contains(bounds, cut)
		if rep.Fragments != whole || rep.Truncated == atBound || rep.Kept != int64(bounds[whole]) {
			t.Errorf("cut at %d (%d whole fragments): %+v", cut, whole, rep)
		}
		path := filepath.Join(dir, "fixed.mp4")
		if err := os.WriteFile(path, fixed, 0o644); err != nil {
			t.Fatal(err)
		}
		if whole > 0 {
			if out := mediatest.Decode(t, path); out != "" {
				t.Errorf("cut at %d: ffmpeg: %s", cut, out)
			}
		}
		p, err := mp4.Probe(bytes.NewReader(fixed))
		if err != nil {
			t.Fatal(err)
		}
		if whole > 0 && (!p.Seekable || len(p.Problems) != 0 || p.DurationSource != "mvhd") ||
			whole == 0 && !slices.Equal(p.Problems, []string{"no fragments", "no duration in mvhd or mehd"}) {
			t.Errorf("cut at %d: %+v", cut, p)
		}
		// What the samples before the cut last, per Probe of the prefix.
		pp, _ := mp4.Probe(bytes.NewReader(data[:bounds[whole]]))
		var samples time.Duration
		for _, tr := range pp.Tracks {
			samples = max(samples, tr.Duration)
		}
		if absDur(rep.Duration-samples) > time.Millisecond || absDur(p.Duration-samples) > time.Millisecond {
			t.Errorf("cut at %d: duration %v, probed %v, samples %v", cut, rep.Duration, p.Duration, samples)
		}
		if whole > 0 {
			if got := md5s(t, path); !prefixOf(got, want) || len(got) != 2 {
				t.Errorf("cut at %d: the frames are not the recording's", cut)
			}
		}
		again, rep2 := fixBytes(t, fixed)
		if !bytes.Equal(again, fixed) || rep2.Truncated || rep2.Duration != rep.Duration {
			t.Errorf("cut at %d: fixing again changed the file: %+v", cut, rep2)
		}
	}
}

// TestFixErrors: inputs that cannot be fixed give the package's errors.
func TestFixErrors(t *testing.T) {
	v := loadVP9(t, 1)
	data, _ := crashed(t, mp4.Options{Tracks: []mp4.Track{v.track}}, v.samples)
	moov := bytes.Index(data, []byte("moov")) - 4
	for _, c := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, mp4.ErrNotMP4},
		{"garbage", []byte("not an mp4 file at all"), mp4.ErrNotMP4},
		{"cut in the moov", data[:moov+100], mp4.ErrNotMP4},
		{"no moov", append(bytes.Clone(data[:moov]), data[bytes.Index(data, []byte("moof"))-4:]...), mp4.ErrNotMP4},
		{"plain", mustRead(t, writePlain(t)), mp4.ErrNotFragmented},
	} {
		var out seekBuf
		if _, err := mp4.Fix(&out, bytes.NewReader(c.in), mp4.FixOptions{}); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// writePlain makes a plain (not fragmented) MP4 with ffmpeg.
func writePlain(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	mediatest.FFmpeg(t, dir, "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-t", "0.5", "-c:v", "libx264", "plain.mp4")
	return filepath.Join(dir, "plain.mp4")
}

// TestFixChromium fixes Chromium's MediaRecorder MP4 recordings, whole and
// cut off: every frame that was whole stays, with the same bytes, and the
// output decodes cleanly and is seekable.
func TestFixChromium(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	dir := t.TempDir()
	root := filepath.Join("..", "..", "shared", "fixtures", "browser")
	names := []string{"av-5s.mp4", "av-3s-avc1.mp4", "audio-3s.mp4", "av-pause-resume.mp4", "mp4-ts1000"}
	for _, name := range names {
		in := filepath.Join(root, name)
		st, err := os.Stat(in)
		if err != nil {
			t.Skipf("browser fixtures: %v", err)
		}
		var data []byte
		if st.IsDir() {
			chunks, _ := filepath.Glob(filepath.Join(in, "chunk-*.mp4"))
			for _, c := range chunks {
				data = append(data, mustRead(t, c)...)
			}
			in = filepath.Join(dir, name+".mp4")
			if err := os.WriteFile(in, data, 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			data = mustRead(t, in)
		}
		orig := md5s(t, in)
		for _, cut := range []int{len(data), len(data) * 2 / 3} {
			fixed, rep := fixBytes(t, data[:cut])
			if rep.Fragments == 0 {
				// Chromium may put a whole recording in one fragment:
				// cut, nothing is left (and nothing for ffmpeg to read).
				if rep.Duration != 0 || !rep.Truncated || cut == len(data) {
					t.Errorf("%s cut at %d: %+v", name, cut, rep)
				}
				continue
			}
			path := filepath.Join(dir, "fixed-"+name+".mp4")
			if err := os.WriteFile(path, fixed, 0o644); err != nil {
				t.Fatal(err)
			}
			if out := mediatest.DecodeVFR(t, path); out != "" {
				t.Errorf("%s cut at %d: ffmpeg: %s", name, cut, out)
			}
			got := md5s(t, path)
			if !prefixOf(got, orig) || cut == len(data) && !mapsEqual(got, orig) {
				t.Errorf("%s cut at %d: frames differ from the recording's", name, cut)
			}
			p := probeFile(t, path)
			if !p.Seekable || len(p.Problems) != 0 || absDur(p.Duration-rep.Duration) > time.Millisecond || rep.Duration < time.Second {
				t.Errorf("%s cut at %d: %+v\n%+v", name, cut, rep, p)
			}
			t.Logf("%s cut at %d of %d: kept %d bytes, %d fragments, %v", name, cut, len(data), rep.Kept, rep.Fragments, rep.Duration)
		}
	}
}

func mapsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
