package rtpsource

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// dropOnce is a sender-side interceptor, closest to the wire, that loses
// the first transmission of every 20th video packet. A retransmission
// (the NACK responder sends the same sequence number again) goes through.
type dropOnce struct {
	interceptor.NoOp
	mu      sync.Mutex
	dropped map[uint16]bool
	sent    int
	drops   atomic.Int64
	resends atomic.Int64
}

func (d *dropOnce) NewInterceptor(string) (interceptor.Interceptor, error) { return d, nil }

func (d *dropOnce) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	if info.MimeType != webrtc.MimeTypeVP8 {
		return w
	}
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if h.SSRC != info.SSRC { // a retransmission on the RTX stream
			d.resends.Add(1)
			return w.Write(h, payload, a)
		}
		d.mu.Lock()
		// Not before the 20th packet: the receiver cannot NACK a packet
		// sent before the first one it got (it asks for a key frame).
		d.sent++
		seen, drop := d.dropped[h.SequenceNumber], h.SequenceNumber%20 == 5 && d.sent > 20
		if drop && !seen {
			d.dropped[h.SequenceNumber] = true
		}
		d.mu.Unlock()
		switch {
		case drop && !seen:
			d.drops.Add(1)
			return h.MarshalSize() + len(payload), nil // lost on the way
		case seen:
			d.resends.Add(1)
		}
		return w.Write(h, payload, a)
	})
}

// TestLoopbackNACK loses 5 % of the video packets between two pion
// PeerConnections. The receiver's NACKs (pion's generator, every 20 ms
// through RegisterInterceptors) bring them back (over RTX) within the
// jitter window, so no frame is dropped and no packet lost.
func TestLoopbackNACK(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	vc := loadClip(t, "vp8")
	drop := &dropOnce{dropped: map[uint16]bool{}}

	// The sender drops packets once, closest to the wire; the receiver
	// is built as the server builds it: RegisterInterceptors.
	offerer := newPC(t, loopbackAPI(t, nil, drop))
	answerer := newPC(t, loopbackAPI(t, RegisterInterceptors))
	vl, sender := addLocal(t, offerer, vp8Local, "video")
	go func() { // read RTCP, so that the NACK responder sees the NACKs
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	tracks := make(chan *Track, 1)
	answerer.OnTrack(func(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		// A window long enough for a NACK round trip on a loaded machine
		// (with the default 150 ms, 4 frames were dropped under two busy
		// loops): the test checks that NACKs fill every hole, not how fast.
		tr, err := FromRemote(ctx, remote, recv, answerer, Options{JitterWindow: time.Second})
		if err != nil {
			t.Errorf("FromRemote: %v", err)
			return
		}
		tracks <- tr
	})
	connected := make(chan struct{})
	var once sync.Once
	offerer.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	connect(t, offerer, answerer)
	// Media written before DTLS is up goes nowhere, and the clip's only
	// key frame is its first frame: wait.
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("not connected")
	}

	const frames = 90 // 3 s
	done := make(chan struct{})
	go func() {
		defer close(done)
		sendClip(t, vl, vc, frames)
	}()
	var tr *Track
	select {
	case tr = <-tracks:
	case <-time.After(10 * time.Second):
		t.Fatal("no remote track")
	}
	rec := startRecording(t, mediarecorder.Track(tr))
	<-done
	time.Sleep(1500 * time.Millisecond) // the last packets and their resends, past the window
	st := tr.Stats()
	cancel()
	path := rec.file(t)
	t.Logf("sender: %d packets lost on the way, %d sent again; receiver: %+v", drop.drops.Load(), drop.resends.Load(), st)
	if drop.drops.Load() < 3 {
		t.Fatalf("only %d packets lost: the test lost too few to tell", drop.drops.Load())
	}
	if drop.resends.Load() < drop.drops.Load()*9/10 {
		t.Errorf("%d of %d lost packets sent again: NACKs did not work", drop.resends.Load(), drop.drops.Load())
	}
	if st.Dropped != 0 || st.Lost != 0 {
		t.Errorf("receiver dropped %d frames and lost %d packets; the NACKed packets should have filled every hole", st.Dropped, st.Lost)
	}
	if st.Frames < frames-6 { // the first and last few may be in flight
		t.Errorf("%d frames published of %d sent", st.Frames, frames)
	}
	mediatest.DecodeVFR(t, path) // a live recording: arrival times; reports what it finds
}
