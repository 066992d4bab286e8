package server

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gomediarecorder/mediarecorder/internal/browsertest"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// TestPageHTTPS: Chromium publishes from the page over HTTPS (a
// certificate made by the test; Chromium told to accept it), under a base
// path, through the one UDP port, over HTTP/2 (the events too); the
// recording decodes.
func TestPageHTTPS(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	mediatest.RequireTool(t, "ffmpeg")
	b := browsertest.NewWithFlags(t, chromedp.Flag("ignore-certificate-errors", true))
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, certFile, keyFile, "page")
	_, base := newTLSServer(t, Config{TLSCert: certFile, TLSKey: keyFile, BasePath: "/rec", UDPPort: freeTCPUDPPort(t)})
	var out struct {
		Protocol string `json:"protocol"`
		Location string `json:"location"`
		ID       string `json:"id"`
		State    string `json:"state"`
		Types    []string
		Events   []string `json:"events"`
		H2       string   `json:"h2"`
	}
	const script = `(async () => {
		const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
		await app.publish({audio: true, video: true});
		const location = app.state.location;
		const types = await app.loadTypes(app.state.session);
		await app.record({mimeType: 'video/webm;codecs=vp8,opus', timeslice: 1000, name: 'over https'});
		await sleep(3000);
		const r = await app.stop();
		for (let i = 0; i < 50 && !app.state.events.some((e) => e.name === 'stop'); i++) await sleep(100);
		const events = app.state.events.map((e) => e.name).filter((n) => n !== 'dataavailable');
		const h2 = performance.getEntriesByType('navigation')[0].nextHopProtocol;
		await app.unpublish();
		return {protocol: window.location.protocol, h2, location, id: r.id, state: r.state, types, events};
	})()`
	b.Eval(t, base+"/rec/", script, &out)
	if out.Protocol != "https:" || out.H2 != "h2" || !strings.HasPrefix(out.Location, "/rec/whip/") || out.State != "inactive" ||
		strings.Join(out.Events, ",") != "start,stop" {
		t.Errorf("page result %+v", out)
	}
	if got := strings.Join(out.Types, " | "); got != " | video/webm;codecs=vp8,opus | video/x-matroska;codecs=vp8,opus" {
		t.Errorf("type menu %q: want default, WebM and Matroska with VP8 and Opus (MP4 cannot hold VP8, audio types no video)", got)
	}
	resp, _, r := tlsGet(t, base+"/rec/api/recordings/"+out.ID+"/media")
	if resp.StatusCode != 200 {
		t.Fatalf("media: %d", resp.StatusCode)
	}
	path := filepath.Join(t.TempDir(), "https.webm")
	if err := os.WriteFile(path, r, 0o644); err != nil {
		t.Fatal(err)
	}
	if msg := mediatest.DecodeVFR(t, path); msg != "" {
		t.Errorf("ffmpeg: %s", msg)
	}
	if p := mediatest.FFprobe(t, path); len(p.Streams) != 2 || p.Duration < 2 {
		t.Errorf("%d streams, %.2f s; want 2 streams, about 3 s", len(p.Streams), p.Duration)
	}
}

// pageView is what the UI test reads off the page.
type pageView struct {
	EmptyVisible bool     `json:"emptyVisible"`
	EmptyText    string   `json:"emptyText"`
	MarkerShown  bool     `json:"markerShown"`
	MarkerText   string   `json:"markerText"`
	Elapsed      string   `json:"elapsed"`
	Size         string   `json:"size"`
	Types        []string `json:"types"`
	ListNames    []string `json:"listNames"`
	ListMeta     []string `json:"listMeta"`
	ErrorShown   bool     `json:"errorShown"`
	ErrorText    string   `json:"errorText"`
	AsksToLeave  bool     `json:"asksToLeave"`
}

// readPage is the script that fills a pageView.
const readPage = `(() => {
	const $ = (id) => document.getElementById(id);
	const shown = (el) => !!el && !el.hidden && el.offsetParent !== null && getComputedStyle(el).visibility !== 'hidden';
	const ev = new Event('beforeunload', {cancelable: true});
	window.dispatchEvent(ev);
	return {
		emptyVisible: shown($('list-empty')), emptyText: $('list-empty').textContent,
		markerShown: shown($('rec-marker')), markerText: $('rec-marker').textContent,
		elapsed: $('rec-elapsed').textContent, size: $('rec-size').textContent,
		types: [...$('mime').options].map((o) => o.value),
		listNames: [...document.querySelectorAll('#list .name')].map((e) => e.textContent),
		listMeta: [...document.querySelectorAll('#list .meta')].map((e) => e.textContent),
		errorShown: shown($('error')), errorText: $('error-text').textContent,
		asksToLeave: ev.defaultPrevented,
	};
})()`

// secondsOf parses the counter m:ss.
func secondsOf(t *testing.T, s string) int {
	var m, sec int
	if _, err := fmt.Sscanf(s, "%d:%d", &m, &sec); err != nil {
		t.Fatalf("counter %q: %v", s, err)
	}
	return m*60 + sec
}

// TestPageUI: the page as a user sees it, in Chromium at desktop and
// phone widths: the empty list says so; once publishing, the type menu
// offers what the tracks can be recorded as; while recording a marker
// shows, the counter advances and the size grows, the list shows the
// named recording growing, and leaving asks first; an error shows in the
// banner. Screenshots go to $PAGE_SCREENSHOTS when set.
func TestPageUI(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	b := browsertest.New(t)
	_, hs := newTestServer(t, Config{})
	shots := os.Getenv("PAGE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	ctx, done := b.Tab(t, hs.URL+"/", 60*time.Second)
	defer done()
	eval := func(js string, out any) {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("evaluating: %v", err)
		}
		if out != nil {
			if err := json.Unmarshal(v, out); err != nil {
				t.Fatalf("%v: %s", err, v)
			}
		}
	}
	shot := func(name string, w, h int64) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h)); err != nil {
			t.Fatal(err)
		}
		eval(`new Promise((r) => setTimeout(() => r(null), 300))`, nil) // relayout
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var v pageView
	eval(`new Promise((r) => setTimeout(() => r(null), 500))`, nil) // the first refresh
	eval(readPage, &v)
	if !v.EmptyVisible || !strings.Contains(v.EmptyText, "No recordings yet") || len(v.ListNames) != 0 {
		t.Errorf("empty list: %+v", v)
	}
	if v.MarkerShown || v.AsksToLeave {
		t.Errorf("before recording: marker %v, asks to leave %v", v.MarkerShown, v.AsksToLeave)
	}
	shot("empty-desktop", 1280, 900)
	shot("empty-phone", 390, 844)

	eval(`(async () => { await app.publish({audio: true, video: true}); await app.loadTypes(app.state.session); return null; })()`, nil)
	eval(readPage, &v)
	if got := strings.Join(v.Types, " | "); got != " | video/webm;codecs=vp8,opus | video/x-matroska;codecs=vp8,opus" {
		t.Errorf("type menu %q", got)
	}
	// An error shows in the banner: a name too long.
	eval(`(async () => { document.getElementById('name').value = 'x'.repeat(201); document.getElementById('btn-record').click();
		for (let i = 0; i < 50 && document.getElementById('error').hidden; i++) await new Promise((r) => setTimeout(r, 100)); return null; })()`, nil)
	eval(readPage, &v)
	if !v.ErrorShown || !strings.Contains(v.ErrorText, "name") {
		t.Errorf("error banner: shown %v, %q", v.ErrorShown, v.ErrorText)
	}
	shot("error-desktop", 1280, 900)

	eval(`(async () => { document.getElementById('name').value = 'Interview with Ada';
		document.getElementById('mime').value = 'video/x-matroska;codecs=vp8,opus';
		document.getElementById('btn-record').click();
		for (let i = 0; i < 100 && !(app.state.rec && app.state.rec.state === 'recording'); i++) await new Promise((r) => setTimeout(r, 100));
		await new Promise((r) => setTimeout(r, 2500)); await app.refresh(); return null; })()`, nil)
	var v1 pageView
	eval(readPage, &v1)
	if v1.ErrorShown {
		t.Errorf("the error stays after a good action: %q", v1.ErrorText)
	}
	if !v1.MarkerShown || !strings.Contains(v1.MarkerText, "REC") || !v1.AsksToLeave {
		t.Errorf("while recording: %+v", v1)
	}
	if len(v1.ListNames) != 1 || !strings.HasPrefix(v1.ListNames[0], "Interview with Ada") || !strings.Contains(v1.ListNames[0], "recording") {
		t.Errorf("list while recording: %q", v1.ListNames)
	}
	shot("recording-desktop", 1280, 900)
	shot("recording-phone", 390, 844)
	eval(`new Promise((r) => setTimeout(() => r(null), 2500))`, nil)
	var v2 pageView
	eval(readPage, &v2)
	if secondsOf(t, v2.Elapsed) <= secondsOf(t, v1.Elapsed) || v2.Size == v1.Size || v2.Size == "0 B" {
		t.Errorf("the counter or size did not advance: %s %s, then %s %s", v1.Elapsed, v1.Size, v2.Elapsed, v2.Size)
	}
	if len(v2.ListMeta) != 1 || len(v1.ListMeta) != 1 || v2.ListMeta[0] == v1.ListMeta[0] {
		t.Errorf("the live recording's line did not grow: %q then %q", v1.ListMeta, v2.ListMeta)
	}
	eval(`(async () => { await app.stop(); await app.refresh(); return null; })()`, nil)
	var v3 pageView
	eval(readPage, &v3)
	if v3.MarkerShown || v3.AsksToLeave || len(v3.ListNames) != 1 || v3.ListNames[0] != "Interview with Ada" || v3.EmptyVisible {
		t.Errorf("after stop: %+v", v3)
	}
	shot("stopped-desktop", 1280, 900)
	shot("stopped-phone", 390, 844)
	// The keep box of the list sets the recording's keep flag.
	eval(`(async () => { document.querySelector('#list li .keep input').click();
		await new Promise((r) => setTimeout(r, 1000)); return null; })()`, nil)
	var list struct{ Recordings []meta }
	mustJSON(t, do(t, "GET", hs.URL+"/api/recordings", nil).body, &list)
	if len(list.Recordings) != 1 || !list.Recordings[0].Keep {
		t.Errorf("after ticking Keep: %+v", list.Recordings)
	}
	eval(`(async () => { await app.unpublish(); return null; })()`, nil)
}
