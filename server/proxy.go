package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// normBasePath returns p as "/a/b" (no trailing slash), or "" for the root.
func normBasePath(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return "/" + p
}

// clientAddr returns the IP address of the client of r: the address the
// trusted proxy appended last to X-Forwarded-For when Config.TrustProxy
// is set (entries before it come from the client and may be forged),
// else the connection's.
func (s *Server) clientAddr(r *http.Request) string {
	if s.cfg.TrustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if a := strings.TrimSpace(parts[len(parts)-1]); a != "" {
				return addrOf(a)
			}
		}
	}
	return addrOf(r.RemoteAddr)
}

// origin returns "scheme://host" of the URL the client used, from
// X-Forwarded-Proto and X-Forwarded-Host when Config.TrustProxy is set and
// the proxy sent them, else "" (links stay relative to the host).
func (s *Server) origin(r *http.Request) string {
	if !s.cfg.TrustProxy {
		return ""
	}
	proto := firstValue(r.Header.Get("X-Forwarded-Proto"))
	host := firstValue(r.Header.Get("X-Forwarded-Host"))
	if proto == "" && host == "" {
		return ""
	}
	if proto != "http" && proto != "https" {
		proto = "http"
		if r.TLS != nil {
			proto = "https"
		}
	}
	if host == "" || strings.ContainsAny(host, "/\\ @") {
		host = r.Host
	}
	return proto + "://" + host
}

func firstValue(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

// locationWriter rewrites a Location header that is a path of the server
// ("/whip/…", "/api/…") into the URL the client used: under the base path,
// and absolute when a trusted proxy told the scheme and host.
type locationWriter struct {
	http.ResponseWriter
	prefix string // origin + base path
	done   bool
}

func (lw *locationWriter) fix() {
	if lw.done {
		return
	}
	lw.done = true
	h := lw.ResponseWriter.Header()
	if loc := h.Get("Location"); strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") {
		h.Set("Location", lw.prefix+loc)
	}
}

func (lw *locationWriter) WriteHeader(code int) { lw.fix(); lw.ResponseWriter.WriteHeader(code) }

func (lw *locationWriter) Write(b []byte) (int, error) { lw.fix(); return lw.ResponseWriter.Write(b) }

// Unwrap lets http.ResponseController reach the connection.
func (lw *locationWriter) Unwrap() http.ResponseWriter { return lw.ResponseWriter }

// Flush passes flushes on (server-sent events).
func (lw *locationWriter) Flush() {
	lw.fix()
	_ = http.NewResponseController(lw.ResponseWriter).Flush()
}

// underBase strips Config.BasePath from r's path. It answers requests
// outside it (404; a redirect for the base path without its slash) and
// reports false for them.
func (s *Server) underBase(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, *http.Request, bool) {
	base := s.base
	origin := s.origin(r)
	if base == "" && origin == "" {
		return w, r, true
	}
	if base != "" {
		if r.URL.Path == base {
			http.Redirect(w, r, base+"/", http.StatusMovedPermanently)
			return w, r, false
		}
		rest, ok := strings.CutPrefix(r.URL.Path, base+"/")
		if !ok {
			writeError(w, http.StatusNotFound, "NotFoundError", "this server lives under "+base+"/")
			return w, r, false
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + rest
		r2.URL.RawPath = ""
		r = r2
	}
	return &locationWriter{ResponseWriter: w, prefix: origin + base}, r, true
}

// deployment is what New opens for the deployment settings of a Config.
type deployment struct {
	base   string
	certs  *certReloader
	icenet *iceNet
}

// openDeployment checks and opens the deployment settings of cfg: the
// certificate, the shared ICE port.
func openDeployment(cfg Config, lg *slog.Logger) (deployment, error) {
	d := deployment{base: normBasePath(cfg.BasePath)}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return d, errors.New("server: TLS needs both a certificate and a key")
	}
	if cfg.TLSCert != "" {
		c, err := newCertReloader(cfg.TLSCert, cfg.TLSKey, func(err error) {
			lg.Warn("tls: reloading the certificate failed; the previous one stays in use", "err", err)
		})
		if err != nil {
			return d, fmt.Errorf("server: %w", err)
		}
		d.certs = c
	}
	n, err := openICENet(cfg, lg)
	if err != nil {
		return d, fmt.Errorf("server: %w", err)
	}
	d.icenet = n
	return d, nil
}
