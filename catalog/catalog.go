// Package catalog keeps the recordings' rows, their live events and the
// cluster's nodes behind one interface, Catalog, with two engines:
//
//   - Bolt (the default): one bbolt file on the local disk, for a single
//     node. It reads the catalog.db files that server/catalog.go wrote
//     (bucket "recordings", key = id, value = the JSON entry), so an
//     upgrade loses nothing; events go through in-process channels and
//     nodes live in memory.
//   - Postgres (`-catalog postgres://…`): one PostgreSQL database shared by
//     every node of a cluster, through pgx v5 (pgxpool). The schema is
//     created and migrated by Open (versioned, idempotent, serialised by an
//     advisory lock so several nodes may start at once). Events are stored
//     in a table and announced with LISTEN/NOTIFY, so a subscriber on any
//     node sees the events of a recording made on another.
//
// # Using it from the server
//
// Open picks the engine from the spec: a postgres:// or postgresql:// URL,
// or a bbolt file path:
//
//	cat, err := catalog.Open(ctx, spec, catalog.Options{Logger: log})
//	defer cat.Close()
//
// Recordings: Put inserts or replaces the whole row (Owner and Claimed
// are set only when the row is created, and changed only by ClaimOrphans;
// Deleting only by BeginDelete); Get, Delete, List (newest first);
// BeginDelete and SetKeep change one row atomically, for retention.
//
// Events: the owner of a recording calls Publish for each of its events in
// order (start, dataavailable, pause, resume, error, stop); the catalog
// numbers them 1, 2, 3… per recording (Event.Seq, a ready-made SSE id).
// Subscribe(ctx, id, after) delivers, in order and exactly once, every
// event with Seq > after — first those already published, then the live
// ones — until ctx ends or the cancel function is called, so an SSE
// handler passes the Last-Event-ID header (or 0) as after and stops at
// the "stop" event. Publish calls for one recording must not overlap
// (the server publishes under the recording's mutex): their order is the
// events' order.
//
// Nodes: every node calls Heartbeat every few seconds (well under
// Options.StaleAfter, e.g. every 2 s for 10 s) with its ID, advertise URL,
// capacity and current session count, and Leave when it shuts down; Nodes
// lists the live ones (those whose heartbeat is younger than
// Options.StaleAfter, judged by the database's clock), to forward requests
// or redirect to a node with room (Node.HasRoom). ClaimOrphans(ctx, me,
// staleAfter), called at start-up and then periodically, atomically makes
// me the owner of every unfinished recording whose owner is dead (no
// heartbeat for staleAfter), and of me's own unfinished recordings from
// before this Catalog was opened (a node restarting with the same ID gets
// its recordings back at once, before anyone sees it dead); exactly one
// caller gets each row. The server then recovers those recordings (marks
// them Recovered, sets Lost, finishes them) and Puts them.
//
// PostgreSQL objects (in the DSN's default schema): the tables
// recordings, recording_events, nodes and mediarecorder_schema (the
// applied migration versions), the function mediarecorder_publish, the
// NOTIFY channel mediarecorder_events, and advisory locks on two
// constant keys (migrations, claims) and on hashes of recording IDs
// (event numbering). The listening connection's application_name is
// mediarecorder-catalog-listen. Node liveness is judged by the database's
// clock, so the nodes' clocks need not agree.
//
// With Bolt, recordings written by server/catalog.go have no Owner: the
// first ClaimOrphans returns every unfinished one, which is what start-up
// recovery wants.
package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Sentinel errors.
var (
	// ErrNotFound: no recording has this ID.
	ErrNotFound = errors.New("catalog: recording not found")
	// ErrClosed: the Catalog was closed.
	ErrClosed = errors.New("catalog: closed")
	// ErrNoHeartbeat: ClaimOrphans was called by a node that never sent a
	// heartbeat; claiming without one would let others take the rows back
	// at once.
	ErrNoHeartbeat = errors.New("catalog: ClaimOrphans before the node's first Heartbeat")
	// ErrBadEvent: an event with no name, or with data that is not JSON.
	ErrBadEvent = errors.New("catalog: bad event")
	// ErrBadID: an empty recording or node ID.
	ErrBadID = errors.New("catalog: empty id")
	// ErrConflict: the row is not in a state that allows the change:
	// BeginDelete of an unfinished row, of one already being deleted or
	// (unless forced) of a kept one; SetKeep of a row being deleted.
	ErrConflict = errors.New("catalog: the recording's state does not allow it")
)

// DefaultStaleAfter is how old a node's last heartbeat may be before the
// node counts as dead, when Options.StaleAfter is zero.
const DefaultStaleAfter = 10 * time.Second

// Recording is one recording's row. Its JSON form is the one that
// server/catalog.go stored in bbolt (id, session, state, mimeType, size,
// duration, created, error, recovered, file, finished), plus the new
// fields. Times are kept to the microsecond.
type Recording struct {
	ID        string    `json:"id"`
	Session   string    `json:"session"`
	Name      string    `json:"name,omitempty"` // set by the user at creation
	State     string    `json:"state"`          // recording, paused, inactive
	MimeType  string    `json:"mimeType"`
	Size      int64     `json:"size"`     // bytes
	Duration  float64   `json:"duration"` // seconds
	Created   time.Time `json:"created"`
	Error     *Error    `json:"error,omitempty"`
	Recovered bool      `json:"recovered,omitempty"` // finished by recovery after a crash or takeover
	Lost      float64   `json:"lost,omitempty"`      // seconds lost to a crash or takeover
	Keep      bool      `json:"keep,omitempty"`      // exempt from retention
	// Deleting is set by BeginDelete: the row and its media are being
	// deleted (media first, then the row). Whoever finds it set finishes
	// the deletion. Put keeps the stored value.
	Deleting bool `json:"deleting,omitempty"`

	File       string    `json:"file"`                // base name of the local file (local storage)
	ObjectKey  string    `json:"objectKey,omitempty"` // object key (S3 storage)
	UploadID   string    `json:"uploadId,omitempty"`  // multipart upload in progress (S3 storage)
	Finished   bool      `json:"finished"`            // the file/object is complete
	FinishedAt time.Time `json:"finishedAt,omitzero"` // when it was finished

	// Owner is the ID of the node that records (or recovers) it. Put sets
	// it only when it creates the row; ClaimOrphans changes it.
	Owner string `json:"owner,omitempty"`
	// Claimed is when Owner got the row (creation or takeover); set by the
	// catalog, ignored by Put.
	Claimed time.Time `json:"claimed,omitzero"`
}

// Error is a recording's error, a DOMException's name and message.
type Error struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// Event is one event of a recording.
type Event struct {
	Recording string          // the recording's ID
	Seq       int64           // 1, 2, 3… per recording, set by Publish
	Name      string          // start, dataavailable, pause, resume, stop, error
	Data      json.RawMessage // the event's JSON, as SSE data; may be empty
	Time      time.Time       // when it was published
}

// Node is one server of the cluster.
type Node struct {
	ID        string    // stable across restarts (e.g. the -advertise URL or a configured name)
	URL       string    // advertise URL, where the other nodes forward to
	Capacity  int       // sessions it accepts; 0: no limit
	Sessions  int       // sessions it has now
	Heartbeat time.Time // its last heartbeat; set by the catalog
}

// HasRoom reports whether the node accepts one more session.
func (n Node) HasRoom() bool { return n.Capacity <= 0 || n.Sessions < n.Capacity }

// Catalog is the recordings' rows, their events and the nodes. Its
// methods are safe from any goroutine. Every method returns promptly with
// ctx's error once ctx ends.
type Catalog interface {
	// Put inserts r or replaces the row with r's ID. Owner is taken
	// only when the row is new (Options.Node when empty), Claimed never.
	Put(ctx context.Context, r Recording) error
	// Get returns the row with this ID, or ErrNotFound.
	Get(ctx context.Context, id string) (Recording, error)
	// Delete removes a row and its events; a missing row is no error.
	Delete(ctx context.Context, id string) error
	// List returns every row, newest (Created) first.
	List(ctx context.Context) ([]Recording, error)
	// BeginDelete marks a finished row Deleting, atomically: among
	// concurrent callers (on any node) exactly one succeeds. Without
	// force, a kept row is refused too. It returns the row as marked, or
	// ErrNotFound, or ErrConflict (unfinished, already being deleted, or
	// kept). The caller then deletes the media and then the row (Delete),
	// so that a crash in between leaves a Deleting row to finish, never
	// a row without its media or media without a row.
	BeginDelete(ctx context.Context, id string, force bool) (Recording, error)
	// SetKeep sets a row's Keep flag (exemption from retention) and
	// returns the row; ErrNotFound, or ErrConflict when it is being
	// deleted.
	SetKeep(ctx context.Context, id string, keep bool) (Recording, error)

	// Publish appends an event to recording id's events and wakes its
	// subscribers on every node. It returns the event with Seq and Time
	// set. Calls for one recording must not overlap.
	Publish(ctx context.Context, id, name string, data json.RawMessage) (Event, error)
	// Subscribe delivers the events of recording id with Seq > after, in
	// order, each once: the ones published so far, then the new ones. The
	// channel is closed after cancel is called, ctx ends or the Catalog is
	// closed. A slow reader loses nothing (the backlog is re-read from
	// the catalog) but should keep up.
	Subscribe(ctx context.Context, id string, after int64) (<-chan Event, func())

	// Heartbeat records that node n is alive, with its current figures.
	Heartbeat(ctx context.Context, n Node) error
	// Leave removes node id from the nodes at once (a graceful shutdown,
	// after its recordings are finished): Nodes stops listing it, and
	// whatever it left unfinished is an orphan right away.
	Leave(ctx context.Context, id string) error
	// Nodes returns the live nodes (heartbeat within Options.StaleAfter),
	// sorted by ID.
	Nodes(ctx context.Context) ([]Node, error)
	// ClaimOrphans makes me the owner of the unfinished recordings of
	// dead nodes (no heartbeat for staleAfter; 0 means
	// Options.StaleAfter), of unowned unfinished ones, and of me's own
	// unfinished ones from before this Catalog was opened, and returns
	// them. Among concurrent callers exactly one gets each row. me must
	// have sent a Heartbeat (ErrNoHeartbeat); ClaimOrphans refreshes it.
	ClaimOrphans(ctx context.Context, me string, staleAfter time.Duration) ([]Recording, error)

	// Close ends the subscriptions and releases the database.
	Close() error
}

// Options tune Open.
type Options struct {
	// Logger gets the catalog's warnings (lost database connections and
	// the like); nil: slog.Default().
	Logger *slog.Logger
	// Node is the ID of this node: Put makes it the Owner of new rows that
	// name none (a row without an owner is an orphan at once).
	Node string
	// StaleAfter is how long a node lives without a heartbeat, for Nodes
	// and for ClaimOrphans with staleAfter 0; 0: DefaultStaleAfter.
	StaleAfter time.Duration
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

func (o Options) staleAfter() time.Duration {
	if o.StaleAfter > 0 {
		return o.StaleAfter
	}
	return DefaultStaleAfter
}

// IsPostgres reports whether spec names a PostgreSQL database rather than
// a bbolt file.
func IsPostgres(spec string) bool {
	return strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://")
}

// Open opens the catalog that spec names: a postgres:// or postgresql://
// URL (OpenPostgres), or else the path of a bbolt file (OpenBolt).
func Open(ctx context.Context, spec string, opts Options) (Catalog, error) {
	if IsPostgres(spec) {
		return OpenPostgres(ctx, spec, opts)
	}
	return OpenBolt(spec, opts)
}

// checkEvent validates Publish's arguments.
func checkEvent(id, name string, data json.RawMessage) error {
	if id == "" {
		return ErrBadID
	}
	if name == "" {
		return fmt.Errorf("%w: no name", ErrBadEvent)
	}
	if len(data) > 0 && !json.Valid(data) {
		return fmt.Errorf("%w: %s data is not JSON", ErrBadEvent, name)
	}
	return nil
}

// normalize rounds r's times to the microsecond, as PostgreSQL keeps them.
func normalize(r *Recording) {
	r.Created = r.Created.Round(time.Microsecond)
	r.FinishedAt = r.FinishedAt.Round(time.Microsecond)
}
