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
		Min    float64  `json:"min"` // seconds recorded, at least and at most, by the page's clock
		Max    float64  `json:"max"`
	}
	const script = `(async () => {
		const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
		await app.publish({audio: true, video: true});
		const now = () => performance.now() / 1000;
		const t0 = now();
		await app.record({mimeType: '', timeslice: 1000});
		const t1 = now();
		await sleep(4000);
		const t2 = now();
		await app.pause();
		const t3 = now();
		await sleep(1000);
		const t4 = now();
		await app.resume();
		const t5 = now();
		await sleep(2000);
		const t6 = now();
		const r = await app.stop();
		const t7 = now();
		for (let i = 0; i < 20 && !app.state.events.some((e) => e.name === 'stop'); i++) await sleep(100);
		const events = app.state.events.map((e) => e.name).filter((n) => n !== 'dataavailable');
		await app.unpublish();
		// The recording runs from somewhere in [t0, t1] to somewhere in
		// [t2, t3], and from [t4, t5] to [t6, t7]: a loaded machine
		// stretches the requests, not the bounds' validity.
		return {id: r.id, state: r.state, events, min: (t2 - t1) + (t6 - t5), max: (t3 - t0) + (t7 - t4)};
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
	// Media time follows the capture clock: between what the page saw
	// recorded at least and at most, give or take a frame interval and
	// the header's wait for the first key frame.
	if p.Duration < out.Min-0.5 || p.Duration > out.Max+0.5 {
		t.Errorf("duration %.3f s, want %.3f to %.3f s (± 0.5)", p.Duration, out.Min, out.Max)
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
