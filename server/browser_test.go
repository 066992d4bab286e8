package server

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/browsertest"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/internal/s3test"
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

// TestStoredMediaChromium: a recording kept in S3 (SeaweedFS) plays and
// seeks in Chromium through GET .../media, which answers its Range
// requests with ranged GETs on the object (no local copy is left).
func TestStoredMediaChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	mediatest.RequireTool(t, "ffmpeg")
	s3 := s3test.Shared(t)
	b := browsertest.New(t)
	t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretKey)
	t.Setenv("AWS_REGION", s3test.Region)
	t.Setenv("AWS_ENDPOINT_URL_S3", s3.Endpoint)
	s, hs := newTestServer(t, Config{Store: "s3://" + s3.Bucket + "/" + s3.Prefix})
	pub := publish(t, hs.URL, "")
	r := do(t, "POST", hs.URL+"/api/recordings", []byte(`{"session":"`+pub.session+`"}`))
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	m := decodeJSON[meta](t, r.body)
	time.Sleep(4 * time.Second)
	if r := do(t, "POST", hs.URL+"/api/recordings/"+m.ID+"/stop", nil); r.status != 200 {
		t.Fatalf("stop: %d %s", r.status, r.body)
	}
	if _, err := os.Stat(filepath.Join(s.cfg.Dir, m.ID+".webm")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the spool file is still there (%v): the media would not come from the store", err)
	}
	checkMedia(t, hs.URL, m.ID, 4, 0.7)
	res := b.PlayAndSeek(t, hs.URL+"/api/recordings/"+m.ID+"/media")
	t.Logf("Chromium: %+v", res)
	if res.Error != "" || !res.Seekable || !res.Seeked || res.Duration < 3.3 || res.Duration > 4.7 {
		t.Errorf("Chromium did not play and seek the stored recording: %+v", res)
	}
}
