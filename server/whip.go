package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/id"
	"github.com/gomediarecorder/mediarecorder/rtpsource"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// newID returns a random identifier (UUID form), safe in file names.
func newID() string { return id.New() }

// validID reports whether s could have come from newID (or is one of the
// 16 hex digits that earlier versions made), so that it may reach the
// filesystem.
func validID(s string) bool {
	if id.Valid(s) {
		return true
	}
	if len(s) != 16 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// supportedCodecs are the codecs the server receives, by lower-case name.
var supportedCodecs = map[string]webrtc.RTPCodecType{
	"opus": webrtc.RTPCodecTypeAudio,
	"vp8":  webrtc.RTPCodecTypeVideo,
	"vp9":  webrtc.RTPCodecTypeVideo,
	"av1":  webrtc.RTPCodecTypeVideo,
	"h264": webrtc.RTPCodecTypeVideo,
}

// rtxBase is the first payload type of the RTX codecs, one per video codec.
const rtxBase = 116

// ICE consent timeouts: a publisher that vanishes without DELETE (no
// packets, no DTLS close) is disconnected after iceDisconnected of
// silence and failed iceFailed later; its session then ends and its
// recordings finish. Variables so that tests can shorten them.
var (
	iceDisconnected = 5 * time.Second
	iceFailed       = 10 * time.Second
	iceKeepAlive    = 2 * time.Second
)

// maxBindingRequests is how many connectivity checks the server sends on
// one candidate pair before it gives the pair up (pion's default, set
// here because the bound on checks per session rests on it): a session
// sends at most MaxCandidates × (its own candidates) × (maxBindingRequests+1)
// checks before it connects, and is ended ConnectTimeout after its answer
// if it never does.
const maxBindingRequests = 7

// newWebRTCAPI builds the pion API: Opus, VP8, VP9, AV1 and H.264, the
// default interceptors (NACK every 20 ms, RTCP reports, TWCC), and ICE that works on
// loopback without mDNS.
func newWebRTCAPI(configure func(*webrtc.SettingEngine) error) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{
		{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"},
		{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "transport-cc"},
	}
	video := []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb}, PayloadType: 96},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP9, ClockRate: 90000, SDPFmtpLine: "profile-id=0", RTCPFeedback: fb}, PayloadType: 98},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP9, ClockRate: 90000, SDPFmtpLine: "profile-id=2", RTCPFeedback: fb}, PayloadType: 100},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f", RTCPFeedback: fb}, PayloadType: 102},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", RTCPFeedback: fb}, PayloadType: 106},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f", RTCPFeedback: fb}, PayloadType: 108},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640032", RTCPFeedback: fb}, PayloadType: 112},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeAV1, ClockRate: 90000, RTCPFeedback: fb}, PayloadType: 45},
	}
	for i, c := range video {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, err
		}
		// RTX: retransmissions, and the bandwidth probes browsers would
		// otherwise send as padding on the media stream.
		rtx := webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeRTX, ClockRate: 90000, SDPFmtpLine: fmt.Sprintf("apt=%d", c.PayloadType)},
			PayloadType:        webrtc.PayloadType(rtxBase + i),
		}
		if err := m.RegisterCodec(rtx, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, err
		}
	}
	opus := webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        111,
	}
	if err := m.RegisterCodec(opus, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := rtpsource.RegisterInterceptors(m, ir); err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	if err := configure(&se); err != nil { // ice.go: ports, TCP, NAT
		return nil, err
	}
	se.SetICETimeouts(iceDisconnected, iceFailed, iceKeepAlive)
	se.SetICEMaxBindingRequests(maxBindingRequests)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// session is one WHIP publisher: a PeerConnection and the stream of its
// tracks.
type session struct {
	id      string
	s       *Server
	pc      *webrtc.PeerConnection
	stream  *mediarecorder.Stream
	clock   *rtpsource.Session // one timeline for the session's tracks
	created time.Time
	addr    string // the client's IP address, whose slot the session holds

	connected atomic.Bool // the PeerConnection has connected once

	mu       sync.Mutex
	reaper   *time.Timer // ends the session if it never connects
	expected int         // tracks announced by the offer
	tracks   []*rtpsource.Track
	ready    chan struct{} // closed when every expected track arrived
	isReady  bool
	ended    chan struct{}
	once     sync.Once
}

// countCandidates counts the ICE candidate lines of an SDP offer, without
// parsing it.
func countCandidates(offer []byte) int {
	n := 0
	for line := range bytes.Lines(offer) {
		if bytes.HasPrefix(bytes.TrimLeft(line, " \t"), []byte("a=candidate")) {
			n++
		}
	}
	return n
}

// checkOffer parses an SDP offer and returns how many media sections
// the server can receive, or an error naming what was offered when none.
func checkOffer(offer string) (int, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return 0, fmt.Errorf("bad SDP offer: %w", err)
	}
	n := 0
	var offered []string
	for _, md := range sd.MediaDescriptions {
		kind := md.MediaName.Media
		if kind != "audio" && kind != "video" {
			continue
		}
		if _, ok := md.Attribute("recvonly"); ok {
			continue
		}
		if _, ok := md.Attribute("inactive"); ok {
			continue
		}
		ok := false
		for _, a := range md.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			f := strings.Fields(a.Value)
			if len(f) < 2 {
				continue
			}
			name, _, _ := strings.Cut(f[1], "/")
			if !slices.Contains(offered, kind+"/"+name) {
				offered = append(offered, kind+"/"+name)
			}
			if t, found := supportedCodecs[strings.ToLower(name)]; found && t.String() == kind {
				ok = true
			}
		}
		if ok {
			n++
		}
	}
	if n == 0 {
		if len(offered) == 0 {
			return 0, errors.New("the offer has no audio or video to send")
		}
		return 0, fmt.Errorf("no supported codec offered (offered %s; supported audio/opus, video/VP8, video/VP9, video/AV1, video/H264)", strings.Join(offered, ", "))
	}
	return n, nil
}

func (s *Server) handleWHIP(w http.ResponseWriter, r *http.Request) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/sdp" {
		writeError(w, http.StatusBadRequest, "SyntaxError", "the Content-Type must be application/sdp")
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		writeBodyError(w, err)
		return
	}
	if n := countCandidates(body); s.lim.maxCandidates > 0 && n > s.lim.maxCandidates {
		writeError(w, http.StatusBadRequest, "QuotaExceededError",
			fmt.Sprintf("the offer has %d ICE candidates; at most %d are accepted", n, s.lim.maxCandidates))
		return
	}
	expected, err := checkOffer(string(body))
	if err != nil {
		writeError(w, http.StatusBadRequest, mediarecorder.NameNotSupported, err.Error())
		return
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		writeError(w, http.StatusServiceUnavailable, mediarecorder.NameInvalidState, "the server is shutting down")
		return
	}
	addr := s.clientAddr(r)
	if err := s.slots.take(addr, s.lim); err != nil {
		msg := fmt.Sprintf("the server is at capacity (%d sessions)", s.lim.capacity)
		if errors.Is(err, errPerAddr) {
			msg = fmt.Sprintf("at most %d sessions at once from one address", s.lim.sessionsPerAddr)
		}
		if to, ok := s.roomyNode(r.Context()); ok && errors.Is(err, errCapacity) {
			// RFC 9725 §4.5: redirect to a node of the cluster with room.
			s.log.Info("whip: at capacity, redirecting", "remote", r.RemoteAddr, "to", to)
			w.Header().Set("Location", to+"/whip")
			writeError(w, http.StatusTemporaryRedirect, "QuotaExceededError", msg+"; try "+to+"/whip")
			return
		}
		s.log.Warn("whip: session refused", "remote", r.RemoteAddr, "reason", msg)
		w.Header().Set("Retry-After", s.lim.retryAfter())
		writeError(w, http.StatusServiceUnavailable, "QuotaExceededError", msg)
		return
	}
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{ICEServers: s.cfg.ICEServers})
	if err != nil {
		s.slots.give(addr)
		writeError(w, http.StatusInternalServerError, mediarecorder.NameUnknown, err.Error())
		return
	}
	ss := &session{
		id: s.sessionID(), s: s, pc: pc, stream: mediarecorder.NewStream(), clock: rtpsource.NewSession(), created: time.Now(),
		addr: addr, expected: expected, ready: make(chan struct{}), ended: make(chan struct{}),
	}
	pc.OnTrack(func(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		t, err := rtpsource.FromRemote(s.ctx, remote, recv, pc, rtpsource.Options{Session: ss.clock})
		if err != nil {
			s.log.Warn("whip: track not recordable", "session", ss.id, "codec", remote.Codec().MimeType, "err", err)
			return
		}
		s.log.Info("whip: track", "session", ss.id, "kind", remote.Kind().String(), "codec", remote.Codec().MimeType)
		ss.addTrack(t)
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		s.log.Debug("whip: connection state", "session", ss.id, "state", st.String())
		if st == webrtc.PeerConnectionStateConnected {
			ss.connected.Store(true)
		}
		if st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
			go s.endSession(ss)
		}
	})
	fail := func(status int, name string, err error) {
		ss.close()
		writeError(w, status, name, err.Error())
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(body)}); err != nil {
		fail(http.StatusBadRequest, mediarecorder.NameNotSupported, fmt.Errorf("bad SDP offer: %w", err))
		return
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		fail(http.StatusBadRequest, mediarecorder.NameNotSupported, fmt.Errorf("cannot answer the offer: %w", err))
		return
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		fail(http.StatusInternalServerError, mediarecorder.NameUnknown, err)
		return
	}
	select {
	case <-gathered:
	case <-time.After(10 * time.Second):
	case <-r.Context().Done():
		ss.close()
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		fail(http.StatusServiceUnavailable, mediarecorder.NameInvalidState, errors.New("the server is shutting down"))
		return
	}
	s.sessions[ss.id] = ss
	s.mu.Unlock()
	if s.lim.connect > 0 {
		ss.mu.Lock()
		ss.reaper = time.AfterFunc(s.lim.connect, func() {
			if !ss.connected.Load() {
				s.log.Info("whip: session did not connect in time", "session", ss.id, "timeout", s.lim.connect)
				s.endSession(ss)
			}
		})
		ss.mu.Unlock()
	}
	s.m.sessionsTotal.Add(1)
	s.log.Info("whip: session", "session", ss.id, "tracks", expected, "remote", r.RemoteAddr)
	if s.cfg.AutoRecord {
		go s.autoRecord(ss)
	}
	w.Header().Set("Content-Type", "application/sdp")
	loc := "/whip/" + ss.id
	if s.node.cluster {
		loc = s.node.url + loc // absolute: the session stays on this node
	}
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, pc.LocalDescription().SDP)
}

func (ss *session) addTrack(t *rtpsource.Track) {
	ss.mu.Lock()
	select {
	case <-ss.ended:
		ss.mu.Unlock()
		t.Stop()
		return
	default:
	}
	ss.tracks = append(ss.tracks, t)
	ss.stream.AddTrack(t)
	if len(ss.tracks) >= ss.expected && !ss.isReady {
		ss.isReady = true
		close(ss.ready)
	}
	ss.mu.Unlock()
}

// waitTracks waits until every announced track has arrived, or d passes,
// or ctx ends.
func (ss *session) waitTracks(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ss.ready:
	case <-ss.ended:
	case <-t.C:
	case <-ctx.Done():
	}
}

// close ends the session: the PeerConnection closes and the tracks end,
// so the recorders on them stop by themselves.
func (ss *session) close() {
	ss.once.Do(func() {
		ss.s.markSessionStops(ss.id)
		ss.mu.Lock()
		close(ss.ended)
		tracks := slices.Clone(ss.tracks)
		reaper := ss.reaper
		ss.mu.Unlock()
		if reaper != nil {
			reaper.Stop()
		}
		_ = ss.pc.Close()
		ss.s.slots.give(ss.addr)
		for _, t := range tracks {
			t.Stop()
			st := t.Stats()
			ss.s.log.Info("whip: track ended", "session", ss.id, "kind", string(t.Kind()), "packets", st.Packets,
				"frames", st.Frames, "dropped", st.Dropped, "lost", st.Lost, "keyFrameRequests", st.KeyFrameRequests)
		}
	})
}

func (s *Server) endSession(ss *session) {
	s.mu.Lock()
	mine := s.sessions[ss.id] == ss
	if mine {
		delete(s.sessions, ss.id)
	}
	s.mu.Unlock()
	ss.close()
	if mine {
		s.log.Info("whip: session ended", "session", ss.id)
	}
}

func (s *Server) handleWHIPDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("session")
	s.mu.Lock()
	ss := s.sessions[id]
	s.mu.Unlock()
	if ss == nil {
		if n := sessionNode(id); s.node.cluster && n != "" && n != s.node.id {
			s.forward(w, r, n, nil)
			return
		}
		writeError(w, http.StatusNotFound, "NotFoundError", "no such session")
		return
	}
	s.endSession(ss)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) autoRecord(ss *session) {
	ss.waitTracks(s.ctx, trackWait)
	if _, status, err := s.createRecording(ss, createRequest{Session: ss.id}); err != nil {
		s.log.Warn("autorecord failed", "session", ss.id, "status", status, "err", err)
	}
}
