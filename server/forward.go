package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/gomediarecorder/mediarecorder"
)

// forwardedBy is the request header a node sets on what it forwards to
// another, naming itself: a node never forwards a request that carries
// it (no loops while ownership changes hands).
const forwardedBy = "Mediarecorder-Forwarded-By"

// forward passes the request on to node (the owner of a session or a
// live recording) and relays its answer, events streams included. body,
// when not nil, is the request's body already read. The token travels
// in the request's own Authorization header or query.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, node string, body []byte) {
	unavailable := func(msg string) {
		w.Header().Set("Retry-After", "2")
		writeError(w, http.StatusServiceUnavailable, mediarecorder.NameInvalidState, msg)
	}
	if from := r.Header.Get(forwardedBy); from != "" {
		unavailable(fmt.Sprintf("forwarded by node %s to node %s, which does not own it (ownership is changing)", from, s.node.id))
		return
	}
	base, ok := s.nodeURL(r.Context(), node)
	if !ok {
		unavailable(fmt.Sprintf("node %s, which owns it, is not alive: another node takes its recordings over", node))
		return
	}
	target, err := url.Parse(base)
	if err != nil {
		unavailable(fmt.Sprintf("node %s has a bad URL %q", node, base))
		return
	}
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	// The owner answers with its own CORS headers.
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Vary"} {
		w.Header().Del(k)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Header.Set(forwardedBy, s.node.id)
		},
		FlushInterval: -1, // event streams
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return
			}
			s.log.Warn("forwarding failed", "node", node, "url", base, "path", r.URL.Path, "err", err)
			w.Header().Set("Retry-After", "2")
			writeError(w, http.StatusBadGateway, mediarecorder.NameUnknown, fmt.Sprintf("node %s did not answer: %v", node, err))
		},
	}
	s.log.Debug("forwarding", "node", node, "method", r.Method, "path", r.URL.Path)
	rp.ServeHTTP(w, r)
}
