// Package server is the recording server behind `mediarecorder serve`:
// WebRTC ingest over WHIP (RFC 9725), the MediaRecorder API over HTTP
// (JSON, with events over server-sent events), recordings kept on disk with
// a bbolt catalog, Prometheus metrics and a small web page at /.
//
// Every route, body, status code and event of the HTTP interface is
// described in docs/http-api.md in the module's repository.
package server

import (
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/catalog"
	"github.com/gomediarecorder/mediarecorder/storage"
	"github.com/pion/webrtc/v4"
)

// maxBody is the largest request body accepted (SDP offers, JSON).
const maxBody = 1 << 20

// trackWait is how long a new recording waits for the tracks its WHIP
// session announced to arrive.
const trackWait = 5 * time.Second

//go:embed web
var webFS embed.FS

// Config configures a Server.
type Config struct {
	// Dir holds the recordings and the catalog (catalog.db). It is
	// created when missing.
	Dir string
	// Token, when set, is the bearer token every WHIP and API request
	// must carry (Authorization: Bearer Token). GET requests may carry it
	// as the query parameter access_token instead, for EventSource and
	// <video src>, which cannot set headers.
	Token string
	// CORSOrigin is the Access-Control-Allow-Origin answered; "" means "*".
	CORSOrigin string
	// AutoRecord starts a recording (default options) for each new WHIP
	// session once its tracks have arrived.
	AutoRecord bool
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger

	// Limits and timeouts for a server open to the public. For each, zero
	// means the Default… constant of the same name and a negative value
	// means no limit.

	// Capacity is the most WHIP sessions open at once, counting those
	// still being answered; a POST /whip beyond it is answered 503 with
	// Retry-After.
	Capacity int
	// SessionsPerAddr is the most WHIP sessions open at once from one
	// client IP address (503 with Retry-After beyond it).
	SessionsPerAddr int
	// ConnsPerAddr is the most HTTP connections open at once from one
	// client IP address, enforced by the listener that Listener returns.
	ConnsPerAddr int
	// MaxCandidates is the most ICE candidates an offer may carry, and so
	// a session (trickle ICE is not supported); an offer with more is
	// answered 400 before any ICE work.
	MaxCandidates int
	// ConnectTimeout ends a WHIP session whose peer has not connected
	// (ICE and DTLS) this long after the answer was sent.
	ConnectTimeout time.Duration
	// HeaderTimeout is the most time a client may take to send a
	// request's header (HTTPServer's ReadHeaderTimeout).
	HeaderTimeout time.Duration
	// BodyTimeout is the most time a client may take to send a request's
	// body, from the end of its header; past it the request is answered
	// 408 and the connection closed.
	BodyTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that waits this long
	// for its next request (HTTPServer's IdleTimeout).
	IdleTimeout time.Duration
	// WriteTimeout is the most time one write of a response may take; it
	// is renewed at each write, so that event streams and downloads go on
	// as long as the client reads.
	WriteTimeout time.Duration

	// Deployment: TLS, reverse proxies, ICE and NAT (tls.go, proxy.go,
	// ice.go, ops.go).

	// TLSCert and TLSKey are PEM files; when both are set HTTPServer
	// serves HTTPS (HTTP/2 where the client offers it) and the pair is
	// read again whenever either file changes, so a renewal needs no
	// restart.
	TLSCert, TLSKey string
	// TrustProxy honours X-Forwarded-Proto, X-Forwarded-Host (WHIP
	// Location headers) and X-Forwarded-For (the client address of the
	// per-address limits) set by a reverse proxy in front of the server.
	TrustProxy bool
	// BasePath, e.g. "/rec", puts the whole server (page, WHIP, API,
	// metrics) under that prefix. "" or "/" is the root.
	BasePath string
	// ICEServers are the STUN and TURN servers of the server's
	// PeerConnections, also handed to the page (GET /api/config).
	ICEServers []webrtc.ICEServer
	// PublicIPs are put in the server's host candidates instead of the
	// addresses of its interfaces (NAT 1:1).
	PublicIPs []string
	// UDPPort, when set, carries every session's media on this one UDP
	// port, and ICE over TCP on the same port number (unless NoICETCP).
	UDPPort int
	// NoICETCP turns off ICE over TCP on UDPPort.
	NoICETCP bool
	// UDPPortMin and UDPPortMax bound the UDP ports of the sessions when
	// UDPPort is not set (one port per session and network interface).
	UDPPortMin, UDPPortMax uint16
	// Storage and cluster (docs/cluster.md). All empty: recordings in
	// Dir, the catalog in Dir/catalog.db, a single node.

	// Store is where recordings are kept: "" (or a directory, or
	// file://DIR) for a local directory, Dir by default; s3://BUCKET/PREFIX
	// for S3-compatible storage, with credentials, region and endpoint
	// from the AWS_* environment variables, Dir then being the spool.
	Store string
	// Catalog is the recordings' catalog: "" for the bbolt file
	// Dir/catalog.db; a postgres:// URL for one shared by a cluster's
	// nodes (events between nodes, heartbeats, failover).
	Catalog string
	// Advertise is the URL at which the other nodes and WHIP clients
	// reach this node (http://host:port); required with a PostgreSQL
	// catalog.
	Advertise string
	// NodeID names this node in the catalog; "" derives it from
	// Advertise (a restart with the same Advertise gets its recordings
	// back).
	NodeID string
	// FlushInterval is how often a recording into S3 also stores the
	// bytes not yet in a part, bounding what a node lost with its disk
	// loses; 0 means DefaultFlushInterval in a cluster and none on a
	// single node, negative none.
	FlushInterval time.Duration
	// StaleAfter is how long a node may miss heartbeats before another
	// takes its recordings over; 0 means catalog.DefaultStaleAfter.
	StaleAfter time.Duration

	// Retention (retention.go): the oldest finished recordings that are
	// not marked keep are deleted first, never a live one. Zero means no
	// limit for each.

	// RetainFor deletes the finished recordings created longer ago than
	// this.
	RetainFor time.Duration
	// RetainSize deletes the oldest finished recordings while all the
	// recordings of the catalog (live and kept ones included) take more
	// than this many bytes.
	RetainSize int64
	// Now is retention's clock (tests set it); nil means time.Now.
	Now func() time.Time
}

// Server is the recording server. Its methods are safe for concurrent use.
type Server struct {
	cfg  Config
	lim  limits
	log  *slog.Logger
	cat  catalog.Catalog
	st   storage.Store
	s3   *storage.S3 // st, when it is S3
	node nodeInfo
	api  *webrtc.API
	mux  *http.ServeMux
	ctx  context.Context
	stop context.CancelFunc

	mu       sync.Mutex
	sessions map[string]*session
	recs     map[string]*recording // every known recording, live or not
	closed   bool
	wg       sync.WaitGroup       // live recordings
	bg       sync.WaitGroup       // heartbeats, claims, the upload queue
	spooled  map[string]fixResult // spool files repaired at start-up, by key

	m     metrics
	slots slots // WHIP sessions held, answered or not

	// Deployment (tls.go, proxy.go, ice.go, ops.go).
	base   string        // Config.BasePath, normalized
	certs  *certReloader // nil for plain HTTP
	icenet *iceNet
	ops    opsState
	ret    retention // retention.go
}

// metrics are the counters behind /metrics.
type metrics struct {
	sessionsTotal    atomic.Uint64
	recordingsTotal  atomic.Uint64
	bytesWritten     atomic.Uint64
	droppedDone      atomic.Uint64 // from recorders that have stopped
	keyFrameReqsDone atomic.Uint64
	recovered        atomic.Uint64
}

// New opens (or creates) cfg.Dir and its catalog. Recordings that a crash
// left unfinished are finished in place (WebM and Matroska with webm.Fix)
// and marked recovered.
func New(cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("server: no recordings directory")
	}
	if cfg.CORSOrigin == "" {
		cfg.CORSOrigin = "*"
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.Default()
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("server: recordings directory %s: %w", cfg.Dir, err)
	}
	probe, err := os.CreateTemp(cfg.Dir, ".write-test-*")
	if err != nil {
		return nil, fmt.Errorf("server: recordings directory %s is not writable: %w", cfg.Dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())

	dep, err := openDeployment(cfg, lg)
	if err != nil {
		return nil, err
	}
	api, err := newWebRTCAPI(func(se *webrtc.SettingEngine) error {
		se.LoggerFactory = pionLogs{lg} // pionlog.go
		return dep.icenet.apply(cfg, se)
	})
	if err != nil {
		_ = dep.icenet.close()
		return nil, fmt.Errorf("server: webrtc: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{
		cfg: cfg, lim: limitsOf(cfg), log: lg, api: api, ctx: ctx, stop: stop,
		sessions: map[string]*session{},
		recs:     map[string]*recording{},
		base:     dep.base, certs: dep.certs, icenet: dep.icenet,
	}
	if err := s.openBackends(); err != nil {
		stop()
		_ = dep.icenet.close()
		return nil, err
	}
	s.startRetention()
	s.routes()
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s }

// ServeHTTP serves the WHIP endpoint, the API, /metrics and the page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w, r, ok := s.underBase(w, r)
	if !ok {
		return
	}
	rc := http.NewResponseController(w)
	if r.ContentLength != 0 && s.lim.body > 0 {
		// Also bounds the discarding of a body that no handler reads.
		// Cleared by readBody once the body is in, so that the wait for
		// ICE and the like does not run into it.
		_ = rc.SetReadDeadline(time.Now().Add(s.lim.body))
	}
	if s.lim.write > 0 {
		w = &deadlineWriter{ResponseWriter: w, rc: rc, d: s.lim.write}
	}
	guarded := r.URL.Path == "/whip" || strings.HasPrefix(r.URL.Path, "/whip/") ||
		r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/")
	if guarded {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", s.cfg.CORSOrigin)
		h.Set("Access-Control-Expose-Headers", "Location, Content-Type, Content-Length, Content-Range, Accept-Ranges")
		if s.cfg.CORSOrigin != "*" {
			h.Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, PATCH, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match, Range")
			h.Set("Access-Control-Max-Age", "600")
			if r.URL.Path == "/whip" {
				h.Set("Accept-Post", "application/sdp")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if (guarded || r.URL.Path == "/metrics" || strings.HasPrefix(r.URL.Path, "/debug/")) && !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mediarecorder"`)
		writeError(w, http.StatusUnauthorized, "NotAllowedError", "missing or wrong bearer token")
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	}
	if s.refuseDraining(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// authorized reports whether r carries the configured token.
func (s *Server) authorized(r *http.Request) bool {
	if s.cfg.Token == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok && r.Method == http.MethodGet {
		got, ok = r.URL.Query().Get("access_token"), true
	}
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.Token)) == 1
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /whip", s.handleWHIP)
	m.HandleFunc("DELETE /whip/{session}", s.handleWHIPDelete)
	m.HandleFunc("PATCH /whip/{session}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "DELETE, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, mediarecorder.NameNotSupported, "trickle ICE is not supported: gather every candidate before POSTing the offer")
	})
	m.HandleFunc("POST /api/recordings", s.handleCreate)
	m.HandleFunc("GET /api/recordings", s.handleList)
	m.HandleFunc("GET /api/recordings/{id}", s.handleGet)
	m.HandleFunc("DELETE /api/recordings/{id}", s.handleDelete)
	m.HandleFunc("PATCH /api/recordings/{id}", s.handlePatch)
	m.HandleFunc("POST /api/recordings/{id}/{action}", s.handleAction)
	m.HandleFunc("GET /api/recordings/{id}/media", s.handleMedia)
	m.HandleFunc("GET /api/recordings/{id}/events", s.handleEvents)
	m.HandleFunc("GET /metrics", s.handleAllMetrics)
	s.opsRoutes(m)
	notFound := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NotFoundError", "no such endpoint: "+r.Method+" "+r.URL.Path)
	}
	for _, method := range []string{"GET", "POST", "DELETE", "PATCH"} {
		m.HandleFunc(method+" /api/", notFound)
	}
	sub, _ := fs.Sub(webFS, "web")
	m.Handle("GET /", http.FileServerFS(sub))
	s.mux = m
}

// Shutdown stops every recorder, waits until every file is finished (or
// ctx ends), closes the WHIP sessions and the catalog.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var live []*recording
	for _, rc := range s.recs {
		live = append(live, rc)
	}
	sessions := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.mu.Unlock()

	for _, rc := range live {
		rc.stopRecorder()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	for _, ss := range sessions {
		ss.close()
	}
	s.stop()
	s.bg.Wait()
	if cerr := s.closeBackends(); err == nil {
		err = cerr
	}
	if ierr := s.icenet.close(); err == nil {
		err = ierr
	}
	return err
}

// apiError is the JSON error body.
type apiError struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, name, msg string) {
	writeJSON(w, status, apiError{Error: errorBody{Name: name, Message: msg}})
}

// readBody reads a request's body (at most maxBody bytes, within
// BodyTimeout), then lifts the read deadline.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err == nil {
		_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	}
	return b, err
}

// writeBodyError answers a request whose body could not be read.
func writeBodyError(w http.ResponseWriter, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeError(w, http.StatusRequestEntityTooLarge, "QuotaExceededError", fmt.Sprintf("the body is larger than %d bytes", mbe.Limit))
		return
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusRequestTimeout, "TimeoutError", "the body did not arrive in time")
		return
	}
	writeError(w, http.StatusBadRequest, "SyntaxError", "reading the body: "+err.Error())
}
