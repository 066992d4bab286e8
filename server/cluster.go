package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomediarecorder/mediarecorder/catalog"
	"github.com/gomediarecorder/mediarecorder/storage"
)

// DefaultFlushInterval is Config.FlushInterval in a cluster: a node lost
// with its disk loses about this much of each recording (plus the
// recorder's own second).
const DefaultFlushInterval = time.Second

// heartbeatEvery is how often a node tells the catalog it is alive (and
// claims the recordings of dead nodes, in a cluster).
var heartbeatEvery = 2 * time.Second

// nodeInfo is this node's identity in the catalog.
type nodeInfo struct {
	id      string
	url     string // advertise URL, no trailing slash
	cluster bool   // a shared (PostgreSQL) catalog
}

// nodeIDOf derives a node ID from its advertise URL: 8 hex digits, safe
// in session IDs and URLs.
func nodeIDOf(advertise string) string {
	h := sha256.Sum256([]byte(advertise))
	return hex.EncodeToString(h[:4])
}

// validNodeID reports whether id may prefix a session ID.
func validNodeID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

// openBackends opens the store and the catalog, recovers what a crash (or
// a dead node) left unfinished and starts the heartbeat, claim and
// upload loops.
func (s *Server) openBackends() error {
	cfg := s.cfg
	s.node.cluster = catalog.IsPostgres(cfg.Catalog)
	s.node.url = strings.TrimSuffix(cfg.Advertise, "/")
	if s.node.cluster && s.node.url == "" {
		return errors.New("server: a PostgreSQL catalog needs the node's advertise URL")
	}
	if s.node.url != "" {
		if u, err := url.Parse(s.node.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("server: advertise URL %q: want http(s)://host:port", cfg.Advertise)
		}
	}
	s.node.id = cfg.NodeID
	if s.node.id == "" {
		s.node.id = nodeIDOf(s.node.url)
	}
	if !validNodeID(s.node.id) {
		return fmt.Errorf("server: node ID %q: letters, digits and _ only", s.node.id)
	}

	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	flush := cfg.FlushInterval
	if flush == 0 && s.node.cluster {
		flush = DefaultFlushInterval
	}
	st, err := storage.Open(ctx, cfg.Store, cfg.Dir, storage.S3Options{FlushInterval: max(flush, 0), Logger: s.log})
	if err != nil {
		return fmt.Errorf("server: store %s: %w", cfg.Store, err)
	}
	s.st = st
	if s3, ok := st.(*storage.S3); ok {
		s.s3 = s3
		if err := s3.EnsureBucket(ctx); err != nil {
			s.log.Warn("store: cannot make sure the bucket exists", "store", s3.String(), "err", err)
		}
	}
	spec := cfg.Catalog
	if spec == "" {
		spec = filepath.Join(cfg.Dir, "catalog.db")
	}
	cat, err := catalog.Open(ctx, spec, catalog.Options{Logger: s.log, Node: s.node.id, StaleAfter: cfg.StaleAfter})
	if err != nil {
		return fmt.Errorf("server: catalog %s: %w", redactURL(spec), err)
	}
	s.cat = cat
	if err := s.heartbeat(ctx); err != nil {
		cat.Close()
		return fmt.Errorf("server: catalog heartbeat: %w", err)
	}
	// Our own recordings first (a restart with the spool), then those of
	// dead nodes: ClaimOrphans returns both.
	if err := s.recoverSpool(ctx); err != nil {
		s.log.Warn("recovering the spool", "err", err)
	}
	if err := s.claim(ctx); err != nil {
		cat.Close()
		return fmt.Errorf("server: catalog: %w", err)
	}
	if s.s3 != nil {
		s.bg.Add(1)
		go func() { defer s.bg.Done(); _ = s.s3.RunQueue(s.ctx) }()
	}
	if s.node.cluster {
		s.bg.Add(1)
		go func() { defer s.bg.Done(); s.clusterLoop() }()
	}
	s.log.Info("storage and catalog", "store", st.String(), "catalog", redactURL(spec), "node", s.node.id, "advertise", s.node.url)
	return nil
}

// redactURL hides a password in a catalog URL.
func redactURL(spec string) string {
	if u, err := url.Parse(spec); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	return spec
}

// closeBackends leaves the cluster and closes the catalog.
func (s *Server) closeBackends() error {
	if s.cat == nil {
		return errors.New("server: catalog closed")
	}
	if s.node.cluster {
		ctx, cancel := context.WithTimeout(context.Background(), catalogTimeout)
		if err := s.cat.Leave(ctx, s.node.id); err != nil {
			s.log.Warn("leaving the cluster", "err", err)
		}
		cancel()
	}
	return s.cat.Close()
}

// heartbeat tells the catalog this node is alive.
func (s *Server) heartbeat(ctx context.Context) error {
	s.mu.Lock()
	n := len(s.sessions)
	s.mu.Unlock()
	return s.cat.Heartbeat(ctx, catalog.Node{ID: s.node.id, URL: s.node.url, Capacity: max(s.lim.capacity, 0), Sessions: n})
}

// claim takes over the unfinished recordings of dead nodes (and this
// node's own, from before a restart) and finishes them.
func (s *Server) claim(ctx context.Context) error {
	rows, err := s.cat.ClaimOrphans(ctx, s.node.id, 0)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if !validRow(r) {
			s.log.Warn("catalog: skipping a row with a bad id", "id", r.ID, "file", keyOf(r))
			continue
		}
		s.recoverRow(ctx, r)
	}
	return nil
}

// clusterLoop beats every heartbeatEvery, saves the live recordings'
// figures (so that a takeover knows what was lost) and claims orphans,
// until the server stops.
func (s *Server) clusterLoop() {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(s.ctx, catalogTimeout)
		if err := s.heartbeat(ctx); err != nil {
			s.log.Warn("catalog heartbeat failed", "err", err)
		}
		cancel()
		s.saveLive()
		ctx, cancel = context.WithTimeout(s.ctx, 10*time.Minute)
		if err := s.claim(ctx); err != nil && s.ctx.Err() == nil {
			s.log.Warn("claiming orphans failed", "err", err)
		}
		cancel()
	}
}

// saveLive writes the live recordings' current duration and size to the
// catalog.
func (s *Server) saveLive() {
	s.mu.Lock()
	var live []*recording
	for _, rc := range s.recs {
		live = append(live, rc)
	}
	s.mu.Unlock()
	for _, rc := range live {
		rc.mu.Lock()
		if rc.rec != nil {
			m := rc.viewLocked()
			rc.e.Duration, rc.e.Size = m.Duration, m.Size
			rc.save()
			if sw, ok := rc.w.(*storage.S3Writer); ok {
				sw.SetNote(rc.flushNote)
			}
		}
		rc.mu.Unlock()
	}
}

// flushNote is what the store keeps with each flush of a recording: its
// duration then, which a takeover compares with what it recovers.
func (rc *recording) flushNote() []byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	b, _ := json.Marshal(flushNote{Duration: rc.viewLocked().Duration})
	return b
}

// flushNote is a flush's note (storage.S3Writer.SetNote).
type flushNote struct {
	Duration float64 `json:"duration"` // seconds recorded at the flush
}

// noteDuration is the duration a flush's note gives (0 if none).
func noteDuration(b []byte) float64 {
	var n flushNote
	if json.Unmarshal(b, &n) != nil {
		return 0
	}
	return n.Duration
}

// nodeURL returns the advertise URL of live node id.
func (s *Server) nodeURL(ctx context.Context, id string) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, catalogTimeout)
	defer cancel()
	nodes, err := s.cat.Nodes(ctx)
	if err != nil {
		return "", false
	}
	for _, n := range nodes {
		if n.ID == id && n.URL != "" {
			return n.URL, true
		}
	}
	return "", false
}

// roomyNode returns the advertise URL of another live node with room for
// a session, the one with the fewest.
func (s *Server) roomyNode(ctx context.Context) (string, bool) {
	if !s.node.cluster {
		return "", false
	}
	ctx, cancel := context.WithTimeout(ctx, catalogTimeout)
	defer cancel()
	nodes, err := s.cat.Nodes(ctx)
	if err != nil {
		return "", false
	}
	best, found := catalog.Node{}, false
	for _, n := range nodes {
		if n.ID == s.node.id || n.URL == "" || !n.HasRoom() {
			continue
		}
		if !found || n.Sessions < best.Sessions {
			best, found = n, true
		}
	}
	return best.URL, found
}

// sessionID returns a new WHIP session ID: in a cluster prefixed by the
// node's ID, so that any node can tell whose it is.
func (s *Server) sessionID() string {
	if s.node.cluster {
		return s.node.id + "-" + newID()
	}
	return newID()
}

// sessionNode returns the node ID a session ID names ("" for this node's
// unprefixed IDs).
func sessionNode(sid string) string {
	if validID(sid) { // an unprefixed ID (a UUID has dashes of its own)
		return ""
	}
	n, _, ok := strings.Cut(sid, "-")
	if !ok {
		return ""
	}
	return n
}
