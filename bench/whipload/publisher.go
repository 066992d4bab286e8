//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// pubAPI holds what the publishers share: the pion API (each
// PeerConnection gets its own copy of the MediaEngine) and one DTLS
// certificate, so that a publisher costs no key generation.
type pubAPI struct {
	api  *webrtc.API
	cert webrtc.Certificate
	http *http.Client
}

func newPubAPI() (*pubAPI, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" }) // loopback only: one socket each
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	cert, err := webrtc.GenerateCertificate(key)
	if err != nil {
		return nil, err
	}
	return &pubAPI{
		api:  webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(ir)),
		cert: *cert,
		// No keep-alive: no idle connection stays open in the server
		// between the phases, to be counted as a goroutine or an fd.
		http: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
	}, nil
}

// publisher is one WHIP publisher: a PeerConnection sending the shared
// media in real time, in a loop.
type publisher struct {
	idx      int
	pc       *webrtc.PeerConnection
	video    *webrtc.TrackLocalStaticSample
	audio    *webrtc.TrackLocalStaticSample
	location string // absolute URL of the WHIP session
	session  string
	recID    string // the recording of the session, once known

	connected    time.Time
	videoSent    atomic.Int64
	audioSent    atomic.Int64
	videoAtRec   int64 // videoSent when the recording started (API mode) or connect (autorecord)
	audioAtRec   int64
	plisAtRec    int64        // plis before the recording was created
	plis         atomic.Int64 // PLI/FIR received
	keyJumps     atomic.Int64 // jumps to a key frame on PLI
	maxLate      atomic.Int64 // the latest a sample went out, ns after it was due
	late         atomic.Int64 // samples sent more than one sample duration late
	skipped      atomic.Int64 // sample slots skipped after being later than maxCatchUp
	states       sync.Map     // PeerConnectionState name -> true: seen
	wantKey      atomic.Bool
	sendErr      atomic.Value // error
	cancel       context.CancelFunc
	wg           sync.WaitGroup
	connectedSig chan struct{}
}

// start creates the PeerConnection, POSTs the offer (all candidates
// gathered: no trickle), applies the answer and waits until the
// connection is up; then the send loops start.
func (pa *pubAPI) start(ctx context.Context, idx int, whipURL string, m *Media) (*publisher, error) {
	pc, err := pa.api.NewPeerConnection(webrtc.Configuration{Certificates: []webrtc.Certificate{pa.cert}})
	if err != nil {
		return nil, err
	}
	p := &publisher{idx: idx, pc: pc, connectedSig: make(chan struct{})}
	var once sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		p.states.Store(st.String(), true)
		if st == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(p.connectedSig) })
		}
	})
	fail := func(err error) (*publisher, error) {
		_ = pc.Close()
		return nil, fmt.Errorf("publisher %d: %w", idx, err)
	}
	p.video, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", fmt.Sprintf("pub%d", idx))
	if err != nil {
		return fail(err)
	}
	p.audio, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", fmt.Sprintf("pub%d", idx))
	if err != nil {
		return fail(err)
	}
	for _, tr := range []*webrtc.TrackLocalStaticSample{p.video, p.audio} {
		t, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return fail(err)
		}
		isVideo := tr == p.video
		sender := t.Sender()
		go func() { // read RTCP, so that the interceptors run, and watch for key-frame requests
			for {
				pkts, _, err := sender.ReadRTCP()
				if err != nil {
					return
				}
				for _, pkt := range pkts {
					switch pkt.(type) {
					case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
						if isVideo {
							p.plis.Add(1)
							p.wantKey.Store(true)
						}
					}
				}
			}
		}()
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fail(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fail(err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, whipURL, strings.NewReader(pc.LocalDescription().SDP))
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	resp, err := pa.http.Do(req)
	if err != nil {
		return fail(fmt.Errorf("POST %s: %w", whipURL, err))
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode != http.StatusCreated {
		return fail(fmt.Errorf("POST %s: %s: %s", whipURL, resp.Status, bytes.TrimSpace(answer)))
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.String() == "" {
		return fail(fmt.Errorf("POST %s: bad Location %q", whipURL, resp.Header.Get("Location")))
	}
	base, _ := url.Parse(whipURL)
	p.location = base.ResolveReference(loc).String()
	p.session = loc.Path[strings.LastIndexByte(loc.Path, '/')+1:]
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		_ = pa.delete(context.Background(), p.location)
		return fail(err)
	}
	select {
	case <-p.connectedSig:
	case <-time.After(30 * time.Second):
		_ = pa.delete(context.Background(), p.location)
		return fail(errors.New("not connected after 30 s"))
	case <-ctx.Done():
		_ = pa.delete(context.Background(), p.location)
		return fail(ctx.Err())
	}
	p.connected = time.Now()
	sctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.wg.Add(2)
	go p.send(sctx, p.video, m.Video, m.Key, m.FrameDur, &p.videoSent)
	go p.send(sctx, p.audio, m.Audio, nil, m.PacketDur, &p.audioSent)
	return p, nil
}

// maxCatchUp is how late a sample may go out and still keep its place: a
// later one is sent at once, stamped as it was due, and the time it is
// late by is skipped (the RTP timestamp jumps, as when a camera stalls),
// so that a starved publisher never bursts its backlog at the server.
const maxCatchUp = 100 * time.Millisecond

// send writes samples[i] every d on a fixed schedule; a sample up to
// maxCatchUp late goes out at once and the next ones catch up, so that
// RTP timestamps (which advance by the samples' durations) keep up with
// wall time. The content advances one sample per send, so the video
// stays decodable across a skip. A video key-frame request makes the loop
// jump to the next key frame, as an encoder would make one.
func (p *publisher) send(ctx context.Context, tr *webrtc.TrackLocalStaticSample, samples [][]byte, key []bool, d time.Duration, sent *atomic.Int64) {
	defer p.wg.Done()
	start := time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	i := 0
	for n := int64(0); ; n++ {
		due := start.Add(time.Duration(n) * d)
		skip := int64(0)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else {
			if ctx.Err() != nil {
				return
			}
			late := -wait
			if late > d {
				p.late.Add(1)
			}
			for {
				old := p.maxLate.Load()
				if int64(late) <= old || p.maxLate.CompareAndSwap(old, int64(late)) {
					break
				}
			}
			if late > maxCatchUp {
				skip = int64(late / d)
				p.skipped.Add(skip)
			}
		}
		if key != nil && p.wantKey.Swap(false) && !key[i] {
			for !key[i] {
				i = (i + 1) % len(samples)
			}
			p.keyJumps.Add(1)
		}
		// The duration sets the next sample's timestamp: past the
		// skipped ones.
		if err := tr.WriteSample(media.Sample{Data: samples[i], Duration: time.Duration(skip+1) * d}); err != nil {
			if !errors.Is(err, io.ErrClosedPipe) {
				p.sendErr.Store(err)
			}
			return
		}
		sent.Add(1)
		i = (i + 1) % len(samples)
		n += skip
	}
}

// stopSending ends the send loops.
func (p *publisher) stopSending() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}

// seen reports whether the PeerConnection went through state st.
func (p *publisher) seen(st webrtc.PeerConnectionState) bool {
	_, ok := p.states.Load(st.String())
	return ok
}

// delete ends a WHIP session.
func (pa *pubAPI) delete(ctx context.Context, location string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, location, nil)
	if err != nil {
		return err
	}
	resp, err := pa.http.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("DELETE %s: %s: %s", location, resp.Status, bytes.TrimSpace(b))
	}
	return nil
}
