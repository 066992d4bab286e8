package server

import (
	"context"
	"path"
	"strings"
	"time"

	"github.com/gomediarecorder/mediarecorder/catalog"
)

// catalogTimeout bounds one catalog call made on behalf of a recording
// (a row written, an event published), so that a catalog that is away
// does not hold a recorder's callbacks for long.
const catalogTimeout = 5 * time.Second

// meta is a recording as the API shows it: the catalog row's public
// fields.
type meta struct {
	ID        string     `json:"id"`
	Name      string     `json:"name,omitempty"`
	Session   string     `json:"session"`
	State     string     `json:"state"`
	MimeType  string     `json:"mimeType"`
	Size      int64      `json:"size"`
	Duration  float64    `json:"duration"`
	Created   time.Time  `json:"created"`
	Error     *errorBody `json:"error,omitempty"`
	Recovered bool       `json:"recovered,omitempty"`
	// Lost is how many seconds a crash or a takeover lost (an estimate:
	// the duration last known to the catalog beyond what was recovered).
	Lost float64 `json:"lost,omitempty"`
	// Node is the ID of the node that records (or recorded) it, in a
	// cluster.
	Node string `json:"node,omitempty"`
	// Keep exempts it from retention (-retain-for, -retain-size).
	Keep bool `json:"keep"`
}

// viewOf is the API's view of a catalog row.
func viewOf(r catalog.Recording, cluster bool) meta {
	m := meta{
		ID: r.ID, Name: r.Name, Session: r.Session, State: r.State, MimeType: r.MimeType, Size: r.Size,
		Duration: r.Duration, Created: r.Created, Recovered: r.Recovered, Lost: r.Lost, Keep: r.Keep,
	}
	if r.Error != nil {
		m.Error = &errorBody{Name: r.Error.Name, Message: r.Error.Message}
	}
	if cluster {
		m.Node = r.Owner
	}
	return m
}

// keyOf is the store key of a recording's media.
func keyOf(r catalog.Recording) string {
	if r.ObjectKey != "" {
		return r.ObjectKey
	}
	return r.File
}

// validRow reports whether a row's id and key may reach the filesystem
// or the store: an id from newID and a key that is the id with an
// extension (or a recovered copy's suffix).
func validRow(r catalog.Recording) bool {
	k := keyOf(r)
	return validID(r.ID) && strings.HasPrefix(k, r.ID) && path.Base(k) == k && !strings.Contains(k, "..")
}

// put writes a row with a bounded wait, logging a failure.
func (s *Server) put(r catalog.Recording) {
	ctx, cancel := context.WithTimeout(context.Background(), catalogTimeout)
	defer cancel()
	if err := s.cat.Put(ctx, r); err != nil {
		s.log.Error("catalog write failed", "recording", r.ID, "err", err)
	}
}

// row returns a recording's catalog row.
func (s *Server) row(ctx context.Context, id string) (catalog.Recording, error) {
	ctx, cancel := context.WithTimeout(ctx, catalogTimeout)
	defer cancel()
	return s.cat.Get(ctx, id)
}
