package rtpsource

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"

	"github.com/gomediarecorder/mediarecorder"
)

// Errors returned by ListenSDP and UDPSource.Run.
var (
	ErrNoMedia      = errors.New("rtpsource: no supported media in SDP")
	ErrSourceClosed = errors.New("rtpsource: source closed or already run")
)

// Read buffer sizes: RTP senders keep packets within a path MTU (ffmpeg
// 1472 bytes, GStreamer 1400, pion 1200) and RTCP compounds are smaller. A
// larger datagram arrives cut (MSG_TRUNC) and is dropped, as a loss.
const (
	maxRTPDatagram  = 4096
	maxRTCPDatagram = 2048
)

// UDPSource receives the RTP streams an SDP file describes (plain RTP over
// UDP, as `ffmpeg -f rtp -sdp_file` or GStreamer's udpsink send it).
type UDPSource struct {
	path    string
	tracks  []*Track
	streams []*udpStream

	mu      sync.Mutex
	running bool
	done    bool // Run ended or Close was called
	closed  bool
}

// udpStream is one m= line: its RTP socket (and RTCP socket), and the
// tracks its payload types map to.
type udpStream struct {
	rtpConn  udpConn
	rtcpConn udpConn // nil when RTCP is multiplexed on the RTP port
	byPT     map[uint8]*Track
	tracks   []*Track
	last     atomic.Int64 // arrival of the newest RTP packet, Unix ns
}

// sdpCodec is one payload type of an m= line.
type sdpCodec struct {
	name     string
	rate     uint32
	channels uint16
	fmtp     string
}

// ListenSDP parses the SDP file at path and listens for the RTP streams it
// describes: each audio or video RTP/AVP(F) m= line with an Opus, VP8, VP9,
// AV1 or H.264 payload type (the first one listed, by its a=rtpmap and
// a=fmtp) becomes a Track (all of them sharing one Session, unless
// opt.Session is set), fed by a UDP socket bound to the connection address
// (when it is a local address; otherwise to the wildcard address) and the
// m= port. RTCP is read on port+1, the port of an a=rtcp: attribute, or
// the RTP port with a=rtcp-mux. Other m= lines are skipped; with none
// left, the error is ErrNoMedia. Errors name the file. Call Run to
// receive, and Close to release the sockets.
func ListenSDP(path string, opt Options) (*UDPSource, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rtpsource: %w", err)
	}
	plans, err := parseSDP(data)
	if err != nil {
		return nil, fmt.Errorf("rtpsource: %s: %w", path, err)
	}
	if len(plans) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoMedia, path)
	}
	if opt.Session == nil {
		opt.Session = NewSession()
	}
	s := &UDPSource{path: path}
	for _, pl := range plans {
		st, err := listenMedia(pl, opt)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("rtpsource: %s: m= line %d: %w", path, pl.line, err)
		}
		s.streams = append(s.streams, st)
		s.tracks = append(s.tracks, st.tracks...)
	}
	return s, nil
}

// mediaPlan is a supported m= line: what to listen on, and the track.
type mediaPlan struct {
	line     int // 1-based index of the m= line
	codec    mediarecorder.Codec
	pt       uint8
	addr     string // connection address, or ""
	port     int
	rtcpPort int // == port: RTCP multiplexed
}

// parseSDP returns the supported m= lines of an SDP description.
func parseSDP(data []byte) ([]mediaPlan, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(data)); err != nil {
		return nil, err
	}
	var plans []mediaPlan
	for i, md := range sd.MediaDescriptions {
		if pl, ok := planMedia(&sd, md); ok {
			pl.line = i + 1
			plans = append(plans, pl)
		}
	}
	return plans, nil
}

// planMedia maps one m= line to its first supported payload type.
func planMedia(sd *sdp.SessionDescription, md *sdp.MediaDescription) (mediaPlan, bool) {
	kind := md.MediaName.Media
	port := md.MediaName.Port.Value
	if kind != "audio" && kind != "video" || port <= 0 || port > 65535 ||
		!isRTPProto(md.MediaName.Protos) {
		return mediaPlan{}, false
	}
	codecs := mediaCodecs(md)
	pl := mediaPlan{addr: connAddr(sd, md), port: port, rtcpPort: port + 1}
	found := false
	for _, f := range md.MediaName.Formats {
		n, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue
		}
		c, ok := codecs[uint8(n)]
		if !ok || !supported(kind, c.name) {
			continue
		}
		pl.pt = uint8(n)
		pl.codec = mediarecorder.Codec{
			MimeType:    kind + "/" + c.name,
			ClockRate:   c.rate,
			Channels:    c.channels,
			SDPFmtpLine: c.fmtp,
		}
		found = true
		break
	}
	if !found {
		return mediaPlan{}, false
	}
	if v, ok := md.Attribute("rtcp"); ok {
		if f := strings.Fields(v); len(f) > 0 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 0 && n < 65536 {
				pl.rtcpPort = n
			}
		}
	}
	if _, ok := md.Attribute("rtcp-mux"); ok || pl.rtcpPort > 65535 {
		pl.rtcpPort = port
	}
	return pl, true
}

// supported reports whether NewTrack takes the encoding name on an m= line
// of kind.
func supported(kind, name string) bool {
	_, _, ok := rtpCodecOf(kind + "/" + name)
	return ok
}

// listenMedia makes the track and sockets of a planned m= line.
func listenMedia(pl mediaPlan, opt Options) (*udpStream, error) {
	track, err := NewTrack(pl.codec, opt)
	if err != nil {
		return nil, err
	}
	ip := bindAddr(pl.addr)
	st := &udpStream{byPT: map[uint8]*Track{pl.pt: track}, tracks: []*Track{track}}
	st.rtpConn, err = listenUDP(&net.UDPAddr{IP: ip, Port: pl.port})
	if err != nil {
		return nil, err
	}
	if pl.rtcpPort != pl.port {
		st.rtcpConn, err = listenUDP(&net.UDPAddr{IP: ip, Port: pl.rtcpPort})
		if err != nil {
			st.rtpConn.Close()
			return nil, err
		}
	}
	return st, nil
}

// isRTPProto reports whether an m= line's protocol is plain RTP.
func isRTPProto(protos []string) bool {
	return len(protos) >= 2 && protos[0] == "RTP" && (protos[1] == "AVP" || protos[1] == "AVPF")
}

// mediaCodecs returns the rtpmap and fmtp attributes of md by payload type.
func mediaCodecs(md *sdp.MediaDescription) map[uint8]*sdpCodec {
	codecs := map[uint8]*sdpCodec{}
	fmtps := map[uint8]string{}
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" && a.Key != "fmtp" {
			continue
		}
		ptStr, rest, ok := strings.Cut(strings.TrimSpace(a.Value), " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(ptStr, 10, 7)
		if err != nil {
			continue
		}
		rest = strings.TrimSpace(rest)
		if a.Key == "fmtp" {
			fmtps[uint8(n)] = rest
			continue
		}
		parts := strings.Split(rest, "/")
		if len(parts) < 2 {
			continue
		}
		rate, err := strconv.ParseUint(parts[1], 10, 32)
		if err != nil || rate == 0 {
			continue
		}
		c := &sdpCodec{name: parts[0], rate: uint32(rate)}
		if len(parts) > 2 {
			if ch, err := strconv.ParseUint(parts[2], 10, 16); err == nil {
				c.channels = uint16(ch)
			}
		}
		codecs[uint8(n)] = c
	}
	for pt, f := range fmtps {
		if c, ok := codecs[pt]; ok {
			c.fmtp = f
		}
	}
	return codecs
}

// connAddr returns the connection address of md (its own c= line, or the
// session's), or "".
func connAddr(sd *sdp.SessionDescription, md *sdp.MediaDescription) string {
	ci := md.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return ""
	}
	return ci.Address.Address
}

// bindAddr returns the IP to listen on for the connection address addr:
// addr itself when it is a loopback, wildcard or local interface address,
// otherwise the wildcard address (nil).
func bindAddr(addr string) net.IP {
	ip := net.ParseIP(addr)
	if ip == nil {
		return nil
	}
	if ip.IsLoopback() || ip.IsUnspecified() {
		return ip
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return ip
		}
	}
	return nil
}

// Tracks returns the tracks, one per supported m= line, in SDP order.
func (s *UDPSource) Tracks() []*Track { return s.tracks }

// Run reads packets until ctx is done or every stream has been idle (no
// RTP packet) for idle (0: never), counting from the start of Run, then
// stops the tracks, so that recorders of them finish. It returns nil when
// it ends that way or by Close, or the first socket error. Run can be
// called once.
func (s *UDPSource) Run(ctx context.Context, idle time.Duration) error {
	s.mu.Lock()
	if s.running || s.done {
		s.mu.Unlock()
		return ErrSourceClosed
	}
	s.running = true
	s.mu.Unlock()

	now := time.Now().UnixNano()
	for _, st := range s.streams {
		st.last.Store(now)
	}
	err := s.read(ctx, idle)
	for _, t := range s.tracks {
		t.Stop()
	}
	s.mu.Lock()
	s.done = true
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil
	}
	return err
}

// idleSince reports whether no stream had an RTP packet in the idle
// before now (Unix ns).
func (s *UDPSource) idleSince(now int64, idle time.Duration) bool {
	for _, st := range s.streams {
		if time.Duration(now-st.last.Load()) < idle {
			return false
		}
	}
	return true
}

// handleRTP feeds one datagram of the RTP socket, which arrived at
// arrival, to the stream's tracks; p is scratch space.
func (st *udpStream) handleRTP(b []byte, p *rtp.Packet, arrival time.Time) {
	if len(b) >= 2 && b[1] >= 192 && b[1] <= 223 {
		// RTCP multiplexed on the RTP port (RFC 5761).
		st.writeRTCP(b)
		return
	}
	if p.Unmarshal(b) != nil {
		return
	}
	t, ok := st.byPT[p.PayloadType]
	if !ok {
		return
	}
	st.last.Store(arrival.UnixNano())
	_ = t.WritePacket(p, arrival)
}

func (st *udpStream) writeRTCP(b []byte) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return
	}
	for _, t := range st.tracks {
		t.WriteRTCP(pkts)
	}
}

// Close closes the sockets (ending a running Run) and stops the tracks.
// Idempotent.
func (s *UDPSource) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.done = true
	s.mu.Unlock()
	var err error
	for _, st := range s.streams {
		if e := st.rtpConn.Close(); e != nil && err == nil {
			err = e
		}
		if st.rtcpConn != nil {
			if e := st.rtcpConn.Close(); e != nil && err == nil {
				err = e
			}
		}
	}
	for _, t := range s.tracks {
		t.Stop()
	}
	return err
}
