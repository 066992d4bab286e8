package webm

// Tests that mux real VP8, VP9, Opus and PCM made by ffmpeg and check the
// result with ffmpeg, ffprobe and mkvinfo.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// avInput is the real media for one recording: video + Opus.
type avInput struct {
	tracks []TrackEntry
	frames []frame
	end    time.Duration // end of the media fed in
	video  *ivfFile
}

func loadAV(t *testing.T, video string) *avInput {
	t.Helper()
	v := loadIVF(t, video)
	o, audio := loadOpus(t, "opus.ogg", 2)
	codec := map[string]string{"VP80": "V_VP8", "VP90": "V_VP9"}[v.fourcc]
	if codec == "" {
		t.Fatalf("fourcc %q", v.fourcc)
	}
	in := &avInput{
		tracks: []TrackEntry{
			{Number: 1, Type: TrackTypeVideo, CodecID: codec, PixelWidth: v.width, PixelHeight: v.height},
			o.entry(2),
		},
		frames: interleave(v.frames, audio),
		video:  v,
	}
	last := audio[len(audio)-1]
	in.end = max(last.ts+opusDuration(last.data), v.frames[len(v.frames)-1].ts+time.Second/30)
	return in
}

// mux writes frames to a new file in t.TempDir() and returns its path.
func mux(t *testing.T, name string, opts Options, frames []frame) (string, *Writer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(t, w, frames)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, w
}

func countFrames(frames []frame, track uint64) int {
	n := 0
	for _, f := range frames {
		if f.track == track {
			n++
		}
	}
	return n
}

func checkStreams(t *testing.T, r *probeResult, in *avInput, vcodec string) {
	t.Helper()
	v, a := r.stream("video"), r.stream("audio")
	if v == nil || a == nil {
		t.Fatalf("ffprobe streams: %+v", r.Streams)
	}
	if v.CodecName != vcodec || v.Width != int(in.video.width) || v.Height != int(in.video.height) {
		t.Errorf("video stream %+v, want %s %dx%d", v, vcodec, in.video.width, in.video.height)
	}
	if a.CodecName != "opus" || a.Channels != 2 || a.SampleRate != "48000" {
		t.Errorf("audio stream %+v", a)
	}
	if v.NbReadPackets != strconv.Itoa(countFrames(in.frames, 1)) || a.NbReadPackets != strconv.Itoa(countFrames(in.frames, 2)) {
		t.Errorf("packets read: video %s audio %s, want %d %d", v.NbReadPackets, a.NbReadPackets,
			countFrames(in.frames, 1), countFrames(in.frames, 2))
	}
}

func checkDuration(t *testing.T, got, want time.Duration) {
	t.Helper()
	if d := got - want; d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("duration %v, want %v ± 50ms", got, want)
	}
}

func TestMediaVP8OpusSeekable(t *testing.T) {
	in := loadAV(t, "vp8.ivf")
	path, w := mux(t, "vp8.webm", Options{Tracks: in.tracks, Seekable: true}, in.frames)
	ffmpegDecode(t, path)
	r := ffprobe(t, path)
	checkStreams(t, r, in, "vp8")
	checkDuration(t, r.duration(), in.end)
	checkDuration(t, w.Duration(), in.end)
	if !strings.Contains(r.Format.FormatName, "webm") {
		t.Errorf("format %q", r.Format.FormatName)
	}
	info := mkvinfo(t, path)
	for _, s := range []string{"Seek head", "Cues", "Cue point", "Duration: 00:00:02", "Document type: webm",
		"Codec ID: V_VP8", "Codec ID: A_OPUS", "Pixel width: 160"} {
		if !strings.Contains(info, s) {
			t.Errorf("mkvinfo output lacks %q", s)
		}
	}
	if n := strings.Count(info, "Seek entry"); n != 3 {
		t.Errorf("mkvinfo shows %d seek entries, want 3", n)
	}
	if n := strings.Count(info, "Cue point"); n != 2 {
		t.Errorf("mkvinfo shows %d cue points, want 2 (one per video key frame)", n)
	}
	if n := strings.Count(info, "Simple block"); n != len(in.frames) {
		t.Errorf("mkvinfo shows %d blocks, want %d", n, len(in.frames))
	}
}

func TestMediaVP9OpusLive(t *testing.T) {
	in := loadAV(t, "vp9.ivf")
	path, w := mux(t, "vp9.webm", Options{Tracks: in.tracks}, in.frames)
	ffmpegDecode(t, path)
	r := ffprobe(t, path)
	checkStreams(t, r, in, "vp9")
	checkDuration(t, w.Duration(), in.end)
	info := mkvinfo(t, path)
	if strings.Contains(info, "Cues") || strings.Contains(info, "Seek head") {
		t.Error("live stream has Cues or a SeekHead")
	}
	if !strings.Contains(info, "Codec ID: V_VP9") {
		t.Error("mkvinfo: no V_VP9 track")
	}
	if n := strings.Count(info, "Simple block"); n != len(in.frames) {
		t.Errorf("mkvinfo shows %d blocks, want %d", n, len(in.frames))
	}
}

// TestMediaSeekableSnapshots copies the file while it is being written, at
// several points, and checks each copy decodes every frame written so far.
func TestMediaSeekableSnapshots(t *testing.T) {
	in := loadAV(t, "vp8.ivf")
	dir := t.TempDir()
	path := filepath.Join(dir, "growing.webm")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, Options{Tracks: in.tracks, Seekable: true, MaxClusterDuration: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for i, fr := range in.frames {
		writeFrames(t, w, []frame{fr})
		if i != len(in.frames)/3 && i != 2*len(in.frames)/3 {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		snap := filepath.Join(dir, "snap"+strconv.Itoa(i)+".webm")
		if err := os.WriteFile(snap, b, 0o644); err != nil {
			t.Fatal(err)
		}
		p := parseOutput(t, b)
		if len(p.clusters) < 2 {
			t.Fatalf("snapshot %d: %d clusters", i, len(p.clusters))
		}
		ffmpegDecode(t, snap)
		r := ffprobe(t, snap)
		want := in.frames[:i+1]
		if v, a := r.stream("video"), r.stream("audio"); v == nil || a == nil ||
			v.NbReadPackets != strconv.Itoa(countFrames(want, 1)) || a.NbReadPackets != strconv.Itoa(countFrames(want, 2)) {
			t.Errorf("snapshot %d: streams %+v, want %d video and %d audio packets", i, r.Streams, countFrames(want, 1), countFrames(want, 2))
		}
		mkvinfo(t, snap)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	// The finished file cut after its third cluster still reads up to there.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := parseOutput(t, b)
	if len(p.clusters) < 5 {
		t.Fatalf("%d clusters", len(p.clusters))
	}
	cut := filepath.Join(dir, "cut.webm")
	if err := os.WriteFile(cut, b[:p.clusters[3].off], 0o644); err != nil {
		t.Fatal(err)
	}
	blocks := 0
	for _, c := range p.clusters[:3] {
		blocks += len(c.blocks(t))
	}
	r := ffprobe(t, cut)
	got := 0
	for _, s := range r.Streams {
		n, _ := strconv.Atoi(s.NbReadPackets)
		got += n
	}
	if got != blocks {
		t.Errorf("cut file: ffprobe read %d packets, want %d", got, blocks)
	}
}

func TestMediaMatroskaPCM(t *testing.T) {
	v := loadIVF(t, "vp8.ivf")
	pcm, err := os.ReadFile(mediaFile(t, "pcm.raw"))
	if err != nil {
		t.Fatal(err)
	}
	const chunk = 48000 * 2 * 2 / 50 // 20 ms of s16le stereo
	var audio []frame
	for i := 0; i*chunk < len(pcm); i++ {
		audio = append(audio, frame{2, time.Duration(i) * 20 * time.Millisecond, true, pcm[i*chunk : min(len(pcm), (i+1)*chunk)]})
	}
	video := v.frames[:30] // 1 s
	opts := Options{
		DocType: "matroska",
		Tracks: []TrackEntry{
			{Number: 1, Type: TrackTypeVideo, CodecID: "V_VP8", PixelWidth: v.width, PixelHeight: v.height},
			{Number: 2, Type: TrackTypeAudio, CodecID: "A_PCM/INT/LIT", SamplingFrequency: 48000, Channels: 2, BitDepth: 16},
		},
		Seekable: true,
	}
	path, _ := mux(t, "pcm.mkv", opts, interleave(video, audio))
	ffmpegDecode(t, path)
	r := ffprobe(t, path)
	if a := r.stream("audio"); a == nil || a.CodecName != "pcm_s16le" || a.Channels != 2 || a.NbReadPackets != strconv.Itoa(len(audio)) {
		t.Errorf("audio stream %+v", a)
	}
	if !strings.HasPrefix(r.Format.FormatName, "matroska") {
		t.Errorf("format %q", r.Format.FormatName)
	}
	checkDuration(t, r.duration(), time.Second)
	if info := mkvinfo(t, path); !strings.Contains(info, "Document type: matroska") || !strings.Contains(info, "Bit depth: 16") {
		t.Error("mkvinfo: DocType matroska or bit depth missing")
	}
}

func TestMediaAudioOnlyClusters(t *testing.T) {
	o, audio := loadOpus(t, "opus12.ogg", 1)
	for _, seekable := range []bool{true, false} {
		name := map[bool]string{true: "seekable.webm", false: "live.webm"}[seekable]
		path, _ := mux(t, name, Options{Tracks: []TrackEntry{o.entry(1)}, Seekable: seekable}, audio)
		ffmpegDecode(t, path)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		p := parseOutput(t, b)
		if len(p.clusters) < 3 {
			t.Errorf("%s: %d clusters for 12 s of audio, want >= 3", name, len(p.clusters))
		}
		var prev uint64
		for i, c := range p.clusters {
			ts := c.uint(t, idTimestamp)
			if i > 0 && ts-prev > 5000 {
				t.Errorf("%s: cluster %d spans %d ms", name, i-1, ts-prev)
			}
			prev = ts
		}
		r := ffprobe(t, path)
		if a := r.stream("audio"); a == nil || a.CodecName != "opus" || a.NbReadPackets != strconv.Itoa(len(audio)) {
			t.Errorf("%s: audio stream %+v", name, a)
		}
		info := mkvinfo(t, path)
		if seekable {
			last := audio[len(audio)-1]
			checkDuration(t, r.duration(), last.ts+opusDuration(last.data))
			if n := strings.Count(info, "Cue point"); n != len(p.clusters) {
				t.Errorf("%d cue points for %d clusters", n, len(p.clusters))
			}
		}
	}
}

func TestMediaLongGap(t *testing.T) {
	v := loadIVF(t, "vp8.ivf")
	frames := append([]frame(nil), v.frames...)
	const gap = 40 * time.Second
	for i := len(frames) / 2; i < len(frames); i++ {
		frames[i].ts += gap
	}
	tracks := []TrackEntry{{Number: 1, Type: TrackTypeVideo, CodecID: "V_VP8", PixelWidth: v.width, PixelHeight: v.height}}
	for _, seekable := range []bool{true, false} {
		path, _ := mux(t, "gap.webm", Options{Tracks: tracks, Seekable: seekable}, frames)
		ffmpegDecode(t, path)
		r := ffprobe(t, path)
		if s := r.stream("video"); s == nil || s.NbReadPackets != strconv.Itoa(len(frames)) {
			t.Errorf("video stream %+v, want %d packets", s, len(frames))
		}
		if seekable {
			checkDuration(t, r.duration(), frames[len(frames)-1].ts+time.Second/30)
		}
		mkvinfo(t, path)
		b, _ := os.ReadFile(path)
		p := parseOutput(t, b)
		found := false
		for _, c := range p.clusters {
			if c.uint(t, idTimestamp) == uint64((frames[len(frames)/2].ts+time.Millisecond/2)/time.Millisecond) {
				found = true
			}
		}
		if !found {
			t.Error("no cluster starts after the gap")
		}
	}
}
