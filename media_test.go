package mediarecorder_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/internal/opusfile"
)

// media is a track's real samples, read from a testdata file.
type media struct {
	codec   mr.Codec
	samples []mr.Sample
}

func (m media) duration() time.Duration {
	var d time.Duration
	for _, s := range m.samples {
		d += s.Duration
	}
	return d
}

// loadIVF reads an IVF file's frames with durations from their timestamps.
func loadIVF(t testing.TB, name, mime string) media {
	t.Helper()
	h, frames, err := mediatest.ReadIVF(mediatest.Testdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	unit := time.Second * time.Duration(h.TimebaseNum) / time.Duration(h.TimebaseDen)
	m := media{codec: mr.Codec{MimeType: mime, ClockRate: 90000}}
	for i, f := range frames {
		d := unit
		if i+1 < len(frames) {
			d = time.Duration(frames[i+1].PTS-f.PTS) * unit
		}
		m.samples = append(m.samples, mr.Sample{Data: f.Data, Duration: d})
	}
	return m
}

// loadOpus reads the Opus packets of an Ogg Opus file.
func loadOpus(t testing.TB, name string) media {
	t.Helper()
	head, pkts, err := opusfile.Read(mediatest.Testdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	m := media{codec: mr.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: uint16(head.Channels)}}
	for _, p := range pkts {
		m.samples = append(m.samples, mr.Sample{Data: p.Data, Duration: p.Duration()})
	}
	return m
}

// loadH264 reads the access units of an Annex B file (30 fps).
func loadH264(t testing.TB, name string) media {
	t.Helper()
	f, err := os.Open(mediatest.Testdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := h264.NewAccessUnitReader(f)
	m := media{codec: mr.Codec{MimeType: "video/H264", ClockRate: 90000}}
	for {
		au, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		m.samples = append(m.samples, mr.Sample{Data: append([]byte(nil), au...), Duration: time.Second / 30})
	}
	return m
}

// loadWAV cuts a WAV file into 20 ms samples.
func loadWAV(t testing.TB, name string) media {
	t.Helper()
	w, err := mediatest.ReadWAV(mediatest.Testdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	step := w.SampleRate / 50 * w.Channels * 2
	m := media{codec: mr.Codec{MimeType: "audio/PCM", ClockRate: uint32(w.SampleRate), Channels: uint16(w.Channels)}}
	for off := 0; off < len(w.Data); off += step {
		end := min(off+step, len(w.Data))
		n := (end - off) / (2 * w.Channels)
		m.samples = append(m.samples, mr.Sample{Data: w.Data[off:end], Duration: time.Duration(n) * time.Second / time.Duration(w.SampleRate)})
	}
	return m
}

// feeder writes several tracks' samples in media-time order, as a live
// source would (but faster than real time).
type feeder struct {
	tracks []*mr.SampleTrack
	media  []media
	next   []int
	at     []time.Duration
	loop   bool // start the media again at its end (for long recordings)
	wait   bool // wait for the recorders instead of letting them drop (faster than real time)
}

func newFeeder(ms ...media) *feeder {
	f := &feeder{media: ms, next: make([]int, len(ms)), at: make([]time.Duration, len(ms))}
	for _, m := range ms {
		f.tracks = append(f.tracks, mr.NewSampleTrack(m.codec))
	}
	return f
}

func (f *feeder) stream() *mr.Stream {
	var ts []mr.Track
	for _, t := range f.tracks {
		ts = append(ts, t)
	}
	return mr.NewStream(ts...)
}

// feedUntil writes every sample that starts before media time until.
func (f *feeder) feedUntil(t testing.TB, until time.Duration) {
	t.Helper()
	for {
		best := -1
		for i := range f.media {
			if f.loop && f.next[i] == len(f.media[i].samples) {
				f.next[i] = 0
			}
			if f.next[i] < len(f.media[i].samples) && f.at[i] < until && (best < 0 || f.at[i] < f.at[best]) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		s := f.media[best].samples[f.next[best]]
		if f.wait {
			f.tracks[best].WaitRoom()
		}
		if err := f.tracks[best].WriteSample(s); err != nil {
			t.Fatal(err)
		}
		f.next[best]++
		f.at[best] += s.Duration
	}
}

func (f *feeder) feedAll(t testing.TB) { f.feedUntil(t, time.Duration(math.MaxInt64)) }

// collector gathers a recorder's blobs and events.
type collector struct {
	mu     sync.Mutex
	blobs  []mr.BlobEvent
	events []string
	errs   []error
	done   chan struct{}
}

func collect(r *mr.Recorder) *collector {
	c := &collector{done: make(chan struct{})}
	ev := func(n string) func() {
		return func() { c.mu.Lock(); c.events = append(c.events, n); c.mu.Unlock() }
	}
	r.OnStart(ev("start"))
	r.OnPause(ev("pause"))
	r.OnResume(ev("resume"))
	r.OnError(func(err error) {
		c.mu.Lock()
		c.errs = append(c.errs, err)
		c.events = append(c.events, "error")
		c.mu.Unlock()
	})
	r.OnDataAvailable(func(e mr.BlobEvent) {
		c.mu.Lock()
		c.blobs = append(c.blobs, e)
		c.events = append(c.events, "dataavailable")
		c.mu.Unlock()
	})
	r.OnStop(func() { ev("stop")(); close(c.done) })
	return c
}

func (c *collector) wait(t testing.TB) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		t.Fatal("no stop event")
	}
}

func (c *collector) file(t testing.TB, name string) string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var b bytes.Buffer
	for _, e := range c.blobs {
		b.Write(e.Data.Bytes())
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// record feeds ms through a recorder with the given type and timeslice and
// returns the recording's file.
func record(t *testing.T, mime string, timeslice time.Duration, ms ...media) (*mr.Recorder, *collector, string) {
	t.Helper()
	f := newFeeder(ms...)
	r, err := mr.New(f.stream(), mr.Options{MimeType: mime})
	if err != nil {
		t.Fatal(err)
	}
	c := collect(r)
	if err := r.Start(timeslice); err != nil {
		t.Fatal(err)
	}
	f.feedAll(t)
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	c.wait(t)
	ext := ".webm"
	if strings.HasPrefix(mime, "audio/ogg") {
		ext = ".ogg"
	} else if strings.Contains(r.MimeType(), "matroska") || strings.Contains(mime, "matroska") {
		ext = ".mkv"
	}
	return r, c, c.file(t, "out"+ext)
}

func streamOf(p mediatest.Probe, typ string) *mediatest.Stream {
	for i := range p.Streams {
		if p.Streams[i].CodecType == typ {
			return &p.Streams[i]
		}
	}
	return nil
}

// TestRecordRealMedia records every codec and container from real files and
// has ffmpeg, ffprobe and mkvinfo judge the output.
func TestRecordRealMedia(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	mediatest.RequireTool(t, "ffprobe")
	mediatest.RequireTool(t, "mkvinfo")
	cases := []struct {
		name, mime, wantType string
		load                 func(t testing.TB) []media
		video, audio         string
		width, height        int
		matroska             bool
	}{
		{"vp8+opus", "", "video/webm;codecs=vp8,opus", func(t testing.TB) []media {
			return []media{loadIVF(t, "vp8.ivf", "video/VP8"), loadOpus(t, "opus-stereo.ogg")}
		}, "vp8", "opus", 320, 240, true},
		{"vp9+opus", "video/webm", "video/webm;codecs=vp9,opus", func(t testing.TB) []media {
			return []media{loadIVF(t, "vp9.ivf", "video/VP9"), loadOpus(t, "opus-stereo.ogg")}
		}, "vp9", "opus", 320, 240, true},
		{"av1+opus", "video/webm;codecs=av01.0.04M.08,opus", "video/webm;codecs=av01.0.04M.08,opus", func(t testing.TB) []media {
			return []media{loadIVF(t, "av1.ivf", "video/AV1"), loadOpus(t, "opus-stereo.ogg")}
		}, "av1", "opus", 320, 240, true},
		{"h264+opus", "", "video/x-matroska;codecs=avc1,opus", func(t testing.TB) []media {
			return []media{loadH264(t, "h264.h264"), loadOpus(t, "opus-stereo.ogg")}
		}, "h264", "opus", 320, 240, true},
		{"h264 high cropped", "video/x-matroska;codecs=avc1.640028", "video/x-matroska;codecs=avc1.640028", func(t testing.TB) []media {
			return []media{loadH264(t, "h264-high.h264")}
		}, "h264", "", 636, 358, true},
		{"vp8 resolution change", "", "video/webm;codecs=vp8", func(t testing.TB) []media {
			return []media{loadIVF(t, "vp8-resize.ivf", "video/VP8")}
		}, "vp8", "", 320, 240, true},
		{"opus mono 60ms webm", "", "audio/webm;codecs=opus", func(t testing.TB) []media {
			return []media{loadOpus(t, "opus-mono-60ms.ogg")}
		}, "", "opus", 0, 0, true},
		{"pcm webm", "audio/webm;codecs=pcm", "audio/webm;codecs=pcm", func(t testing.TB) []media {
			return []media{loadWAV(t, "pcm.wav")}
		}, "", "pcm_s16le", 0, 0, true},
		{"opus ogg", "audio/ogg", "audio/ogg;codecs=opus", func(t testing.TB) []media {
			return []media{loadOpus(t, "opus-stereo.ogg")}
		}, "", "opus", 0, 0, false},
		{"opus ogg quoted", `audio/ogg; codecs="opus"`, "audio/ogg;codecs=opus", func(t testing.TB) []media {
			return []media{loadOpus(t, "opus-mono-60ms.ogg")}
		}, "", "opus", 0, 0, false},
		{"h264+opus mp4", "video/mp4", "video/mp4;codecs=avc1,opus", func(t testing.TB) []media {
			return []media{loadH264(t, "h264.h264"), loadOpus(t, "opus-stereo.ogg")}
		}, "h264", "opus", 320, 240, false},
		{"vp9+opus mp4", "video/mp4;codecs=vp09.00.10.08,opus", "video/mp4;codecs=vp09.00.10.08,opus", func(t testing.TB) []media {
			return []media{loadIVF(t, "vp9.ivf", "video/VP9"), loadOpus(t, "opus-stereo.ogg")}
		}, "vp9", "opus", 320, 240, false},
		{"av1 mp4", "video/mp4", "video/mp4;codecs=av1", func(t testing.TB) []media {
			return []media{loadIVF(t, "av1.ivf", "video/AV1")}
		}, "av1", "", 320, 240, false},
		{"opus mp4", "audio/mp4", "audio/mp4;codecs=opus", func(t testing.TB) []media {
			return []media{loadOpus(t, "opus-stereo.ogg")}
		}, "", "opus", 0, 0, false},
	}
	for _, tc := range cases {
		for _, timeslice := range []time.Duration{0, 300 * time.Millisecond} {
			name := tc.name
			if timeslice > 0 {
				name += "/timeslice"
			}
			t.Run(name, func(t *testing.T) {
				ms := tc.load(t)
				var want time.Duration
				for _, m := range ms {
					want = max(want, m.duration())
				}
				r, c, path := record(t, tc.mime, timeslice, ms...)
				c.mu.Lock()
				events := strings.Join(c.events, ",")
				blobs := append([]mr.BlobEvent(nil), c.blobs...)
				c.mu.Unlock()
				if !strings.HasPrefix(events, "start,dataavailable") || !strings.HasSuffix(events, "dataavailable,stop") {
					t.Errorf("events %s", events)
				}
				if timeslice > 0 && len(blobs) < 3 {
					t.Errorf("only %d blobs with a timeslice of %v over %v", len(blobs), timeslice, want)
				}
				if timeslice == 0 && len(blobs) != 1 {
					t.Errorf("%d blobs without a timeslice", len(blobs))
				}
				checkBlobs(t, blobs, tc.wantType)
				if s := r.Stats(); s.Skipped != 0 || s.Dropped != 0 {
					t.Errorf("stats %+v", s)
				}
				if out := mediatest.Decode(t, path); out != "" {
					t.Fatalf("ffmpeg: %s", out)
				}
				p := mediatest.FFprobe(t, path)
				if v := streamOf(p, "video"); (v != nil) != (tc.video != "") || v != nil && (v.CodecName != tc.video || v.Width != tc.width || v.Height != tc.height) {
					t.Errorf("video stream %+v, want %s %dx%d", v, tc.video, tc.width, tc.height)
				}
				if a := streamOf(p, "audio"); (a != nil) != (tc.audio != "") || a != nil && a.CodecName != tc.audio {
					t.Errorf("audio stream %+v, want %s", a, tc.audio)
				}
				// A finished file (single blob) knows its duration; a live one
				// is measured by decoding.
				if timeslice == 0 || !tc.matroska {
					if math.Abs(p.Duration-want.Seconds()) > 0.1 {
						t.Errorf("duration %.3f s, fed %.3f s", p.Duration, want.Seconds())
					}
				}
				for _, s := range p.Streams {
					if s.NbReadFrames == 0 {
						t.Errorf("stream %d: no frames decoded", s.Index)
					}
				}
				if tc.matroska {
					info := mediatest.MKVInfo(t, path)
					hasCues := strings.Contains(info, "Cues")
					if timeslice == 0 && (!hasCues || !strings.Contains(info, "Seek head") || !strings.Contains(info, "Duration")) {
						t.Errorf("a finished file needs Cues, a SeekHead and Duration:\n%s", head(info, 40))
					}
					if timeslice > 0 && hasCues {
						t.Errorf("a live recording has Cues")
					}
				}
			})
		}
	}
}

func head(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// checkBlobs: every blob has the full type; the first non-empty blob begins
// with the container header and no later one does; timecodes start at 0 and
// grow.
func checkBlobs(t *testing.T, blobs []mr.BlobEvent, typ string) {
	t.Helper()
	isOgg, isMP4 := strings.HasPrefix(typ, "audio/ogg"), strings.Contains(typ, "/mp4")
	isHeader := func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x1a\x45\xdf\xa3")) }
	switch {
	case isOgg:
		isHeader = func(b []byte) bool { return bytes.HasPrefix(b, []byte("OggS\x00\x02")) } // a BOS page
	case isMP4:
		isHeader = func(b []byte) bool { return len(b) >= 8 && string(b[4:8]) == "ftyp" }
	}
	first := true
	last := -1.0
	for i, b := range blobs {
		if b.Data.Type() != typ {
			t.Errorf("blob %d type %q, want %q", i, b.Data.Type(), typ)
		}
		if i == 0 && b.Timecode != 0 {
			t.Errorf("first timecode %v", b.Timecode)
		}
		if b.Timecode < last {
			t.Errorf("timecode %v after %v", b.Timecode, last)
		}
		last = b.Timecode
		if b.Data.Size() == 0 {
			continue
		}
		data := b.Data.Bytes()
		header := isHeader(data)
		if first && !header {
			t.Errorf("the first blob does not begin with the header")
		}
		if !first && header {
			t.Errorf("blob %d begins with a header again", i)
		}
		if isOgg && !bytes.HasPrefix(data, []byte("OggS")) {
			t.Errorf("blob %d does not begin on a page", i)
		}
		if isMP4 && !first && (len(data) < 8 || string(data[4:8]) != "moof" && string(data[4:8]) != "mfra") {
			t.Errorf("blob %d does not begin at a fragment (moof)", i)
		}
		first = false
	}
}

// recordSteps records ms through a recorder with opts on synctest's clock
// (the recording's time does not depend on the machine's load): steps
// feeds and commands it after Start, then the rest is fed and the recorder
// stops. It returns the recorder and its events.
func recordSteps(t *testing.T, opts mr.Options, ms []media, steps func(t *testing.T, f *feeder, r *mr.Recorder)) (*mr.Recorder, *collector) {
	t.Helper()
	var r *mr.Recorder
	var c *collector
	synctest.Test(t, func(t *testing.T) {
		mr.UseBubbleClock(t)
		f := newFeeder(ms...)
		var err error
		if r, err = mr.New(f.stream(), opts); err != nil {
			t.Fatal(err)
		}
		c = collect(r)
		must(t, r.Start(0))
		steps(t, f, r)
		f.feedAll(t)
		must(t, r.Stop())
		c.wait(t)
	})
	return r, c
}

// TestRequestData cuts blobs on demand; their concatenation is one valid file.
func TestRequestData(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	// synctest.Wait lets the recorder take what was fed before each
	// request.
	_, c := recordSteps(t, mr.Options{}, []media{loadIVF(t, "vp8.ivf", "video/VP8"), loadOpus(t, "opus-stereo.ogg")},
		func(t *testing.T, f *feeder, r *mr.Recorder) {
			f.feedUntil(t, 700*time.Millisecond)
			synctest.Wait()
			must(t, r.RequestData())
			f.feedUntil(t, 1400*time.Millisecond)
			synctest.Wait()
			must(t, r.RequestData())
		})
	c.mu.Lock()
	n := len(c.blobs)
	blobs := append([]mr.BlobEvent(nil), c.blobs...)
	c.mu.Unlock()
	if n != 3 {
		t.Fatalf("%d blobs, want 3", n)
	}
	checkBlobs(t, blobs, "video/webm;codecs=vp8,opus")
	if blobs[1].Timecode <= 0 || blobs[2].Timecode <= blobs[1].Timecode {
		t.Errorf("timecodes %v %v %v", blobs[0].Timecode, blobs[1].Timecode, blobs[2].Timecode)
	}
	path := c.file(t, "rd.webm")
	if out := mediatest.Decode(t, path); out != "" {
		t.Fatalf("ffmpeg: %s", out)
	}
	p := mediatest.FFprobe(t, path)
	if len(p.Streams) != 2 || p.Streams[0].NbReadFrames != 60 || p.Streams[1].NbReadFrames != 101 {
		t.Errorf("streams %+v", p.Streams)
	}
}

// TestPauseResumeTimeline: paused time is cut out, the timeline stays
// continuous, and video resumes on a key frame.
func TestPauseResumeTimeline(t *testing.T) {
	for _, c := range []struct{ mime, file, codec, ext string }{
		{"", "vp8.ivf", "video/VP8", ".webm"},
		{"video/mp4", "vp9.ivf", "video/VP9", ".mp4"},
	} {
		t.Run(c.ext, func(t *testing.T) { testPauseResumeTimeline(t, c.mime, c.file, c.codec, c.ext) })
	}
}

func testPauseResumeTimeline(t *testing.T, mime, file, codec, ext string) {
	mediatest.RequireTool(t, "ffprobe")
	// synctest.Wait lets the recorder take what was fed before the pause
	// and the resume, and the pause lasts no wall time (on the wall clock,
	// a pause later than the stamps of the frames after the resume took
	// them for late ones).
	r, c := recordSteps(t, mr.Options{MimeType: mime}, []media{loadIVF(t, file, codec), loadOpus(t, "opus-stereo.ogg")},
		func(t *testing.T, f *feeder, r *mr.Recorder) {
			f.feedUntil(t, 500*time.Millisecond)
			synctest.Wait()
			must(t, r.Pause())
			f.feedUntil(t, 900*time.Millisecond) // dropped: paused
			synctest.Wait()
			must(t, r.Resume())
		})
	c.mu.Lock()
	events := strings.Join(c.events, ",")
	c.mu.Unlock()
	if events != "start,pause,resume,dataavailable,stop" {
		t.Errorf("events %s", events)
	}
	path := c.file(t, "pr"+ext)
	if out := mediatest.Decode(t, path); out != "" {
		t.Fatalf("ffmpeg: %s", out)
	}
	p := mediatest.FFprobe(t, path)
	// 2 s fed, 0.4 s of it while paused: about 1.6 s, no gap.
	if p.Duration < 1.45 || p.Duration > 1.75 {
		t.Errorf("duration %.3f, want about 1.6 s", p.Duration)
	}
	// Video before the key frame at 1 s is skipped after the resume.
	if s := r.Stats(); s.Skipped == 0 || s.KeyFrameRequests < 2 {
		t.Errorf("stats %+v: want skipped delta frames and key frame requests at start and resume", s)
	}
}

// TestManyRecorders: one track, several recorders, each gets every sample.
func TestManyRecorders(t *testing.T) {
	mediatest.RequireTool(t, "ffprobe")
	f := newFeeder(loadOpus(t, "opus-stereo.ogg"))
	var cs []*collector
	var rs []*mr.Recorder
	for range 3 {
		r, err := mr.New(f.stream(), mr.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, collect(r))
		rs = append(rs, r)
		must(t, r.Start(0))
	}
	f.feedAll(t)
	for i, r := range rs {
		must(t, r.Stop())
		cs[i].wait(t)
		p := mediatest.FFprobe(t, cs[i].file(t, "m.webm"))
		if len(p.Streams) != 1 || p.Streams[0].NbReadFrames != 101 {
			t.Errorf("recorder %d: %+v", i, p.Streams)
		}
	}
}

// TestBadInput: garbage, empty samples, zero durations, a video track that
// never sends a key frame, H.264 without SPS/PPS, AV1 without a sequence
// header: no panic, no hang, a valid file of what could be stored.
func TestBadInput(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	a := loadOpus(t, "opus-stereo.ogg")
	garbage := [][]byte{nil, {}, {0}, {0xff, 0xff, 0xff}, bytes.Repeat([]byte{0x9d}, 100), {0x00, 0x00, 0x01}}
	vp8 := loadIVF(t, "vp8.ivf", "video/VP8")
	av1 := loadIVF(t, "av1.ivf", "video/AV1")
	h := loadH264(t, "h264.h264")

	withGarbage := func(m media) media {
		out := media{codec: m.codec}
		for i, s := range m.samples {
			out.samples = append(out.samples, s)
			if i%7 == 3 {
				out.samples = append(out.samples, mr.Sample{Data: garbage[i%len(garbage)], Duration: 0})
			}
		}
		return out
	}
	noKey := media{codec: vp8.codec}
	noKey.samples = append(noKey.samples, vp8.samples[1:30]...)
	noSPS := media{codec: h.codec}
	for _, s := range h.samples {
		var b []byte
		for nalu, rest := h264.NextNALU(s.Data); nalu != nil; nalu, rest = h264.NextNALU(rest) {
			if typ := h264.NALUType(nalu); typ != h264.NALUTypeSPS && typ != h264.NALUTypePPS {
				b = append(append(b, 0, 0, 0, 1), nalu...)
			}
		}
		noSPS.samples = append(noSPS.samples, mr.Sample{Data: b, Duration: s.Duration})
	}
	noSeq := media{codec: av1.codec}
	for _, s := range av1.samples {
		// Drop every OBU but the frames: no sequence header at all.
		noSeq.samples = append(noSeq.samples, mr.Sample{Data: s.Data[len(s.Data)/2:], Duration: s.Duration})
	}
	zeroDur := media{codec: a.codec}
	for _, s := range a.samples {
		zeroDur.samples = append(zeroDur.samples, mr.Sample{Data: s.Data})
	}

	for _, tc := range []struct {
		name      string
		ms        []media
		wantVideo bool
	}{
		{"garbage in both", []media{withGarbage(vp8), withGarbage(a)}, true},
		{"video without key frame", []media{noKey, a}, false},
		{"h264 without SPS/PPS", []media{noSPS, a}, false},
		{"av1 without sequence header", []media{noSeq, a}, false},
		{"opus zero durations", []media{zeroDur}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, c, path := record(t, "", 0, tc.ms...)
			c.mu.Lock()
			errs := c.errs
			c.mu.Unlock()
			if len(errs) != 0 {
				t.Errorf("errors %v", errs)
			}
			if out := mediatest.Decode(t, path); out != "" {
				t.Fatalf("ffmpeg: %s", out)
			}
			p := mediatest.FFprobe(t, path)
			if (streamOf(p, "video") != nil) != tc.wantVideo {
				t.Errorf("video stream present = %v, want %v", streamOf(p, "video") != nil, tc.wantVideo)
			}
			if a := streamOf(p, "audio"); a == nil || a.NbReadFrames < 100 {
				t.Errorf("audio %+v", a)
			}
			if math.Abs(p.Duration-2.0) > 0.15 {
				t.Errorf("duration %.3f", p.Duration)
			}
			if tc.name != "opus zero durations" && r.Stats().Skipped == 0 {
				t.Errorf("nothing counted as skipped: %+v", r.Stats())
			}
		})
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var _ = errors.Is

// TestMP4BadInput: an MP4 recording whose video never shows its
// configuration ends with an UnknownError, and what the other track gave is
// delivered in a valid file.
func TestMP4BadInput(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	h := loadH264(t, "h264.h264")
	noSPS := media{codec: h.codec}
	for _, s := range h.samples {
		var b []byte
		for nalu, rest := h264.NextNALU(s.Data); nalu != nil; nalu, rest = h264.NextNALU(rest) {
			if typ := h264.NALUType(nalu); typ != h264.NALUTypeSPS && typ != h264.NALUTypePPS {
				b = append(append(b, 0, 0, 0, 1), nalu...)
			}
		}
		noSPS.samples = append(noSPS.samples, mr.Sample{Data: b, Duration: s.Duration})
	}
	a := loadOpus(t, "opus-stereo.ogg")
	f := newFeeder(noSPS, a)
	r, err := mr.New(f.stream(), mr.Options{MimeType: "video/mp4"})
	if err != nil {
		t.Fatal(err)
	}
	c := collect(r)
	must(t, r.Start(0))
	f.feedAll(t)
	c.wait(t)
	c.mu.Lock()
	events := strings.Join(c.events, ",")
	errs := c.errs
	c.mu.Unlock()
	if events != "start,error,dataavailable,stop" || !errors.Is(errs[0], mr.ErrUnknown) {
		t.Fatalf("events %s, errors %v", events, errs)
	}
	path := c.file(t, "bad.mp4")
	if out := mediatest.Decode(t, path); out != "" {
		t.Fatalf("ffmpeg: %s", out)
	}
	if p := mediatest.FFprobe(t, path); streamOf(p, "video") != nil || streamOf(p, "audio") == nil {
		t.Errorf("streams %+v", p.Streams)
	}
}

// TestCloseVideoFrames: a busy browser can capture two frames a few
// milliseconds apart. The second goes at least half the average frame
// spacing after the first, so that ffmpeg and players never see two
// frames in one frame period, and the frames after keep their times.
func TestCloseVideoFrames(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	v := loadIVF(t, "vp8.ivf", "video/VP8")
	tr := mr.NewSampleTrack(v.codec)
	r, err := mr.New(mr.NewStream(tr), mr.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := collect(r)
	must(t, r.Start(0))
	base := mr.Now()
	// 20 fps, but frame 12 comes 4 ms after frame 11 and frame 30 3 ms
	// after frame 29.
	var want []time.Duration
	for i, s := range v.samples[:40] {
		at := time.Duration(i) * 50 * time.Millisecond
		if i == 12 || i == 30 {
			at -= 46 * time.Millisecond
		}
		want = append(want, at)
		must(t, tr.WriteSampleAt(mr.Sample{Data: s.Data}, base+at))
	}
	tr.Stop()
	c.wait(t)
	path := c.file(t, "close.webm")
	if out := mediatest.Decode(t, path); out != "" {
		t.Errorf("ffmpeg: %s", out)
	}
	pts := mediatest.PacketPTS(t, path, "v")
	if len(pts) != len(want) {
		t.Fatalf("%d frames, want %d", len(pts), len(want))
	}
	for i, ms := range pts {
		if i > 0 && ms-pts[i-1] < 25 {
			t.Errorf("frame %d at %d ms, %d ms after the one before: want at least 25", i, ms, ms-pts[i-1])
		}
		if i != 12 && i != 30 && ms != int64(want[i]/time.Millisecond) {
			t.Errorf("frame %d at %d ms, want %d", i, ms, want[i]/time.Millisecond)
		}
	}
}
