package mediarecorder_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/internal/browsertest"
)

// mseJS appends the fragmented MP4 at %[1]s to a MediaSource SourceBuffer
// of type %[2]s, plays it to the end and reports the buffered range, the
// media times of the frames Chromium presented (requestVideoFrameCallback)
// and any error.
const mseJS = `(async (url, type) => {
  const r = {error: "", start: -1, end: -1, times: [], ended: false};
  try {
    if (!MediaSource.isTypeSupported(type)) { r.error = "type not supported"; return r; }
    const data = await (await fetch(url)).arrayBuffer();
    const v = document.createElement("video");
    v.muted = true;
    document.body.appendChild(v);
    const ms = new MediaSource();
    v.src = URL.createObjectURL(ms);
    await new Promise(res => ms.addEventListener("sourceopen", res, {once: true}));
    const sb = ms.addSourceBuffer(type);
    sb.appendBuffer(data);
    await new Promise((res, rej) => { sb.onupdateend = res; sb.onerror = () => rej(new Error("append failed")); });
    ms.endOfStream();
    r.start = v.buffered.start(0); r.end = v.buffered.end(v.buffered.length - 1);
    const cb = (now, meta) => { r.times.push(meta.mediaTime); v.requestVideoFrameCallback(cb); };
    v.requestVideoFrameCallback(cb);
    await v.play();
    await new Promise(res => { v.onended = res; setTimeout(res, 15000); });
    r.ended = v.ended;
    if (v.error) r.error = "MediaError " + v.error.code + ": " + v.error.message;
  } catch (e) { r.error = String(e); }
  return r;
})(%[1]q, %[2]q)`

// TestH264BFramesChromium plays recordings of H.264 with B-pyramids in
// headless Chromium: the Matroska and MP4 files load, play and seek, and
// the MP4 (negative composition offsets, trun version 1) buffers from 0
// to its end through Media Source Extensions and presents its frames at
// increasing times.
func TestH264BFramesChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Chromium")
	}
	b := browsertest.New(t)
	dir := t.TempDir()
	src := makeH264(t, dir, "bf", []string{"-bf", "3", "-g", "30", "-x264-params", "b-pyramid=normal"})
	video := loadH264Path(t, src)
	files := map[string]string{}
	var mp4Type string
	for _, name := range []string{"bf.mkv", "bf.mp4"} {
		mime := "video/x-matroska;codecs=avc1"
		if filepath.Ext(name) == ".mp4" {
			mime = "video/mp4;codecs=avc1"
		}
		_, c, _ := record(t, mime, 0, video)
		files[name] = c.file(t, name)
	}
	for nalu, rest := h264.NextNALU(video.samples[0].Data); nalu != nil; nalu, rest = h264.NextNALU(rest) {
		if s, err := h264.ParseSPS(nalu); err == nil {
			mp4Type = fmt.Sprintf(`video/mp4; codecs="avc1.%02x%02x%02x"`, s.ProfileIDC, s.ConstraintFlags, s.LevelIDC)
		}
	}
	base := browsertest.Serve(t, files)
	for name := range files {
		res := b.PlayAndSeek(t, base+"/"+name)
		t.Logf("%s: %+v", name, res)
		if res.Error != "" || !res.CanPlay || !res.Seeked || math.Abs(res.Duration-2) > 0.1 || res.VideoWidth != 320 {
			t.Errorf("%s: %+v", name, res)
		}
	}
	var r struct {
		Error      string
		Start, End float64
		Times      []float64
		Ended      bool
	}
	b.Eval(t, base+"/bf.mp4", fmt.Sprintf(mseJS, base+"/bf.mp4", mp4Type), &r)
	t.Logf("MSE of %s: %+v", mp4Type, r)
	if r.Error != "" || !r.Ended || math.Abs(r.Start) > 0.001 || math.Abs(r.End-2) > 0.05 || len(r.Times) < 10 {
		t.Errorf("MSE: %+v", r)
	}
	for i := 1; i < len(r.Times); i++ {
		if r.Times[i] <= r.Times[i-1] {
			t.Errorf("MSE: frame at %v after %v", r.Times[i], r.Times[i-1])
		}
	}
}
