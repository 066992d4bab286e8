package cli

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gomediarecorder/mediarecorder/server"
)

// DefaultDrainTimeout is -drain-timeout's default.
const DefaultDrainTimeout = 30 * time.Second

// finishBound is how long, after the drain, serve waits for the
// recordings it stopped to be finished.
const finishBound = 10 * time.Second

// deployConfig is what the deployment flags of serve give.
type deployConfig struct {
	server       server.Config // its deployment fields only
	drainTimeout time.Duration
	logFormat    string
	logLevel     slog.Level
}

// deployFlags defines serve's flags for TLS, proxies, ICE and NAT, draining
// and logs; the function it returns checks them, naming the first bad
// one.
func deployFlags(fs *flag.FlagSet) func() (deployConfig, error) {
	fs.String("config", "", "read settings from this `file`: one key = value a line, keys being these flags' names (precedence: flag, environment, file, default)")
	cert := fs.String("tls-cert", "", "serve HTTPS with this PEM certificate `file` (chain); reloaded when it changes")
	key := fs.String("tls-key", "", "the PEM private key `file` of -tls-cert")
	proxy := fs.Bool("trust-proxy", false, "honour X-Forwarded-Proto, -Host and -For from a reverse proxy (for WHIP Location headers and the per-address session limit; -conns-per-ip then counts the proxy's connections)")
	base := fs.String("base-path", "", "serve everything under this `path` prefix, e.g. /rec")
	iceServers := fs.String("ice-servers", "", "STUN and TURN `urls`, comma-separated, for the server and the page: stun:host:3478, turn:user:pass@host:3478?transport=udp")
	publicIP := fs.String("public-ip", "", "the public `addresses` (comma-separated) to put in the server's ICE candidates (NAT 1:1)")
	udpPort := fs.Int("udp-port", 0, "carry every session's media on this one UDP `port` (and ICE over TCP on the same port number); 0: a port per session")
	udpPorts := fs.String("udp-ports", "", "the UDP port `range` min-max of the sessions when -udp-port is 0, e.g. 50000-50100")
	noTCP := fs.Bool("no-ice-tcp", false, "no ICE over TCP on -udp-port")
	drain := fs.Duration("drain-timeout", DefaultDrainTimeout, "on SIGTERM, refuse new WHIP sessions (503) and let running recordings go on this long before stopping them; the process exits at most this + 10s after the signal")
	logFormat := fs.String("log-format", "text", "log lines as `text` or json (one JSON object per event)")
	logLevel := fs.String("log-level", "info", "the least `level` logged: debug, info, warn or error")
	return func() (deployConfig, error) {
		var d deployConfig
		c := &d.server
		if (*cert == "") != (*key == "") {
			if *cert == "" {
				return d, settingError{"-tls-cert: -tls-key is set without it"}
			}
			return d, settingError{"-tls-key: -tls-cert is set without it"}
		}
		if *cert != "" {
			if _, err := tls.LoadX509KeyPair(*cert, *key); err != nil {
				return d, settingError{fmt.Sprintf("-tls-cert: %s with -tls-key %s: %v", *cert, *key, err)}
			}
		}
		c.TLSCert, c.TLSKey, c.TrustProxy = *cert, *key, *proxy
		if *base != "" && (!strings.HasPrefix(*base, "/") || strings.ContainsAny(*base, "?#% ") || strings.Contains(*base, "//") || strings.Contains(*base, "/../")) {
			return d, settingError{fmt.Sprintf("-base-path: %q is not a path like /rec", *base)}
		}
		c.BasePath = *base
		ice, err := server.ParseICEServers(*iceServers)
		if err != nil {
			return d, settingError{"-ice-servers: " + err.Error()}
		}
		c.ICEServers = ice
		for _, ip := range strings.FieldsFunc(*publicIP, func(r rune) bool { return r == ',' || r == ' ' }) {
			if net.ParseIP(ip) == nil {
				return d, settingError{fmt.Sprintf("-public-ip: %q is not an IP address", ip)}
			}
			c.PublicIPs = append(c.PublicIPs, ip)
		}
		if *udpPort < 0 || *udpPort > 65535 {
			return d, settingError{fmt.Sprintf("-udp-port: %d is not a port (1-65535, or 0 for none)", *udpPort)}
		}
		c.UDPPort, c.NoICETCP = *udpPort, *noTCP
		if *udpPorts != "" {
			lo, hi, ok := strings.Cut(*udpPorts, "-")
			a, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
			b, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 16)
			if !ok || err1 != nil || err2 != nil || a == 0 || b < a {
				return d, settingError{fmt.Sprintf("-udp-ports: %q is not a range min-max of ports", *udpPorts)}
			}
			if *udpPort != 0 {
				return d, settingError{"-udp-ports: not with -udp-port (one port for every session)"}
			}
			c.UDPPortMin, c.UDPPortMax = uint16(a), uint16(b)
		}
		if *drain < 0 {
			return d, settingError{fmt.Sprintf("-drain-timeout: %v is negative", *drain)}
		}
		d.drainTimeout = *drain
		switch *logFormat {
		case "text", "json":
		default:
			return d, settingError{fmt.Sprintf("-log-format: %q is neither text nor json", *logFormat)}
		}
		d.logFormat = *logFormat
		if err := d.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
			return d, settingError{fmt.Sprintf("-log-level: %q is not debug, info, warn or error", *logLevel)}
		}
		return d, nil
	}
}

// apply puts the deployment settings into cfg.
func (d deployConfig) apply(cfg *server.Config) {
	s := d.server
	cfg.TLSCert, cfg.TLSKey, cfg.TrustProxy, cfg.BasePath = s.TLSCert, s.TLSKey, s.TrustProxy, s.BasePath
	cfg.ICEServers, cfg.PublicIPs = s.ICEServers, s.PublicIPs
	cfg.UDPPort, cfg.NoICETCP, cfg.UDPPortMin, cfg.UDPPortMax = s.UDPPort, s.NoICETCP, s.UDPPortMin, s.UDPPortMax
}

// newLogger logs to w as -log-format and -log-level say.
func newLogger(w io.Writer, d deployConfig) *slog.Logger {
	opts := &slog.HandlerOptions{Level: d.logLevel}
	if d.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// drain lets the running recordings go on for at most -drain-timeout
// while new WHIP sessions are refused; it returns how long it took.
func drain(srv *server.Server, d deployConfig, log *slog.Logger) time.Duration {
	start := time.Now()
	log.Info("shutting down: draining", "timeout", d.drainTimeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), d.drainTimeout)
	defer cancel()
	if err := srv.Drain(ctx); err != nil {
		log.Info("drain timeout: stopping the recordings still running")
	}
	return time.Since(start)
}
