package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/ogg"
	"github.com/gomediarecorder/mediarecorder/webm"
)

// TestPublish publishes VP8 and Opus from testdata with a pion peer to the
// example's endpoint, ends with DELETE, and has ffmpeg judge the file.
func TestPublish(t *testing.T) {
	if testing.Short() {
		t.Skip("publishes in real time over WebRTC and runs ffmpeg")
	}
	mediatest.RequireTool(t, "ffmpeg")
	out := filepath.Join(t.TempDir(), "out.webm")
	ep, err := newEndpoint(out)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(ep)
	defer hs.Close()

	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return strings.HasPrefix(name, "lo") }) // lo, lo0
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	video := addTrack(t, pc, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000})
	audio := addTrack(t, pc, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2})
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})

	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	resp, err := http.Post(hs.URL+"/whip", "application/sdp", strings.NewReader(pc.LocalDescription().SDP))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /whip: %s %s", resp.Status, answer)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-connected:
	case <-time.After(20 * time.Second):
		t.Fatal("not connected")
	}

	// The clips twice over (4 s), in real time: the recording starts once
	// both tracks have arrived, at the next key frame.
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); send(t, video, ivfFrames(t), time.Second/30) }()
	go func() { defer wg.Done(); send(t, audio, opusPackets(t), 20*time.Millisecond) }()
	wg.Wait()
	time.Sleep(300 * time.Millisecond) // the last packets in flight
	req, _ := http.NewRequest(http.MethodDelete, hs.URL+"/whip", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ep.wait(ctx); err != nil {
		t.Fatal(err)
	}

	if msg := mediatest.DecodeVFR(t, out); msg != "" {
		t.Errorf("ffmpeg: %s", msg)
	}
	p := mediatest.FFprobe(t, out)
	if len(p.Streams) != 2 || p.Duration < 2.5 || p.Duration > 4.5 {
		t.Errorf("ffprobe: %+v", p)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if pr, err := webm.Probe(bytes.NewReader(data)); err != nil || !pr.Seekable {
		t.Errorf("webm.Probe: seekable %v, %v %v", pr.Seekable, err, pr.Problems)
	}
	t.Logf("%s: %.3f s, %d bytes", out, p.Duration, len(data))
}

// TestEndpointRefuses: a second offer, a bad offer and other methods.
func TestEndpointRefuses(t *testing.T) {
	ep, err := newEndpoint(filepath.Join(t.TempDir(), "out.webm"))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(ep)
	defer hs.Close()
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/whip", "", http.StatusMethodNotAllowed},
		{"POST", "/other", "", http.StatusNotFound},
		{"POST", "/whip", "not SDP", http.StatusBadRequest},
		{"POST", "/whip", "v=0", http.StatusBadRequest},      // not stuck after a bad offer
		{"DELETE", "/whip", "", http.StatusMethodNotAllowed}, // nothing to end
	} {
		req, _ := http.NewRequest(c.method, hs.URL+c.path, strings.NewReader(c.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s %s %q: %s, want %d", c.method, c.path, c.body, resp.Status, c.status)
		}
	}
}

func addTrack(t *testing.T, pc *webrtc.PeerConnection, c webrtc.RTPCodecCapability) *webrtc.TrackLocalStaticSample {
	t.Helper()
	tr, err := webrtc.NewTrackLocalStaticSample(c, strings.Split(c.MimeType, "/")[0], "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

// send writes samples twice over, each lasting d, in real time.
func send(t *testing.T, tr *webrtc.TrackLocalStaticSample, samples [][]byte, d time.Duration) {
	start := time.Now()
	for i := range 2 * len(samples) {
		time.Sleep(time.Until(start.Add(time.Duration(i) * d)))
		if err := tr.WriteSample(media.Sample{Data: samples[i%len(samples)], Duration: d}); err != nil {
			t.Error(err)
			return
		}
	}
}

func ivfFrames(t *testing.T) [][]byte {
	f, err := os.Open(mediatest.Testdata(t, "vp8.ivf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, frame)
	}
}

// opusPackets returns the 20 ms packets of the Ogg Opus test file.
func opusPackets(t *testing.T) [][]byte {
	f, err := os.Open(mediatest.Testdata(t, "opus-stereo.ogg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := ogg.NewPacketReader(f)
	var pkts [][]byte
	for i := 0; ; i++ {
		p, _, err := r.NextPacket()
		if errors.Is(err, io.EOF) {
			return pkts
		}
		if err != nil {
			t.Fatal(err)
		}
		if i >= 2 { // after OpusHead and OpusTags
			pkts = append(pkts, append([]byte(nil), p...))
		}
	}
}

func TestAnnounced(t *testing.T) {
	offer := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=recvonly\r\n" +
		"m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=inactive\r\n" +
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=sendrecv\r\n"
	n, err := announced(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer})
	if err != nil || n != 2 {
		t.Errorf("announced = %d, %v; want 2 (the sendonly audio and the sendrecv video)", n, err)
	}
	if _, err := announced(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}); err == nil {
		t.Error("an offer without media: no error")
	}
}
