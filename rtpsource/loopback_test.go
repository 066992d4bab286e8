package rtpsource

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// loopbackAPI returns a pion API that only uses UDP over the loopback
// interface, with pion's default codecs and the interceptors register
// adds (nil: pion's defaults) after the first ones given.
func loopbackAPI(t *testing.T, register func(*webrtc.MediaEngine, *interceptor.Registry) error, first ...interceptor.Factory) *webrtc.API {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	for _, f := range first {
		ir.Add(f)
	}
	if register == nil {
		register = webrtc.RegisterDefaultInterceptors
	}
	if err := register(m, ir); err != nil {
		t.Fatal(err)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir))
}

// newPC returns a PeerConnection of api, closed when the test ends.
func newPC(t *testing.T, api *webrtc.API) *webrtc.PeerConnection {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// Local tracks the tests send.
var (
	vp8Local  = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}
	opusLocal = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
)

// addLocal adds a sample track of codec to pc and returns it and its sender.
func addLocal(t *testing.T, pc *webrtc.PeerConnection, codec webrtc.RTPCodecCapability, id string) (*webrtc.TrackLocalStaticSample, *webrtc.RTPSender) {
	t.Helper()
	l, err := webrtc.NewTrackLocalStaticSample(codec, id, "pion")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := pc.AddTrack(l)
	if err != nil {
		t.Fatal(err)
	}
	return l, sender
}

// sendClip writes the first n frames of c (looping) to l in real time.
func sendClip(t *testing.T, l *webrtc.TrackLocalStaticSample, c clip, n int) {
	sendClipFrom(t, l, c, time.Now(), 0, n)
}

// sendClipFrom writes n frames of c (looping) from frame from to l, each at
// its media time after start, and returns when the next frame is due. A sender that falls behind (a loaded machine)
// writes the late frames at once, as a browser's encoder would, without
// skipping any.
func sendClipFrom(t *testing.T, l *webrtc.TrackLocalStaticSample, c clip, start time.Time, from, n int) time.Time {
	var at time.Duration
	for i := from; i < from+n; i++ {
		d := time.Duration(c.ticks[i%len(c.frames)]) * time.Second / time.Duration(c.codec.ClockRate)
		time.Sleep(time.Until(start.Add(at)))
		if err := l.WriteSample(media.Sample{Data: c.frames[i%len(c.frames)], Duration: d}); err != nil {
			t.Errorf("WriteSample: %v", err)
			return start.Add(at)
		}
		at += d
	}
	return start.Add(at)
}

// sendClipAfter writes c (looping) to l in real time until ready is
// closed, then the first n frames of c from its start: n frames that begin
// with the clip's key frame (the only one of vp8.ivf), whenever ready
// closes. A receiver that starts recording late (a loaded machine) then
// still gets the whole clip, instead of waiting for the key frame of the
// clip's next loop.
func sendClipAfter(t *testing.T, l *webrtc.TrackLocalStaticSample, c clip, ready <-chan struct{}, n int) {
	next := time.Now()
	for i := 0; ; i++ {
		select {
		case <-ready:
			sendClipFrom(t, l, c, next, 0, n)
			return
		default:
		}
		next = sendClipFrom(t, l, c, next, i, 1)
		if t.Failed() {
			return
		}
	}
}

func connect(t *testing.T, offerer, answerer *webrtc.PeerConnection) {
	t.Helper()
	offer, err := offerer.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := webrtc.GatheringCompletePromise(offerer)
	if err := offerer.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-g
	if err := answerer.SetRemoteDescription(*offerer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := answerer.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	g = webrtc.GatheringCompletePromise(answerer)
	if err := answerer.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-g
	if err := offerer.SetRemoteDescription(*answerer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
}

// TestLoopback sends VP8 and Opus between two PeerConnections in this
// process and records what the receiver gets through FromRemote.
func TestLoopback(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	vc, ac := loadClip(t, "vp8"), loadClip(t, "opus")
	api := loopbackAPI(t, nil)
	offerer, answerer := newPC(t, api), newPC(t, api)
	vl, _ := addLocal(t, offerer, vp8Local, "video")
	al, _ := addLocal(t, offerer, opusLocal, "audio")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sess := NewSession()
	tracks := make(chan *Track, 2)
	answerer.OnTrack(func(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		tr, err := FromRemote(ctx, remote, recv, answerer, Options{Session: sess})
		if err != nil {
			t.Errorf("FromRemote: %v", err)
			return
		}
		tracks <- tr
	})
	connect(t, offerer, answerer)

	// Send each clip until the recording started (the tracks arrive with
	// the first packets), then 3 s of each from the clips' starts, in real
	// time, looping the clips.
	var wg sync.WaitGroup
	recording := make(chan struct{})
	send := func(l *webrtc.TrackLocalStaticSample, c clip, n int) {
		defer wg.Done()
		sendClipAfter(t, l, c, recording, n)
	}
	wg.Add(2)
	go send(vl, vc, 90)
	go send(al, ac, 150)
	defer func() {
		select {
		case <-recording:
		default:
			close(recording) // a failed test: let the senders end
		}
		wg.Wait()
	}()

	var got []mediarecorder.Track
	for len(got) < 2 {
		select {
		case tr := <-tracks:
			got = append(got, tr)
		case <-time.After(10 * time.Second):
			t.Fatal("no remote tracks")
		}
	}
	rec := startRecording(t, got...)
	close(recording)
	wg.Wait()
	time.Sleep(300 * time.Millisecond) // the last packets in flight
	cancel()
	path := rec.file(t)
	mediatest.DecodeVFR(t, path) // a live recording: arrival times
	p := mediatest.FFprobe(t, path)
	if len(p.Streams) != 2 || p.Duration < 1.5 {
		t.Fatalf("ffprobe: %+v", p)
	}
	for _, s := range p.Streams {
		if s.CodecType == "video" && (s.CodecName != "vp8" || s.NbReadFrames < 40) ||
			s.CodecType == "audio" && (s.CodecName != "opus" || s.NbReadFrames < 100) {
			t.Errorf("stream %+v", s)
		}
	}
	for _, tr := range got {
		t.Logf("%s: %+v", tr.Kind(), tr.(*Track).Stats())
	}
}
