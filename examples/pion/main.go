// Command pion records a pion PeerConnection into one seekable WebM file.
// A WHIP-like endpoint takes the publisher's SDP offer and answers it; once
// every track the offer announced has arrived, one Recorder records them
// all, in sync, into one file, which is finished (Duration, Cues) when the
// publisher leaves (DELETE, or its connection ends) or on Ctrl-C.
//
//	go run ./examples/pion -o out.webm   # then publish to http://127.0.0.1:8080/whip
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/rtpsource"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "HTTP address")
	out := flag.String("o", "out.webm", "output file")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ep, err := newEndpoint(*out)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *addr, Handler: ep}
	go func() { log.Println(srv.ListenAndServe()) }()
	fmt.Printf("publish to http://%s/whip\n", *addr)
	if err := ep.wait(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", *out)
	srv.Close()
}

// endpoint records the one publisher that POSTs an offer to it.
type endpoint struct {
	api  *webrtc.API
	out  string
	mu   sync.Mutex
	pc   *webrtc.PeerConnection
	done chan error // the recording's end
}

func newEndpoint(out string) (*endpoint, error) {
	m, ir := &webrtc.MediaEngine{}, &interceptor.Registry{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	if err := rtpsource.RegisterInterceptors(m, ir); err != nil { // NACKs, reports
		return nil, err
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true) // publishers on this machine
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	return &endpoint{api: api, out: out, done: make(chan error, 1)}, nil
}

// ServeHTTP answers POST /whip (an SDP offer) and DELETE /whip (the end).
func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case r.URL.Path != "/whip":
		http.NotFound(w, r)
	case r.Method == http.MethodDelete && e.pc != nil:
		e.pc.Close() // the remote tracks end, so does the recording
	case r.Method != http.MethodPost || e.pc != nil:
		http.Error(w, "POST one offer to /whip", http.StatusMethodNotAllowed)
	default:
		offer, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		answer, err := e.answer(string(offer))
		if err != nil {
			if e.pc != nil {
				e.pc.Close()
				e.pc = nil // ready for another offer
			}
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/sdp")
		w.Header().Set("Location", "/whip")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, answer)
	}
}

// answer answers offer with every ICE candidate, and records the tracks it
// announced once they have all arrived.
func (e *endpoint) answer(offer string) (string, error) {
	pc, err := e.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "", err
	}
	e.pc = pc
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}
	want, err := announced(desc)
	if err != nil {
		return "", err
	}
	var mu sync.Mutex // guards tracks
	var tracks []mediarecorder.Track
	session := rtpsource.NewSession() // one clock: audio and video in sync
	pc.OnTrack(func(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		tr, err := rtpsource.FromRemote(context.Background(), remote, recv, pc, rtpsource.Options{Session: session})
		if err != nil {
			log.Println(err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if tracks = append(tracks, tr); len(tracks) == want { // all here: record them
			go func(tracks []mediarecorder.Track) { e.done <- record(e.out, tracks) }(tracks)
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateDisconnected {
			go pc.Close() // the publisher vanished
		}
	})
	if err := pc.SetRemoteDescription(desc); err != nil {
		return "", err
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return "", err
	}
	<-gathered // no trickle ICE
	return pc.LocalDescription().SDP, nil
}

// announced counts the tracks an offer will send: its audio and video
// sections that are neither rejected, recvonly nor inactive.
func announced(desc webrtc.SessionDescription) (int, error) {
	parsed, err := desc.Unmarshal()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range parsed.MediaDescriptions {
		_, recvonly := m.Attribute("recvonly")
		_, inactive := m.Attribute("inactive")
		if (m.MediaName.Media == "audio" || m.MediaName.Media == "video") && m.MediaName.Port.Value != 0 && !recvonly && !inactive {
			n++
		}
	}
	if n == 0 {
		return 0, errors.New("the offer sends no audio or video")
	}
	return n, nil
}

// record records tracks into the file out until they have all ended.
func record(out string, tracks []mediarecorder.Track) error {
	rec, err := mediarecorder.New(mediarecorder.NewStream(tracks...), mediarecorder.Options{})
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := rec.StartFile(f, 0); err != nil {
		return err
	}
	log.Printf("recording %d tracks into %s", len(tracks), out)
	if err := rec.Wait(context.Background()); err != nil { // every track ended
		return err
	}
	log.Printf("%s: %v of media", out, rec.Duration().Round(time.Millisecond))
	return f.Close()
}

// wait waits for the recording to finish. On ctx's end it closes the
// connection first, so that the recording ends and its file is finished.
func (e *endpoint) wait(ctx context.Context) error {
	select {
	case err := <-e.done:
		return err
	case <-ctx.Done():
	}
	e.mu.Lock()
	pc := e.pc
	e.mu.Unlock()
	if pc == nil {
		return errors.New("nobody published")
	}
	pc.Close()
	select {
	case err := <-e.done:
		return err
	case <-time.After(10 * time.Second):
		return errors.New("the recording did not finish")
	}
}
