package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/pion/ice/v4"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"
)

// ParseICEServers parses the -ice-servers syntax: URLs separated by
// commas or spaces, each a STUN or TURN URL (RFC 7064, RFC 7065) whose
// credentials, for TURN, come before an @ as in a URL's user
// information:
//
//	stun:stun.example.com:3478
//	turn:user:secret@turn.example.com:3478?transport=udp
//	turns:user:secret@turn.example.com:5349
//
// The password may itself hold ':' and '@' (the user name cannot), not
// ',' or spaces, which separate the URLs.
func ParseICEServers(s string) ([]webrtc.ICEServer, error) {
	var out []webrtc.ICEServer
	for _, raw := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		scheme, rest, ok := strings.Cut(raw, ":")
		if !ok {
			return nil, fmt.Errorf("ICE server %q: not a stun:, stuns:, turn: or turns: URL", raw)
		}
		srv := webrtc.ICEServer{}
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			user, pass, ok := strings.Cut(rest[:at], ":")
			if !ok || user == "" {
				return nil, fmt.Errorf("ICE server %q: credentials are user:password@", redact(raw))
			}
			srv.Username, srv.Credential = user, pass
			rest = rest[at+1:]
		}
		u := scheme + ":" + rest
		parsed, err := stun.ParseURI(u)
		if err != nil {
			return nil, fmt.Errorf("ICE server %q: %w", redact(raw), err)
		}
		isTURN := parsed.Scheme == stun.SchemeTypeTURN || parsed.Scheme == stun.SchemeTypeTURNS
		if isTURN && srv.Username == "" {
			return nil, fmt.Errorf("ICE server %q: a TURN server needs user:password@", raw)
		}
		if !isTURN && srv.Username != "" {
			return nil, fmt.Errorf("ICE server %q: credentials are for TURN only", redact(raw))
		}
		srv.URLs = []string{u}
		out = append(out, srv)
	}
	return out, nil
}

// redact hides the password of a TURN URL in error messages.
func redact(raw string) string {
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return raw
	}
	scheme, rest, _ := strings.Cut(raw[:at], ":")
	user, _, _ := strings.Cut(rest, ":")
	return scheme + ":" + user + ":***" + raw[at:]
}

// iceNet is the server's ICE transport: the settings of Config that
// shape candidates, and the shared sockets when Config.UDPPort is set.
type iceNet struct {
	udp ice.UDPMux
	tcp ice.TCPMux
	tln net.Listener
}

// sharedUDPBuffer is the socket buffer size asked for the shared UDP
// port of Config.UDPPort.
const sharedUDPBuffer = 4 << 20

// openICENet opens the shared UDP (and TCP) port of cfg.UDPPort, if any.
func openICENet(cfg Config, lg *slog.Logger) (*iceNet, error) {
	n := &iceNet{}
	if cfg.UDPPort <= 0 {
		return n, nil
	}
	udp, err := ice.NewMultiUDPMuxFromPort(cfg.UDPPort, ice.UDPMuxFromPortWithLoopback(),
		ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4, ice.NetworkTypeUDP6),
		// One socket takes every session's media: a burst while its
		// reader waits for the CPU must not overflow the kernel's
		// default buffer (about 200 KiB, 0.1 s of 50 sessions at
		// 300 kb/s). The kernel caps it at net.core.rmem_max / wmem_max.
		ice.UDPMuxFromPortWithReadBufferSize(sharedUDPBuffer),
		ice.UDPMuxFromPortWithWriteBufferSize(sharedUDPBuffer))
	if err != nil {
		return nil, fmt.Errorf("ICE UDP port %d: %w", cfg.UDPPort, err)
	}
	n.udp = udp
	if !cfg.NoICETCP {
		ln, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.UDPPort))
		if err != nil {
			_ = udp.Close()
			return nil, fmt.Errorf("ICE TCP port %d: %w", cfg.UDPPort, err)
		}
		n.tln = ln
		n.tcp = webrtc.NewICETCPMux(pionLogs{lg}.NewLogger("ice-tcp"), ln, 32)
	}
	return n, nil
}

// apply puts the ICE settings of cfg into se.
func (n *iceNet) apply(cfg Config, se *webrtc.SettingEngine) error {
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if n.udp != nil {
		se.SetICEUDPMux(n.udp)
	}
	if n.tcp != nil {
		se.SetICETCPMux(n.tcp)
		types = append(types, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	se.SetNetworkTypes(types)
	if n.udp == nil && cfg.UDPPortMin > 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.UDPPortMin, cfg.UDPPortMax); err != nil {
			return fmt.Errorf("UDP port range %d-%d: %w", cfg.UDPPortMin, cfg.UDPPortMax, err)
		}
	}
	if len(cfg.PublicIPs) > 0 {
		for _, ip := range cfg.PublicIPs {
			if net.ParseIP(ip) == nil {
				return fmt.Errorf("public IP %q is not an IP address", ip)
			}
		}
		//lint:ignore SA1019 the rewrite rules that replace it do the same for host candidates; kept until pion drops it
		se.SetNAT1To1IPs(cfg.PublicIPs, webrtc.ICECandidateTypeHost)
	}
	return nil
}

// close closes the shared sockets.
func (n *iceNet) close() error {
	var errs []error
	if n.udp != nil {
		errs = append(errs, n.udp.Close())
	}
	if n.tcp != nil {
		errs = append(errs, n.tcp.Close())
	}
	if n.tln != nil {
		if err := n.tln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// clientConfig is the body of GET /api/config: what the page needs to
// publish through this server.
type clientConfig struct {
	ICEServers []webrtc.ICEServer `json:"iceServers"`
}

// handleConfig answers GET /api/config with the ICE servers a publisher
// should use (the same the server's PeerConnections use).
func (s *Server) handleConfig(w http.ResponseWriter, r *http.Request) {
	c := clientConfig{ICEServers: s.cfg.ICEServers}
	if c.ICEServers == nil {
		c.ICEServers = []webrtc.ICEServer{}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, c)
}
