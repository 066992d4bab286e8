package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/internal/opusfile"
	"github.com/gomediarecorder/mediarecorder/webm"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	bolt "go.etcd.io/bbolt"
)

const testToken = "s3cret"

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// newTestServer starts a Server in a temporary directory behind httptest.
func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	cfg.Logger = testLogger(t)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		hs.Close()
	})
	return s, hs
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request; hdr holds header name/value pairs.
func do(t *testing.T, method, url string, body []byte, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func decodeJSON[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

const pcmuOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtpmap:0 PCMU/8000\r\n" +
	"a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\na=setup:actpass\r\n"

func TestEndpoints(t *testing.T) {
	_, hs := newTestServer(t, Config{Token: testToken})
	auth := []string{"Authorization", "Bearer " + testToken}
	withAuth := func(h ...string) []string { return append(append([]string{}, auth...), h...) }
	big := bytes.Repeat([]byte("x"), maxBody+10)
	unknown := "/api/recordings/0123456789abcdef"
	tests := []struct {
		name       string
		method     string
		path       string
		body       []byte
		hdr        []string
		status     int
		errName    string // the JSON error's name, when set
		contains   string // in the body
		wantHeader [2]string
	}{
		{"preflight whip", "OPTIONS", "/whip", nil, []string{"Origin", "https://x.example", "Access-Control-Request-Method", "POST"}, 204, "", "", [2]string{"Access-Control-Allow-Origin", "*"}},
		{"preflight whip exposes Location", "OPTIONS", "/whip", nil, nil, 204, "", "", [2]string{"Access-Control-Expose-Headers", "Location, Content-Type, Content-Length, Content-Range, Accept-Ranges"}},
		{"preflight whip session", "OPTIONS", "/whip/abc", nil, nil, 204, "", "", [2]string{"Access-Control-Allow-Methods", "GET, POST, DELETE, PATCH, OPTIONS"}},
		{"preflight api", "OPTIONS", "/api/recordings", nil, nil, 204, "", "", [2]string{"Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match, Range"}},
		{"whip without token", "POST", "/whip", []byte("v=0"), []string{"Content-Type", "application/sdp"}, 401, "NotAllowedError", "", [2]string{"Access-Control-Allow-Origin", "*"}},
		{"whip wrong token", "POST", "/whip", []byte("v=0"), []string{"Content-Type", "application/sdp", "Authorization", "Bearer nope"}, 401, "NotAllowedError", "", [2]string{}},
		{"api without token", "GET", "/api/recordings", nil, nil, 401, "NotAllowedError", "", [2]string{}},
		{"api wrong token", "GET", "/api/recordings", nil, []string{"Authorization", "Bearer nope"}, 401, "NotAllowedError", "", [2]string{}},
		{"api token in query", "GET", "/api/recordings?access_token=" + testToken, nil, nil, 200, "", `"recordings":[]`, [2]string{}},
		{"metrics without token", "GET", "/metrics", nil, nil, 401, "NotAllowedError", "", [2]string{}},
		{"list", "GET", "/api/recordings", nil, auth, 200, "", `{"recordings":[]}`, [2]string{"Content-Type", "application/json"}},
		{"metrics", "GET", "/metrics", nil, auth, 200, "", "mediarecorder_sessions 0", [2]string{}},
		{"page", "GET", "/", nil, nil, 200, "", "<!doctype html>", [2]string{}},
		{"whip not sdp", "POST", "/whip", []byte("{}"), withAuth("Content-Type", "application/json"), 400, "SyntaxError", "application/sdp", [2]string{}},
		{"whip bad sdp", "POST", "/whip", []byte("hello"), withAuth("Content-Type", "application/sdp"), 400, "NotSupportedError", "bad SDP offer", [2]string{}},
		{"whip no supported codec", "POST", "/whip", []byte(pcmuOffer), withAuth("Content-Type", "application/sdp"), 400, "NotSupportedError", "audio/PCMU", [2]string{}},
		{"whip too large", "POST", "/whip", big, withAuth("Content-Type", "application/sdp"), 413, "QuotaExceededError", "", [2]string{}},
		{"whip patch", "PATCH", "/whip/0123456789abcdef", []byte("a=candidate"), withAuth("Content-Type", "application/trickle-ice-sdpfrag"), 405, "NotSupportedError", "", [2]string{"Allow", "DELETE, OPTIONS"}},
		{"whip delete unknown", "DELETE", "/whip/0123456789abcdef", nil, auth, 404, "NotFoundError", "", [2]string{}},
		{"create bad json", "POST", "/api/recordings", []byte("{"), withAuth("Content-Type", "application/json"), 400, "SyntaxError", "", [2]string{}},
		{"create no session", "POST", "/api/recordings", []byte(`{}`), auth, 400, "TypeError", "session", [2]string{}},
		{"create unknown session", "POST", "/api/recordings", []byte(`{"session":"nope"}`), auth, 404, "NotFoundError", "session", [2]string{}},
		{"create too large", "POST", "/api/recordings", big, auth, 413, "QuotaExceededError", "", [2]string{}},
		{"get unknown", "GET", unknown, nil, auth, 404, "NotFoundError", "", [2]string{}},
		{"get traversal", "GET", "/api/recordings/..%2f..%2fetc%2fpasswd", nil, auth, 404, "NotFoundError", "", [2]string{}},
		{"delete unknown", "DELETE", unknown, nil, auth, 404, "NotFoundError", "", [2]string{}},
		{"media unknown", "GET", unknown + "/media", nil, auth, 404, "NotFoundError", "", [2]string{}},
		{"events unknown", "GET", unknown + "/events", nil, auth, 404, "NotFoundError", "", [2]string{}},
		{"pause unknown", "POST", unknown + "/pause", nil, auth, 404, "NotFoundError", "", [2]string{}},
		{"stop unknown", "POST", unknown + "/stop", nil, auth, 404, "NotFoundError", "", [2]string{}},
		{"unknown action", "POST", unknown + "/explode", nil, auth, 404, "NotFoundError", "", [2]string{}},
		{"unknown api path", "GET", "/api/nothing", nil, auth, 404, "NotFoundError", "", [2]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, hs.URL+tc.path, tc.body, tc.hdr...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tc.status, r.body)
			}
			if tc.errName != "" {
				e := decodeJSON[apiError](t, r.body)
				if e.Error.Name != tc.errName || e.Error.Message == "" {
					t.Errorf("error %+v, want name %s and a message", e.Error, tc.errName)
				}
			}
			if tc.contains != "" && !bytes.Contains(r.body, []byte(tc.contains)) {
				t.Errorf("body %s does not contain %q", r.body, tc.contains)
			}
			if k := tc.wantHeader[0]; k != "" && !strings.HasPrefix(r.header.Get(k), tc.wantHeader[1]) {
				t.Errorf("%s: %q, want %q", k, r.header.Get(k), tc.wantHeader[1])
			}
		})
	}
}

func TestNewUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "recordings")
	_, err := New(Config{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("New(%s): %v, want an error naming the directory", dir, err)
	}
}

func TestCheckOffer(t *testing.T) {
	tests := []struct {
		name, sdp string
		n         int
		err       string
	}{
		{"garbage", "hello", 0, "bad SDP offer"},
		{"pcmu", pcmuOffer, 0, "offered audio/PCMU"},
		{"opus", strings.ReplaceAll(strings.ReplaceAll(pcmuOffer, "SAVPF 0", "SAVPF 111"), "0 PCMU/8000", "111 opus/48000/2"), 1, ""},
		{"recvonly", strings.ReplaceAll(pcmuOffer, "sendonly", "recvonly"), 0, "no audio or video"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := checkOffer(tc.sdp)
			if n != tc.n || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("checkOffer: %d, %v; want %d, %q", n, err, tc.n, tc.err)
			}
		})
	}
}

// publisher is a pion PeerConnection sending VP8 and Opus from testdata
// over WHIP, in real time and in a loop, until the test ends.
type publisher struct {
	pc       *webrtc.PeerConnection
	session  string
	location string
}

func publish(t *testing.T, base, token string) *publisher {
	t.Helper()
	vp8Frames := mediatest.IVFFrames(t, mediatest.Testdata(t, "vp8.ivf"))
	opusPackets := readOpus(t, mediatest.Testdata(t, "opus-stereo.ogg"))

	pc := publisherPC(t)
	video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "pub")
	if err != nil {
		t.Fatal(err)
	}
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "pub")
	if err != nil {
		t.Fatal(err)
	}
	var hdr []string
	if token != "" {
		hdr = []string{"Authorization", "Bearer " + token}
	}
	r := offerTracks(t, pc, base, []webrtc.TrackLocal{video, audio}, hdr...)
	if ct := r.header.Get("Content-Type"); ct != "application/sdp" {
		t.Errorf("answer Content-Type %q", ct)
	}
	loc := r.header.Get("Location")
	// Relative on a single node; absolute, with the node's prefix, in a
	// cluster.
	_, session, ok := strings.Cut(loc, "/whip/")
	_, rest, prefixed := strings.Cut(session, "-")
	if !ok || !validID(session) && !(prefixed && validID(rest)) {
		t.Fatalf("Location %q", loc)
	}
	if !strings.Contains(string(r.body), "a=candidate") {
		t.Errorf("the answer has no candidates:\n%s", r.body)
	}
	// Media written before DTLS is up goes nowhere, and the clip's only
	// key frame is its first: send once connected.
	connectAnswer(t, pc, r.body, 10*time.Second)
	sendLoops(t, nil, sendLoop{video, vp8Frames, time.Second / 30}, sendLoop{audio, opusPackets, 20 * time.Millisecond})
	return &publisher{pc: pc, session: session, location: loc}
}

// connectAnswer sets a WHIP answer on the publisher's PeerConnection and
// waits until it connects (at most timeout: a hang guard).
func connectAnswer(t *testing.T, pc *webrtc.PeerConnection, answer []byte, timeout time.Duration) {
	t.Helper()
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-connected:
	case <-time.After(timeout):
		t.Fatal("the publisher did not connect")
	}
}

// sendLoop is a track and the samples sendLoops writes to it, one every d.
type sendLoop struct {
	tr      *webrtc.TrackLocalStaticSample
	samples [][]byte
	d       time.Duration
}

// sendLoops writes each loop's samples to its track in real time, over
// and over, until the test ends; once hold is closed when it is not nil.
func sendLoops(t *testing.T, hold <-chan struct{}, loops ...sendLoop) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for _, l := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if hold != nil {
				select {
				case <-hold:
				case <-ctx.Done():
					return
				}
			}
			tick := time.NewTicker(l.d)
			defer tick.Stop()
			for i := 0; ; i++ {
				if err := l.tr.WriteSample(media.Sample{Data: l.samples[i%len(l.samples)], Duration: l.d}); err != nil && !errors.Is(err, io.ErrClosedPipe) {
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		}()
	}
}

// readOpus returns the audio packets of an Ogg Opus file.
func readOpus(t *testing.T, path string) [][]byte {
	_, pkts, err := opusfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(pkts))
	for i, p := range pkts {
		out[i] = p.Data
	}
	return out
}

type event struct{ name, data string }

// subscribe reads the SSE stream of a recording until it ends.
func subscribe(t *testing.T, url string) <-chan []event {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan []event, 1)
	go func() {
		defer resp.Body.Close()
		var evs []event
		var cur event
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				cur.name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				cur.data = line[len("data: "):]
			case line == "" && cur.name != "":
				evs = append(evs, cur)
				cur = event{}
			}
		}
		out <- evs
	}()
	return out
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// autoRecording waits for the recording -autorecord starts (the server's
// only one) to be recording, and returns it.
func autoRecording(t *testing.T, base string) meta {
	t.Helper()
	var rec meta
	waitFor(t, 10*time.Second, "the automatic recording", func() bool {
		list := decodeJSON[struct{ Recordings []meta }](t, do(t, "GET", base+"/api/recordings", nil).body)
		if len(list.Recordings) == 1 && list.Recordings[0].State == "recording" {
			rec = list.Recordings[0]
			return true
		}
		return false
	})
	return rec
}

// checkIncreasing checks that the packets of every stream of the file at
// path go forward in time: no two frames alike, none backwards.
func checkIncreasing(t *testing.T, path string) {
	t.Helper()
	for _, sel := range []string{"v", "a"} {
		pts := mediatest.PacketPTS(t, path, sel)
		for i := 1; i < len(pts); i++ {
			if pts[i] <= pts[i-1] {
				t.Errorf("%s: a packet at %d ms after one at %d ms", sel, pts[i], pts[i-1])
			}
		}
	}
}

// checkMedia downloads a recording's media and checks it with ffmpeg and
// ffprobe: it decodes cleanly, holds vp8 and opus, and lasts about want.
func checkMedia(t *testing.T, base, id string, want, slack float64) {
	t.Helper()
	r := do(t, "GET", base+"/api/recordings/"+id+"/media", nil)
	if r.status != 200 {
		t.Fatalf("media: %d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "video/webm") {
		t.Errorf("media Content-Type %q", ct)
	}
	path := filepath.Join(t.TempDir(), id+".webm")
	if err := os.WriteFile(path, r.body, 0o644); err != nil {
		t.Fatal(err)
	}
	// WebRTC media keeps its capture times, and video may start a
	// fraction of a frame after audio (after a key-frame wait): decoded on
	// the file's time base (see mediatest.DecodeVFR), with every stream's
	// timestamps checked to increase.
	if out := mediatest.DecodeVFR(t, path); out != "" {
		t.Errorf("ffmpeg: %s", out)
	}
	checkIncreasing(t, path)
	p := mediatest.FFprobe(t, path)
	var codecs []string
	for _, s := range p.Streams {
		codecs = append(codecs, s.CodecName)
	}
	if strings.Join(codecs, ",") != "vp8,opus" && strings.Join(codecs, ",") != "opus,vp8" {
		t.Errorf("codecs %v, want vp8 and opus", codecs)
	}
	t.Logf("%s: %.3f s, %d frames", id, p.Duration, len(p.Streams))
	if p.Duration < want-slack || p.Duration > want+slack {
		t.Errorf("duration %.3f s, want %.1f ± %.1f", p.Duration, want, slack)
	}
	pr, err := webm.Probe(bytes.NewReader(r.body))
	if err != nil || !pr.Seekable {
		t.Errorf("webm.Probe: seekable %v, %v (%v)", pr.Seekable, err, pr.Problems)
	}
	// A finished recording's entry has the Duration the file says
	// (Recorder.Duration), what players show.
	if m := decodeJSON[meta](t, do(t, "GET", base+"/api/recordings/"+id, nil).body); m.State == "inactive" &&
		math.Abs(m.Duration-pr.Header.Duration.Seconds()) > 0.002 {
		t.Errorf("entry duration %.3f s, the file's Duration %.3f s", m.Duration, pr.Header.Duration.Seconds())
	}
}

func TestRecordWHIP(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	_, hs := newTestServer(t, Config{})
	pub := publish(t, hs.URL, "")

	r := do(t, "POST", hs.URL+"/api/recordings", []byte(`{"session":"`+pub.session+`","mimeType":"","timeslice":500}`), "Content-Type", "application/json")
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	rec := decodeJSON[meta](t, r.body)
	if !validID(rec.ID) || rec.Session != pub.session || rec.State != "recording" || rec.Created.IsZero() {
		t.Fatalf("created %+v", rec)
	}
	base := hs.URL + "/api/recordings/" + rec.ID
	events := subscribe(t, base+"/events")

	time.Sleep(time.Second)
	for _, step := range []struct {
		action, state string
		status        int
		sleep         time.Duration
	}{
		{"requestData", "recording", 200, 0},
		{"pause", "paused", 200, 500 * time.Millisecond},
		{"pause", "paused", 200, 0},
		{"resume", "recording", 200, time.Second},
		{"stop", "inactive", 200, 0},
		{"pause", "", 409, 0},
		{"resume", "", 409, 0},
		{"requestData", "", 409, 0},
		{"stop", "", 409, 0},
	} {
		r := do(t, "POST", base+"/"+step.action, nil)
		if r.status != step.status {
			t.Fatalf("%s: %d %s, want %d", step.action, r.status, r.body, step.status)
		}
		if step.status == 200 {
			if got := decodeJSON[meta](t, r.body); got.State != step.state {
				t.Errorf("%s: state %q, want %q", step.action, got.State, step.state)
			}
		} else if e := decodeJSON[apiError](t, r.body); e.Error.Name != "InvalidStateError" {
			t.Errorf("%s: error %+v", step.action, e)
		}
		time.Sleep(step.sleep)
	}

	got := decodeJSON[meta](t, do(t, "GET", base, nil).body)
	if got.State != "inactive" || got.Size == 0 || got.Duration < 1.5 || got.Duration > 3 ||
		!strings.HasPrefix(got.MimeType, "video/webm;codecs=") || got.Error != nil {
		t.Errorf("stopped recording %+v", got)
	}
	checkMedia(t, hs.URL, rec.ID, 2, 0.6)

	// Range requests.
	rr := do(t, "GET", base+"/media", nil, "Range", "bytes=0-99")
	if rr.status != http.StatusPartialContent || len(rr.body) != 100 {
		t.Errorf("range: %d, %d bytes", rr.status, len(rr.body))
	}

	// The events, in the recorder's order.
	var evs []event
	select {
	case evs = <-events:
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream did not end after stop")
	}
	var names []string
	blobs := 0
	for i, ev := range evs {
		if ev.name == "dataavailable" {
			var d struct {
				Size     int64   `json:"size"`
				Timecode float64 `json:"timecode"`
			}
			if err := json.Unmarshal([]byte(ev.data), &d); err != nil {
				t.Errorf("event %d: %v", i, err)
			}
			if blobs == 0 && d.Timecode != 0 {
				t.Errorf("first dataavailable timecode %v", d.Timecode)
			}
			blobs++
			continue
		}
		names = append(names, ev.name)
	}
	if strings.Join(names, ",") != "start,pause,resume,stop" || blobs < 2 || evs[len(evs)-2].name != "dataavailable" {
		t.Errorf("events %v (%d blobs)", evs, blobs)
	}
	// A late subscriber gets the whole history.
	if again := <-subscribe(t, base+"/events"); len(again) != len(evs) {
		t.Errorf("replay: %d events, want %d", len(again), len(evs))
	}

	list := decodeJSON[struct{ Recordings []meta }](t, do(t, "GET", hs.URL+"/api/recordings", nil).body)
	if len(list.Recordings) != 1 || list.Recordings[0].ID != rec.ID {
		t.Errorf("list %+v", list)
	}
	metrics := string(do(t, "GET", hs.URL+"/metrics", nil).body)
	for _, want := range []string{"mediarecorder_sessions 1", "mediarecorder_recordings_total 1", `mediarecorder_recordings{state="inactive"} 1`, "mediarecorder_recorded_bytes_total "} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}

	if r := do(t, "DELETE", hs.URL+pub.location, nil); r.status != 200 {
		t.Errorf("DELETE session: %d %s", r.status, r.body)
	}
	if r := do(t, "DELETE", hs.URL+pub.location, nil); r.status != 404 {
		t.Errorf("DELETE session again: %d %s", r.status, r.body)
	}
	if r := do(t, "DELETE", base, nil); r.status != http.StatusNoContent {
		t.Errorf("DELETE recording: %d %s", r.status, r.body)
	}
	if r := do(t, "GET", base, nil); r.status != 404 {
		t.Errorf("GET after DELETE: %d", r.status)
	}
}

// TestAutoRecordSessionEnd: AutoRecord starts a recording for a new
// session, and ending the session stops it with a finished file.
func TestAutoRecordSessionEnd(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	_, hs := newTestServer(t, Config{AutoRecord: true})
	pub := publish(t, hs.URL, "")
	rec := autoRecording(t, hs.URL)
	if rec.Session != pub.session {
		t.Errorf("session %q, want %q", rec.Session, pub.session)
	}
	time.Sleep(1500 * time.Millisecond)
	if r := do(t, "DELETE", hs.URL+pub.location, nil); r.status != 200 {
		t.Fatalf("DELETE session: %d %s", r.status, r.body)
	}
	waitFor(t, 10*time.Second, "the recording to stop", func() bool {
		m := decodeJSON[meta](t, do(t, "GET", hs.URL+"/api/recordings/"+rec.ID, nil).body)
		return m.State == "inactive" && m.Size > 0
	})
	checkMedia(t, hs.URL, rec.ID, 1.5, 0.7)
}

// TestRecovery: a live WebM file left by a crash, with its catalog entry,
// is finished by New and marked recovered.
func TestRecovery(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	dir := t.TempDir()
	id := newID()
	path := filepath.Join(dir, id+".webm")

	// A live recording of 2 s of VP8, cut off before Stop.
	track := mediarecorder.NewSampleTrack(mediarecorder.Codec{MimeType: "video/VP8", ClockRate: 90000})
	r, err := mediarecorder.New(mediarecorder.NewStream(track), mediarecorder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var live bytes.Buffer
	got := make(chan struct{}, 1)
	r.OnDataAvailable(func(e mediarecorder.BlobEvent) {
		mu.Lock()
		live.Write(e.Data.Bytes())
		mu.Unlock()
		select {
		case got <- struct{}{}:
		default:
		}
	})
	if err := r.Start(0); err != nil {
		t.Fatal(err)
	}
	for _, f := range mediatest.IVFFrames(t, mediatest.Testdata(t, "vp8.ivf")) {
		if err := track.WriteSampleWait(mediarecorder.Sample{Data: f, Duration: time.Second / 30}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.RequestData(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no dataavailable")
	}
	mu.Lock()
	data := bytes.Clone(live.Bytes())
	mu.Unlock()
	_ = r.Stop()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := webm.Probe(bytes.NewReader(data)); err != nil || p.Seekable {
		t.Fatalf("the crashed file should not be seekable: %+v %v", p, err)
	}

	// The catalog.db of earlier versions: one JSON row per id, no owner.
	db, err := bolt.Open(filepath.Join(dir, "catalog.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Now().UTC().Truncate(time.Second)
	rows := map[string]string{
		id: `{"id":"` + id + `","session":"gone","state":"recording","mimeType":"video/webm;codecs=vp8","size":0,"duration":0,"created":"` + created.Format(time.RFC3339Nano) + `","file":"` + id + `.webm","finished":false}`,
		// An entry with an id that must not reach the filesystem is ignored.
		"../../x": `{"id":"../../x","file":"../../x.webm","finished":false}`,
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("recordings"))
		if err != nil {
			return err
		}
		for k, v := range rows {
			if err := b.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	_, hs := newTestServer(t, Config{Dir: dir})
	r2 := do(t, "GET", hs.URL+"/api/recordings/"+id, nil)
	if r2.status != 200 {
		t.Fatalf("GET: %d %s", r2.status, r2.body)
	}
	m := decodeJSON[meta](t, r2.body)
	if !m.Recovered || m.State != "inactive" || m.Duration < 1.5 || m.Size == 0 || m.Error != nil || !m.Created.Equal(created) {
		t.Errorf("recovered %+v", m)
	}
	if !bytes.Contains(r2.body, []byte(`"recovered":true`)) {
		t.Errorf("no recovered field: %s", r2.body)
	}
	fixed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := webm.Probe(bytes.NewReader(fixed)); err != nil || !p.Seekable {
		t.Errorf("the recovered file is not seekable: %+v %v", p, err)
	}
	if out := mediatest.DecodeVFR(t, path); out != "" {
		t.Errorf("ffmpeg: %s", out)
	}
	list := decodeJSON[struct{ Recordings []meta }](t, do(t, "GET", hs.URL+"/api/recordings", nil).body)
	if len(list.Recordings) != 1 {
		t.Errorf("list %+v", list)
	}
}

// TestShutdown: Shutdown stops a live recording and finishes its file; a
// new Server on the same directory lists it as a normal, finished one.
func TestShutdown(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	dir := t.TempDir()
	s, err := New(Config{Dir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	pub := publish(t, hs.URL, "")
	r := do(t, "POST", hs.URL+"/api/recordings", []byte(`{"session":"`+pub.session+`"}`))
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	rec := decodeJSON[meta](t, r.body)
	time.Sleep(1500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if r := do(t, "POST", hs.URL+"/whip", []byte(pub.pc.LocalDescription().SDP), "Content-Type", "application/sdp"); r.status != http.StatusServiceUnavailable {
		t.Errorf("WHIP after Shutdown: %d %s", r.status, r.body)
	}

	_, hs2 := newTestServer(t, Config{Dir: dir})
	m := decodeJSON[meta](t, do(t, "GET", hs2.URL+"/api/recordings/"+rec.ID, nil).body)
	if m.State != "inactive" || m.Recovered || m.Size == 0 || m.Duration < 1 {
		t.Errorf("after restart %+v", m)
	}
	checkMedia(t, hs2.URL, rec.ID, 1.5, 0.7)
}

// offerTracks adds tracks to pc as send-only (their RTCP read so that the
// interceptors run), gathers every candidate, POSTs the offer to
// base+"/whip" with hdr and the SDP Content-Type, and returns the 201
// answer (the test fails on any other status).
func offerTracks(t *testing.T, pc *webrtc.PeerConnection, base string, tracks []webrtc.TrackLocal, hdr ...string) response {
	t.Helper()
	for _, tr := range tracks {
		sender, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			t.Fatal(err)
		}
		go func() { // read RTCP so that the interceptors run
			buf := make([]byte, 1500)
			for {
				if _, _, err := sender.Sender().Read(buf); err != nil {
					return
				}
			}
		}()
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	r := do(t, "POST", base+"/whip", []byte(pc.LocalDescription().SDP), append([]string{"Content-Type", "application/sdp"}, hdr...)...)
	if r.status != http.StatusCreated {
		t.Fatalf("POST /whip: %d %s", r.status, r.body)
	}
	return r
}

// publisherPC is a publisher's PeerConnection (pion's default codecs and
// interceptors, loopback candidates, no mDNS) on the given networks (UDP4
// when none), closed when the test ends.
func publisherPC(t *testing.T, networks ...webrtc.NetworkType) *webrtc.PeerConnection {
	t.Helper()
	if len(networks) == 0 {
		networks = []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes(networks)
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(ir))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc
}
