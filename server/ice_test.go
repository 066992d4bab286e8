package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/pion/webrtc/v4"
)

// freeTCPUDPPort returns a port free a moment ago for both TCP and UDP on
// every interface.
func freeTCPUDPPort(t *testing.T) int {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		uc, err := net.ListenPacket("udp", fmt.Sprintf(":%d", port))
		ln.Close()
		if err == nil {
			uc.Close()
			return port
		}
	}
	t.Fatal("no port free for both TCP and UDP")
	return 0
}

// publishNet is publish with the publisher's ICE network types chosen: a
// pion peer sending VP8 and Opus (or Opus only) in real time until the
// test ends. It returns the publisher and the server's answer.
// netOpts shape a publisher of publishNet.
type netOpts struct {
	hold      <-chan struct{}      // send from when it is closed; nil: at once
	networks  []webrtc.NetworkType // the ICE network types; nil: UDP4
	audioOnly bool                 // send Opus only
	vp8       [][]byte             // the VP8 frames sent in a loop; nil: testdata/vp8.ivf's
	frame     time.Duration        // the VP8 frame interval; 0: 1/30 s
}

func publishNet(t *testing.T, base string, o netOpts) (*publisher, string) {
	hold, networks := o.hold, o.networks
	t.Helper()
	if len(networks) == 0 {
		networks = []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	}
	vp8Frames, frame := o.vp8, o.frame
	if vp8Frames == nil {
		vp8Frames = mediatest.IVFFrames(t, mediatest.Testdata(t, "vp8.ivf"))
	}
	if frame == 0 {
		frame = time.Second / 30
	}
	opusPackets := readOpus(t, mediatest.Testdata(t, "opus-stereo.ogg"))
	pc := publisherPC(t, networks...)
	video, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "pub")
	audio, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "pub")
	tracks := []webrtc.TrackLocal{video, audio}
	if o.audioOnly {
		tracks = tracks[1:]
	}
	r := offerTracks(t, pc, base, tracks)
	loc := r.header.Get("Location")
	session := loc[strings.LastIndex(loc, "/")+1:]
	connectAnswer(t, pc, r.body, 30*time.Second)
	loops := []sendLoop{{audio, opusPackets, 20 * time.Millisecond}}
	if !o.audioOnly {
		loops = append(loops, sendLoop{video, vp8Frames, frame})
	}
	sendLoops(t, hold, loops...)
	return &publisher{pc: pc, session: session, location: loc}, string(r.body)
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}

// candidatePorts returns the transport and port of each candidate of an
// SDP.
func candidatePorts(sdp string) []string {
	var out []string
	for _, l := range strings.Split(sdp, "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "a=candidate:") {
			continue
		}
		// a=candidate:foundation component transport priority address port typ ...
		f := strings.Fields(l)
		if len(f) >= 6 {
			out = append(out, strings.ToLower(f[2])+"/"+f[5])
		}
	}
	return out
}

// recordAndCheck records every session as mimeType for about d through
// the API (created and stopped all at once), then checks that each file
// has streams streams and that ffmpeg decodes it without a word.
func recordAndCheck(t *testing.T, base string, pubs []*publisher, mimeType string, streams int, d time.Duration) {
	t.Helper()
	ids := make([]string, len(pubs))
	all := func(f func(i int) error) {
		var wg sync.WaitGroup
		errs := make([]error, len(pubs))
		for i := range pubs {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = f(i) }()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	}
	post := func(url, body string) (int, []byte, error) {
		resp, err := http.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	all(func(i int) error {
		st, b, err := post(base+"/api/recordings", `{"session":"`+pubs[i].session+`","mimeType":"`+mimeType+`"}`)
		if err != nil || st != http.StatusCreated {
			return fmt.Errorf("create %d: %d %s %v", i, st, b, err)
		}
		var rec struct{ ID string }
		if err := json.Unmarshal(b, &rec); err != nil {
			return err
		}
		ids[i] = rec.ID
		return nil
	})
	// Until each has recorded d of media (a loaded box may take longer).
	for _, id := range ids {
		waitFor(t, 3*time.Minute, id+" recording "+d.String(), func() bool {
			return decodeJSON[meta](t, do(t, "GET", base+"/api/recordings/"+id, nil).body).Duration >= d.Seconds()
		})
	}
	all(func(i int) error {
		if st, b, err := post(base+"/api/recordings/"+ids[i]+"/stop", ""); err != nil || st != 200 {
			return fmt.Errorf("stop %d: %d %s %v", i, st, b, err)
		}
		return nil
	})
	dir := t.TempDir()
	for i, id := range ids {
		r := do(t, "GET", base+"/api/recordings/"+id+"/media", nil)
		path := filepath.Join(dir, fmt.Sprintf("%d.webm", i))
		if err := os.WriteFile(path, r.body, 0o644); err != nil {
			t.Fatal(err)
		}
		if msg := mediatest.DecodeVFR(t, path); msg != "" {
			t.Errorf("session %d: ffmpeg: %s", i, msg)
		}
		if p := mediatest.FFprobe(t, path); len(p.Streams) != streams || p.Duration < d.Seconds()/2 {
			t.Errorf("session %d: %d streams, %.2f s; want %d streams, about %v", i, len(p.Streams), p.Duration, streams, d)
		}
	}
}

// TestOneUDPPort: 50 pion publishers at once, each sending VP8 and Opus,
// every session's media on the one UDP port of -udp-port (the answers
// carry no other), every recording (video and audio) clean by ffmpeg.
func TestOneUDPPort(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	mediatest.RequireTool(t, "ffmpeg")
	port := freeTCPUDPPort(t)
	srv, hs := newTestServer(t, Config{UDPPort: port, SessionsPerAddr: -1})
	const n = 50
	// A light VP8 stream (160x120, 15 fps, about 130 kb/s), so that 50 of
	// them with their Opus fit a loaded 2-core box running the race
	// detector; every frame is a key frame of one RTP packet, so that
	// packets lost while the server waits for the CPU cannot keep the
	// video out of a recording (its header waits 2 s for a key frame).
	clip := mediatest.FFmpeg(t, t.TempDir(), "-f", "lavfi", "-i", "testsrc=size=160x120:rate=15", "-t", "2",
		"-c:v", "libvpx", "-b:v", "60k", "-g", "1", "-keyint_min", "1", "-auto-alt-ref", "0", "-lag-in-frames", "0",
		"-deadline", "realtime", "-f", "ivf", "light.ivf")
	light := mediatest.IVFFrames(t, clip)
	// Connect them all first, then send: the box running the test need
	// not carry 50 streams while the later ones connect.
	hold := make(chan struct{})
	pubs := make([]*publisher, n)
	for i := range pubs {
		var answer string
		pubs[i], answer = publishNet(t, hs.URL, netOpts{hold: hold, vp8: light, frame: time.Second / 15})
		cands := candidatePorts(answer)
		if len(cands) == 0 {
			t.Fatalf("answer %d has no candidates", i)
		}
		for _, c := range cands {
			if c != fmt.Sprintf("udp/%d", port) && c != fmt.Sprintf("tcp/%d", port) {
				t.Fatalf("answer %d: candidate %s, want every one on port %d", i, c, port)
			}
		}
	}
	close(hold)
	for _, p := range pubs { // until the tracks are in (a loaded box may take long)
		waitFor(t, 2*time.Minute, "session "+p.session+"'s two tracks", func() bool {
			r := do(t, "GET", hs.URL+"/api/sessions/"+p.session, nil)
			if r.status != 200 {
				t.Fatalf("session %s: %d %s", p.session, r.status, r.body)
			}
			var v sessionView
			mustJSON(t, r.body, &v)
			return len(v.Tracks) == 2
		})
	}
	// And until every track has published frames: the recordings start
	// with media flowing (a track whose first frame comes after the
	// header's wait is left out of the file).
	for _, p := range pubs {
		waitFor(t, 2*time.Minute, "session "+p.session+"'s frames", func() bool { return sessionFrames(srv, p.session) })
	}
	recordAndCheck(t, hs.URL, pubs, "video/webm;codecs=vp8,opus", 2, 3*time.Second)
}

// TestICETCP: a publisher that can only use TCP records through ICE over
// TCP on the port of -udp-port.
func TestICETCP(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	mediatest.RequireTool(t, "ffmpeg")
	port := freeTCPUDPPort(t)
	_, hs := newTestServer(t, Config{UDPPort: port})
	pub, answer := publishNet(t, hs.URL, netOpts{networks: []webrtc.NetworkType{webrtc.NetworkTypeTCP4}})
	if !strings.Contains(strings.Join(candidatePorts(answer), " "), fmt.Sprintf("tcp/%d", port)) {
		t.Fatalf("the answer has no TCP candidate on port %d: %v", port, candidatePorts(answer))
	}
	pair, err := pub.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		t.Fatalf("selected pair: %v %v", pair, err)
	}
	if pair.Local.Protocol != webrtc.ICEProtocolTCP || pair.Remote.Port != uint16(port) {
		t.Errorf("selected pair %s, want TCP to port %d", pair, port)
	}
	recordAndCheck(t, hs.URL, []*publisher{pub}, "video/webm", 2, 3*time.Second)
}

// sessionFrames reports whether every track of the session has published
// frames.
func sessionFrames(srv *Server, id string) bool {
	srv.mu.Lock()
	ss := srv.sessions[id]
	srv.mu.Unlock()
	if ss == nil {
		return false
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.tracks) < ss.expected {
		return false
	}
	for _, tr := range ss.tracks {
		if tr.Stats().Frames == 0 {
			return false
		}
	}
	return true
}
