package mp4_test

// Loaders of the module's real test media (testdata/ at the module root)
// as mp4 tracks and samples, and a writer of test files.

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/av1"
	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/codecs/vp9"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/internal/opusfile"
	"github.com/gomediarecorder/mediarecorder/mp4"
)

// media is one track of test media: its configuration and samples.
type media struct {
	track   mp4.Track
	samples []testSample
	// frames is what ffprobe -count_frames reports for the source file.
	frames int
	// duration is the source's duration.
	duration time.Duration
}

type testSample struct {
	track uint32
	ts    time.Duration
	dur   time.Duration
	key   bool
	data  []byte
}

const frameDur = time.Second / 30 // the IVF and H.264 files run at 30 fps

// loadIVF reads an IVF file of the module's testdata.
func loadIVF(t testing.TB, name string) (mediatest.IVFHeader, []mediatest.IVFFrame) {
	t.Helper()
	h, frames, err := mediatest.ReadIVF(mediatest.Testdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return h, frames
}

// ivfTS returns the timestamp of an IVF frame.
func ivfTS(h mediatest.IVFHeader, f mediatest.IVFFrame) time.Duration {
	return time.Duration(f.PTS * int64(h.TimebaseNum) * int64(time.Second) / int64(h.TimebaseDen))
}

func loadVP9(t testing.TB, id uint32) media {
	h, frames := loadIVF(t, "vp9.ivf")
	hdr, err := vp9.ParseHeader(frames[0].Data)
	if err != nil || !hdr.KeyFrame {
		t.Fatalf("first VP9 frame: %+v, %v", hdr, err)
	}
	m := media{
		track:    mp4.Track{ID: id, Type: mp4.TrackTypeVideo, Codec: mp4.CodecVP09, VP9: &hdr},
		frames:   len(frames),
		duration: 2 * time.Second,
	}
	for _, f := range frames {
		m.samples = append(m.samples, testSample{id, ivfTS(h, f), frameDur, vp9.IsKeyFrame(f.Data), f.Data})
	}
	return m
}

func loadAV1(t testing.TB, id uint32) media {
	h, frames := loadIVF(t, "av1.ivf")
	raw, seq, ok := av1.FindSequenceHeader(frames[0].Data)
	if !ok {
		t.Fatal("no AV1 sequence header in the first frame")
	}
	m := media{
		track:    mp4.Track{ID: id, Type: mp4.TrackTypeVideo, Codec: mp4.CodecAV01, AV1C: av1.CodecConfigurationRecord(seq, raw)},
		frames:   len(frames),
		duration: 2 * time.Second,
	}
	for _, f := range frames {
		data, err := av1.AppendStripTemporalDelimiters(nil, f.Data)
		if err != nil {
			t.Fatal(err)
		}
		m.samples = append(m.samples, testSample{id, ivfTS(h, f), frameDur, av1.IsKeyFrame(f.Data, &seq), data})
	}
	return m
}

func loadH264(t testing.TB, id uint32) media {
	f, err := os.Open(mediatest.Testdata(t, "h264.h264"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := h264.NewAccessUnitReader(f)
	m := media{track: mp4.Track{ID: id, Type: mp4.TrackTypeVideo, Codec: mp4.CodecAVC1}, duration: 2 * time.Second}
	for i := 0; ; i++ {
		au, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.track.AVCC == nil {
			var sps, pps [][]byte
			for b := au; ; {
				var nalu []byte
				if nalu, b = h264.NextNALU(b); nalu == nil {
					break
				}
				switch h264.NALUType(nalu) {
				case h264.NALUTypeSPS:
					sps = append(sps, bytes.Clone(nalu))
				case h264.NALUTypePPS:
					pps = append(pps, bytes.Clone(nalu))
				}
			}
			if m.track.AVCC, err = h264.AVCDecoderConfigurationRecord(sps, pps); err != nil {
				t.Fatal(err)
			}
		}
		m.samples = append(m.samples, testSample{id, time.Duration(i) * frameDur, frameDur, h264.IsKeyFrame(au), h264.AppendAVCC(nil, au)})
	}
	m.frames = len(m.samples)
	return m
}

func loadOpus(t testing.TB, id uint32) media {
	m := loadOpusFile(t, id, mediatest.Testdata(t, "opus-stereo.ogg"))
	m.duration = 2006500 * time.Microsecond
	return m
}

// loadOpusFile reads the Ogg Opus file at path; the duration is the sum of
// the packets'.
func loadOpusFile(t testing.TB, id uint32, path string) media {
	head, pkts, err := opusfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	var ts time.Duration
	var m media
	for _, p := range pkts {
		d := p.Duration()
		m.samples = append(m.samples, testSample{id, ts, d, true, p.Data})
		ts += d
	}
	m.track = mp4.Track{ID: id, Type: mp4.TrackTypeAudio, Codec: mp4.CodecOpus,
		Channels: uint16(head.Channels), SampleRate: head.InputSampleRate, PreSkip: head.PreSkip, OutputGain: head.OutputGain}
	m.frames = len(m.samples)
	m.duration = ts
	return m
}

// interleave merges the samples of ms by timestamp (stable: at equal
// times the earlier media first).
func interleave(ms ...media) []testSample {
	var all []testSample
	for _, m := range ms {
		all = append(all, m.samples...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].ts < all[j].ts })
	return all
}

// chunkWriter records the bytes written between Flush calls as chunks.
type chunkWriter struct {
	chunks [][]byte
	cur    []byte
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	c.cur = append(c.cur, p...)
	return len(p), nil
}

// cut ends the current chunk.
func (c *chunkWriter) cut() {
	if len(c.cur) > 0 {
		c.chunks = append(c.chunks, c.cur)
		c.cur = nil
	}
}

// writeSeekable writes ms into a seekable file in dir and returns its path.
func writeSeekable(t testing.TB, dir, name string, opts mp4.Options, samples []testSample) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opts.Seekable = true
	w, err := mp4.NewWriter(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		if err := w.WriteSample(s.track, s.ts, s.dur, s.key, s.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeLive writes samples as a live stream, flushing every interval of
// media time, and returns the chunks: the bytes of NewWriter, of each
// Flush and of Close.
func writeLive(t testing.TB, opts mp4.Options, samples []testSample, interval time.Duration) [][]byte {
	t.Helper()
	var c chunkWriter
	w, err := mp4.NewWriter(&c, opts)
	if err != nil {
		t.Fatal(err)
	}
	c.cut()
	next := interval
	for _, s := range samples {
		if s.ts >= next {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			c.cut()
			next += interval
		}
		if err := w.WriteSample(s.track, s.ts, s.dur, s.key, s.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.cut()
	return c.chunks
}

// execOutput runs an outside tool and returns its combined output.
func execOutput(t testing.TB, name string, args ...string) ([]byte, error) {
	t.Helper()
	return exec.CommandContext(t.Context(), mediatest.RequireTool(t, name), args...).CombinedOutput()
}

// probeFile runs Probe on the file at path.
func probeFile(t testing.TB, path string) mp4.ProbeResult {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := mp4.Probe(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// topBoxes returns the types of the top-level boxes of b, failing the test
// when they do not fill b exactly.
func topBoxes(t testing.TB, b []byte) []string {
	t.Helper()
	var types []string
	for len(b) > 0 {
		if len(b) < 8 {
			t.Fatalf("%d bytes left after boxes %v", len(b), types)
		}
		n := int(binary.BigEndian.Uint32(b))
		if n < 8 || n > len(b) {
			t.Fatalf("bad box size %d after %v", n, types)
		}
		types = append(types, string(b[4:8]))
		b = b[n:]
	}
	return types
}
