package webm

// Test-only readers for the media files ffmpeg makes for the tests (IVF and
// Ogg Opus), and wrappers for the outside tools that check our output.

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type frame struct {
	track uint64
	ts    time.Duration
	key   bool
	data  []byte
}

type ivfFile struct {
	fourcc        string
	width, height uint32
	frames        []frame
}

// readIVF parses an IVF file; key decides which frames are key frames.
func readIVF(b []byte, key func([]byte) bool) (*ivfFile, error) {
	if len(b) < 32 || string(b[:4]) != "DKIF" {
		return nil, errors.New("not IVF")
	}
	hl := int(binary.LittleEndian.Uint16(b[6:]))
	f := &ivfFile{
		fourcc: string(b[8:12]),
		width:  uint32(binary.LittleEndian.Uint16(b[12:])),
		height: uint32(binary.LittleEndian.Uint16(b[14:])),
	}
	den := int64(binary.LittleEndian.Uint32(b[16:]))
	num := int64(binary.LittleEndian.Uint32(b[20:]))
	if den == 0 || hl < 32 || hl > len(b) {
		return nil, errors.New("bad IVF header")
	}
	for p := b[hl:]; len(p) > 0; {
		if len(p) < 12 {
			return nil, errors.New("short IVF frame header")
		}
		n := int(binary.LittleEndian.Uint32(p))
		pts := int64(binary.LittleEndian.Uint64(p[4:]))
		if n > len(p)-12 {
			return nil, errors.New("short IVF frame")
		}
		data := p[12 : 12+n]
		f.frames = append(f.frames, frame{
			ts:   time.Duration(pts * num * int64(time.Second) / den),
			key:  key(data),
			data: data,
		})
		p = p[12+n:]
	}
	return f, nil
}

func vp8Key(b []byte) bool { return len(b) > 0 && b[0]&1 == 0 }

func vp9Key(b []byte) bool {
	if len(b) == 0 || b[0]>>6 != 2 {
		return false
	}
	bit := 2 // after frame_marker
	get := func() int {
		v := int(b[bit/8]>>(7-bit%8)) & 1
		bit++
		return v
	}
	profile := get() | get()<<1
	if profile == 3 {
		get()
	}
	if get() == 1 { // show_existing_frame
		return false
	}
	return get() == 0
}

type oggOpus struct {
	head    []byte // OpusHead
	preSkip int
	packets [][]byte
}

// readOggOpus reassembles the packets of a single-stream Ogg Opus file.
func readOggOpus(b []byte) (*oggOpus, error) {
	var packets [][]byte
	var cur []byte
	for len(b) > 0 {
		if len(b) < 27 || string(b[:4]) != "OggS" {
			return nil, errors.New("bad Ogg page")
		}
		nseg := int(b[26])
		if len(b) < 27+nseg {
			return nil, errors.New("short Ogg page")
		}
		lacing := b[27 : 27+nseg]
		body := b[27+nseg:]
		for _, l := range lacing {
			if int(l) > len(body) {
				return nil, errors.New("short Ogg page body")
			}
			cur = append(cur, body[:l]...)
			body = body[l:]
			if l < 255 {
				packets = append(packets, cur)
				cur = nil
			}
		}
		b = body
	}
	if len(packets) < 2 || len(packets[0]) < 19 || string(packets[0][:8]) != "OpusHead" {
		return nil, errors.New("not Ogg Opus")
	}
	return &oggOpus{
		head:    packets[0],
		preSkip: int(binary.LittleEndian.Uint16(packets[0][10:])),
		packets: packets[2:],
	}, nil
}

// opusDuration is the duration of one Opus packet from its TOC byte.
func opusDuration(p []byte) time.Duration {
	if len(p) == 0 {
		return 0
	}
	config := p[0] >> 3
	var frame time.Duration
	switch {
	case config < 12:
		frame = []time.Duration{10, 20, 40, 60}[config%4] * time.Millisecond
	case config < 16:
		frame = []time.Duration{10, 20}[config%2] * time.Millisecond
	default:
		frame = []time.Duration{2500, 5000, 10000, 20000}[config%4] * time.Microsecond
	}
	n := 1
	switch p[0] & 3 {
	case 1, 2:
		n = 2
	case 3:
		if len(p) > 1 {
			n = int(p[1] & 0x3F)
		}
	}
	return frame * time.Duration(n)
}

// opusFrames turns the Opus packets into frames with timestamps from 0.
func (o *oggOpus) frames(track uint64) []frame {
	var out []frame
	var ts time.Duration
	for _, p := range o.packets {
		out = append(out, frame{track: track, ts: ts, key: true, data: p})
		ts += opusDuration(p)
	}
	return out
}

func (o *oggOpus) entry(number uint64) TrackEntry {
	return TrackEntry{
		Number:            number,
		Type:              TrackTypeAudio,
		CodecID:           "A_OPUS",
		CodecPrivate:      o.head,
		CodecDelay:        time.Duration(o.preSkip) * time.Second / 48000,
		SeekPreRoll:       80 * time.Millisecond,
		SamplingFrequency: 48000,
		Channels:          o.head[9],
	}
}

// interleave merges frame lists by timestamp (stable: video before audio at
// equal times when video is passed first).
func interleave(lists ...[]frame) []frame {
	var all []frame
	for _, l := range lists {
		all = append(all, l...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].ts < all[j].ts })
	return all
}

// media caches the files ffmpeg generates, shared by the tests.
var media struct {
	once sync.Once
	dir  string
	err  error
}

// mediaFile returns the path of a generated test file: "vp8.ivf",
// "vp9.ivf" (2 s, 160x120, 30 fps, key frame every 30), "opus.ogg" (2 s
// stereo), "opus12.ogg" (12 s mono), "pcm.raw" (1 s s16le stereo 48 kHz).
func mediaFile(t testing.TB, name string) string {
	t.Helper()
	ffmpeg := mediatest.RequireTool(t, "ffmpeg")
	media.once.Do(func() {
		media.dir, media.err = os.MkdirTemp("", "webmtest")
		if media.err != nil {
			return
		}
		v := "testsrc2=size=160x120:rate=30"
		cmds := [][]string{
			{"-f", "lavfi", "-i", v, "-t", "2", "-c:v", "libvpx", "-g", "30", "-b:v", "300k", "vp8.ivf"},
			{"-f", "lavfi", "-i", v, "-t", "2", "-c:v", "libvpx-vp9", "-g", "30", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", "vp9.ivf"},
			{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "2", "-ac", "2", "-c:a", "libopus", "-b:a", "48k", "opus.ogg"},
			{"-f", "lavfi", "-i", "sine=frequency=660:sample_rate=48000", "-t", "12", "-c:a", "libopus", "-b:a", "24k", "opus12.ogg"},
			{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "1", "-ac", "2", "-f", "s16le", "-c:a", "pcm_s16le", "pcm.raw"},
		}
		for _, c := range cmds {
			args := append([]string{"-v", "error", "-y"}, c...)
			args[len(args)-1] = filepath.Join(media.dir, args[len(args)-1])
			if out, err := exec.Command(ffmpeg, args...).CombinedOutput(); err != nil {
				media.err = fmt.Errorf("ffmpeg %v: %v\n%s", c, err, out)
				return
			}
		}
	})
	if media.err != nil {
		t.Fatal(media.err)
	}
	return filepath.Join(media.dir, name)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if media.dir != "" {
		os.RemoveAll(media.dir)
	}
	os.Exit(code)
}

func loadIVF(t testing.TB, name string) *ivfFile {
	t.Helper()
	b, err := os.ReadFile(mediaFile(t, name))
	if err != nil {
		t.Fatal(err)
	}
	key := vp8Key
	if strings.HasPrefix(name, "vp9") {
		key = vp9Key
	}
	f, err := readIVF(b, key)
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.frames {
		f.frames[i].track = 1
	}
	return f
}

func loadOpus(t testing.TB, name string, track uint64) (*oggOpus, []frame) {
	t.Helper()
	b, err := os.ReadFile(mediaFile(t, name))
	if err != nil {
		t.Fatal(err)
	}
	o, err := readOggOpus(b)
	if err != nil {
		t.Fatal(err)
	}
	return o, o.frames(track)
}

// ffmpegDecode decodes the whole file and fails on any error output.
func ffmpegDecode(t testing.TB, path string) {
	t.Helper()
	out, err := exec.Command(mediatest.RequireTool(t, "ffmpeg"), "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("ffmpeg decode %s: %v\n%s", filepath.Base(path), err, out)
	}
}

type probeStream struct {
	CodecName     string `json:"codec_name"`
	CodecType     string `json:"codec_type"`
	Width         int    `json:"width"`
	Height        int    `json:"height"`
	Channels      int    `json:"channels"`
	SampleRate    string `json:"sample_rate"`
	NbReadPackets string `json:"nb_read_packets"`
}

type probeResult struct {
	Streams []probeStream `json:"streams"`
	Format  struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
}

// ffprobe reads the streams and format, counting packets.
func ffprobe(t testing.TB, path string) *probeResult {
	t.Helper()
	out, err := exec.Command(mediatest.RequireTool(t, "ffprobe"), "-v", "error", "-count_packets",
		"-show_streams", "-show_format", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", filepath.Base(path), err)
	}
	var r probeResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("ffprobe output: %v\n%s", err, out)
	}
	return &r
}

func (r *probeResult) duration() time.Duration {
	f, err := strconv.ParseFloat(r.Format.Duration, 64)
	if err != nil {
		return -1
	}
	return time.Duration(f * float64(time.Second))
}

func (r *probeResult) stream(codecType string) *probeStream {
	for i := range r.Streams {
		if r.Streams[i].CodecType == codecType {
			return &r.Streams[i]
		}
	}
	return nil
}

// mkvinfo runs mkvinfo -a (all elements, cues and seek entries included)
// and returns its output; it fails unless mkvinfo exits 0.
func mkvinfo(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command(mediatest.RequireTool(t, "mkvinfo"), "-a", path).CombinedOutput()
	if err != nil {
		t.Fatalf("mkvinfo %s: %v\n%s", filepath.Base(path), err, out)
	}
	return string(out)
}

// writeFrames writes frames through w, failing the test on any error.
func writeFrames(t testing.TB, w *Writer, frames []frame) {
	t.Helper()
	for i, f := range frames {
		if err := w.WriteFrame(f.track, f.ts, f.key, f.data); err != nil {
			t.Fatalf("WriteFrame %d (track %d, %v): %v", i, f.track, f.ts, err)
		}
	}
}
