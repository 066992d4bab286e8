package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/browsertest"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// TestPageChromium drives the page in headless Chromium with its fake
// camera and microphone: publish over WHIP, record 4 s, pause 1 s, resume
// 2 s, stop; the file decodes and lasts 6 s.
func TestPageChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	mediatest.RequireTool(t, "ffmpeg")
	b := browsertest.New(t)
	_, hs := newTestServer(t, Config{})
	var out struct {
		ID     string   `json:"id"`
		State  string   `json:"state"`
		Events []string `json:"events"`
	}
	const script = `(async () => {
		const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
		await app.publish({audio: true, video: true});
		await app.record({mimeType: '', timeslice: 1000});
		await sleep(4000);
		await app.pause();
		await sleep(1000);
		await app.resume();
		await sleep(2000);
		const r = await app.stop();
		for (let i = 0; i < 20 && !app.state.events.some((e) => e.name === 'stop'); i++) await sleep(100);
		const events = app.state.events.map((e) => e.name).filter((n) => n !== 'dataavailable');
		await app.unpublish();
		return {id: r.id, state: r.state, events};
	})()`
	b.Eval(t, hs.URL+"/", script, &out)
	if out.State != "inactive" || strings.Join(out.Events, ",") != "start,pause,resume,stop" {
		t.Errorf("page result %+v", out)
	}
	r := do(t, "GET", hs.URL+"/api/recordings/"+out.ID+"/media", nil)
	if r.status != 200 {
		t.Fatalf("media: %d %s", r.status, r.body)
	}
	path := filepath.Join(t.TempDir(), "page.webm")
	if err := os.WriteFile(path, r.body, 0o644); err != nil {
		t.Fatal(err)
	}
	// The page's camera frames keep Chromium's capture times (see
	// DecodeVFR); the timestamps are checked to increase below.
	if msg := mediatest.DecodeVFR(t, path); msg != "" {
		t.Errorf("ffmpeg: %s", msg)
	}
	p := mediatest.FFprobe(t, path)
	var codecs []string
	for _, s := range p.Streams {
		codecs = append(codecs, s.CodecName)
	}
	if c := strings.Join(codecs, ","); c != "vp8,opus" && c != "opus,vp8" {
		t.Errorf("codecs %v", codecs)
	}
	if p.Duration < 5.5 || p.Duration > 6.5 {
		t.Errorf("duration %.3f s, want 6 ± 0.5", p.Duration)
	}
	checkIncreasing(t, path)
}
