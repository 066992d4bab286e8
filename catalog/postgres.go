package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// listenerApp is the application_name of the listening connection (it
// shows in pg_stat_activity).
const listenerApp = "mediarecorder-catalog-listen"

// listenIdle is how long the listener waits for a notification before it
// pings the server, to notice a connection that died in silence; the hub's
// reads of stored events give up after as long, and retry on another
// connection. A variable for the tests.
var listenIdle = 30 * time.Second

// Postgres is the cluster catalog: one PostgreSQL database that every node
// shares. Recordings, events and nodes are tables; events are announced
// with NOTIFY on one channel, which each Postgres instance LISTENs to on a
// dedicated connection that reconnects on its own. After a reconnect each
// subscriber reads back from the events table whatever it missed, so
// subscribers see every event once and in order across reconnects (late,
// not lost).
type Postgres struct {
	pool   *pgxpool.Pool
	listen *pgx.ConnConfig
	opts   Options
	boot   time.Time // the database's clock when opened
	hub    *hub

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

var _ Catalog = (*Postgres)(nil)

// OpenPostgres connects to the database at dsn (a postgres:// URL, pgx's
// syntax: pool_max_conns and the like are accepted), creates or migrates
// the schema, and starts listening for events.
func OpenPostgres(ctx context.Context, dsn string, opts Options) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	lcfg := cfg.ConnConfig.Copy()
	lcfg.RuntimeParams["application_name"] = listenerApp
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	p := &Postgres{pool: pool, listen: lcfg, opts: opts}
	if err := pool.QueryRow(ctx, "SELECT statement_timestamp()").Scan(&p.boot); err != nil {
		pool.Close()
		return nil, fmt.Errorf("catalog: %w", err)
	}
	conn, err := p.connectListener(ctx)
	if err != nil {
		pool.Close()
		return nil, err
	}
	p.hub = newHub(p.fetch, opts.logger())
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.wg.Add(1)
	go p.listenLoop(conn)
	return p, nil
}

// connectListener opens the listening connection.
func (p *Postgres) connectListener(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, p.listen)
	if err != nil {
		return nil, fmt.Errorf("catalog: listener: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+eventsChannel); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("catalog: listener: %w", err)
	}
	return conn, nil
}

// listenLoop receives the notifications and hands them to the hub; when
// the connection breaks it reconnects (backing off up to 2 s) and has
// every subscriber read back what it missed.
func (p *Postgres) listenLoop(conn *pgx.Conn) {
	defer p.wg.Done()
	log := p.opts.logger()
	backoff := 50 * time.Millisecond
	for {
		if conn == nil {
			c, err := p.connectListener(p.ctx)
			if err != nil {
				if p.ctx.Err() != nil {
					return
				}
				log.Warn("catalog: listener cannot reconnect; retrying", "err", err, "in", backoff)
				select {
				case <-time.After(backoff):
				case <-p.ctx.Done():
					return
				}
				backoff = min(2*backoff, 2*time.Second)
				continue
			}
			conn, backoff = c, 50*time.Millisecond
			log.Info("catalog: listener reconnected")
			p.hub.resync()
		}
		wctx, cancel := context.WithTimeout(p.ctx, listenIdle)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil && pgconn.Timeout(err) && p.ctx.Err() == nil {
			// Quiet for a while: check that the connection still works
			// (a dead peer or network sends no error, only silence).
			pctx, cancel := context.WithTimeout(p.ctx, listenIdle)
			err = conn.Ping(pctx)
			cancel()
			if err == nil {
				continue
			}
		}
		if err != nil {
			conn.Close(context.Background())
			conn = nil
			if p.ctx.Err() != nil {
				return
			}
			log.Warn("catalog: listener connection lost; reconnecting", "err", err)
			continue
		}
		p.dispatch(n.Payload)
	}
}

// notice is a NOTIFY payload; N and D are missing when the event was too
// large for one.
type notice struct {
	R string    `json:"r"`
	S int64     `json:"s"`
	N *string   `json:"n"`
	D *string   `json:"d"`
	T time.Time `json:"t"`
}

func (p *Postgres) dispatch(payload string) {
	var n notice
	if err := json.Unmarshal([]byte(payload), &n); err != nil || n.R == "" || n.S < 1 {
		p.opts.logger().Warn("catalog: bad notification", "payload", payload, "err", err)
		return
	}
	ev := Event{Recording: n.R, Seq: n.S}
	// Without a name, or with data that is not JSON (not from Publish),
	// the subscribers read the event back from the table.
	if n.N != nil && *n.N != "" && n.D != nil && (*n.D == "" || json.Valid([]byte(*n.D))) {
		ev.Name, ev.Time = *n.N, n.T
		if *n.D != "" {
			ev.Data = json.RawMessage(*n.D)
		}
	}
	p.hub.announce(ev)
}

// fetch reads stored events for the hub.
func (p *Postgres) fetch(ctx context.Context, id string, from int64) ([]Event, error) {
	ctx, cancel := context.WithTimeout(ctx, listenIdle)
	defer cancel()
	rows, _ := p.pool.Query(ctx,
		"SELECT seq, name, data, at FROM recording_events WHERE recording = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
		id, from, fetchPage)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Event, error) {
		ev := Event{Recording: id}
		var data string
		err := row.Scan(&ev.Seq, &ev.Name, &data, &ev.Time)
		if data != "" {
			ev.Data = json.RawMessage(data)
		}
		return ev, err
	})
}

// Publish implements Catalog: one round trip that stores the event and
// sends the NOTIFY when it commits.
func (p *Postgres) Publish(ctx context.Context, id, name string, data json.RawMessage) (Event, error) {
	if err := checkEvent(id, name, data); err != nil {
		return Event{}, err
	}
	ev := Event{Recording: id, Name: name, Data: append(json.RawMessage(nil), data...)}
	if len(ev.Data) == 0 {
		ev.Data = nil
	}
	err := p.pool.QueryRow(ctx, "SELECT o_seq, o_at FROM mediarecorder_publish($1, $2, $3)", id, name, string(data)).Scan(&ev.Seq, &ev.Time)
	if err != nil {
		return Event{}, p.err(err)
	}
	return ev, nil
}

// Subscribe implements Catalog.
func (p *Postgres) Subscribe(ctx context.Context, id string, after int64) (<-chan Event, func()) {
	return p.hub.subscribe(ctx, id, after)
}

// err wraps a database error; after Close it is ErrClosed.
func (p *Postgres) err(err error) error {
	if p.ctx.Err() != nil {
		return ErrClosed
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("catalog: %w", err)
}

// recordingCols are the columns scanRecording reads, in order.
const recordingCols = `id, session, name, state, mime_type, size, duration, created,
	error_name, error_message, recovered, lost, keep, file, object_key, upload_id,
	finished, finished_at, owner, claimed, deleting`

func scanRecording(row pgx.CollectableRow) (Recording, error) {
	var r Recording
	var errName, errMsg *string
	var finishedAt *time.Time
	err := row.Scan(&r.ID, &r.Session, &r.Name, &r.State, &r.MimeType, &r.Size, &r.Duration, &r.Created,
		&errName, &errMsg, &r.Recovered, &r.Lost, &r.Keep, &r.File, &r.ObjectKey, &r.UploadID,
		&r.Finished, &finishedAt, &r.Owner, &r.Claimed, &r.Deleting)
	if errName != nil {
		r.Error = &Error{Name: *errName}
		if errMsg != nil {
			r.Error.Message = *errMsg
		}
	}
	if finishedAt != nil {
		r.FinishedAt = *finishedAt
	}
	return r, err
}

// Put implements Catalog.
func (p *Postgres) Put(ctx context.Context, r Recording) error {
	if r.ID == "" {
		return ErrBadID
	}
	normalize(&r)
	var errName, errMsg *string
	if r.Error != nil {
		errName, errMsg = &r.Error.Name, &r.Error.Message
	}
	var finishedAt *time.Time
	if !r.FinishedAt.IsZero() {
		finishedAt = &r.FinishedAt
	}
	if r.Owner == "" {
		r.Owner = p.opts.Node
	}
	_, err := p.pool.Exec(ctx, `
INSERT INTO recordings (id, session, name, state, mime_type, size, duration, created,
	error_name, error_message, recovered, lost, keep, file, object_key, upload_id,
	finished, finished_at, owner, claimed)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, statement_timestamp())
ON CONFLICT (id) DO UPDATE SET
	session = EXCLUDED.session, name = EXCLUDED.name, state = EXCLUDED.state,
	mime_type = EXCLUDED.mime_type, size = EXCLUDED.size, duration = EXCLUDED.duration,
	created = EXCLUDED.created, error_name = EXCLUDED.error_name,
	error_message = EXCLUDED.error_message, recovered = EXCLUDED.recovered,
	lost = EXCLUDED.lost, keep = EXCLUDED.keep, file = EXCLUDED.file,
	object_key = EXCLUDED.object_key, upload_id = EXCLUDED.upload_id,
	finished = EXCLUDED.finished, finished_at = EXCLUDED.finished_at`,
		r.ID, r.Session, r.Name, r.State, r.MimeType, r.Size, r.Duration, r.Created,
		errName, errMsg, r.Recovered, r.Lost, r.Keep, r.File, r.ObjectKey, r.UploadID,
		r.Finished, finishedAt, r.Owner)
	if err != nil {
		return p.err(err)
	}
	return nil
}

// Get implements Catalog.
func (p *Postgres) Get(ctx context.Context, id string) (Recording, error) {
	rows, _ := p.pool.Query(ctx, "SELECT "+recordingCols+" FROM recordings WHERE id = $1", id)
	r, err := pgx.CollectExactlyOneRow(rows, scanRecording)
	if errors.Is(err, pgx.ErrNoRows) {
		return Recording{}, ErrNotFound
	}
	if err != nil {
		return Recording{}, p.err(err)
	}
	return r, nil
}

// Delete implements Catalog.
func (p *Postgres) Delete(ctx context.Context, id string) error {
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM recordings WHERE id = $1", id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM recording_events WHERE recording = $1", id)
		return err
	})
	if err != nil {
		return p.err(err)
	}
	return nil
}

// BeginDelete implements Catalog: one conditional UPDATE, so among
// concurrent callers exactly one sees its row returned.
func (p *Postgres) BeginDelete(ctx context.Context, id string, force bool) (Recording, error) {
	if id == "" {
		return Recording{}, ErrBadID
	}
	return p.change(ctx, id, `UPDATE recordings SET deleting = true
WHERE id = $1 AND finished AND NOT deleting AND (NOT keep OR $2)
RETURNING `+recordingCols, id, force)
}

// SetKeep implements Catalog.
func (p *Postgres) SetKeep(ctx context.Context, id string, keep bool) (Recording, error) {
	if id == "" {
		return Recording{}, ErrBadID
	}
	return p.change(ctx, id, `UPDATE recordings SET keep = $2 WHERE id = $1 AND NOT deleting
RETURNING `+recordingCols, id, keep)
}

// change runs a conditional UPDATE … RETURNING of row id: no row back is
// ErrNotFound when the row is missing, else ErrConflict.
func (p *Postgres) change(ctx context.Context, id, query string, args ...any) (Recording, error) {
	rows, _ := p.pool.Query(ctx, query, args...)
	r, err := pgx.CollectExactlyOneRow(rows, scanRecording)
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		if err := p.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM recordings WHERE id = $1)", id).Scan(&exists); err != nil {
			return Recording{}, p.err(err)
		}
		if !exists {
			return Recording{}, ErrNotFound
		}
		return Recording{}, ErrConflict
	}
	if err != nil {
		return Recording{}, p.err(err)
	}
	return r, nil
}

// List implements Catalog.
func (p *Postgres) List(ctx context.Context) ([]Recording, error) {
	rows, _ := p.pool.Query(ctx, "SELECT "+recordingCols+" FROM recordings ORDER BY created DESC, id DESC")
	rs, err := pgx.CollectRows(rows, scanRecording)
	if err != nil {
		return nil, p.err(err)
	}
	return rs, nil
}

// Heartbeat implements Catalog.
func (p *Postgres) Heartbeat(ctx context.Context, n Node) error {
	if n.ID == "" {
		return ErrBadID
	}
	_, err := p.pool.Exec(ctx, `
INSERT INTO nodes (id, url, capacity, sessions, heartbeat) VALUES ($1, $2, $3, $4, statement_timestamp())
ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, capacity = EXCLUDED.capacity,
	sessions = EXCLUDED.sessions, heartbeat = EXCLUDED.heartbeat`,
		n.ID, n.URL, n.Capacity, n.Sessions)
	if err != nil {
		return p.err(err)
	}
	return nil
}

// Leave implements Catalog.
func (p *Postgres) Leave(ctx context.Context, id string) error {
	if _, err := p.pool.Exec(ctx, "DELETE FROM nodes WHERE id = $1", id); err != nil {
		return p.err(err)
	}
	return nil
}

// Nodes implements Catalog.
func (p *Postgres) Nodes(ctx context.Context) ([]Node, error) {
	rows, _ := p.pool.Query(ctx, `SELECT id, url, capacity, sessions, heartbeat FROM nodes
		WHERE heartbeat > statement_timestamp() - make_interval(secs => $1) ORDER BY id`,
		p.opts.staleAfter().Seconds())
	ns, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Node, error) {
		var n Node
		err := row.Scan(&n.ID, &n.URL, &n.Capacity, &n.Sessions, &n.Heartbeat)
		return n, err
	})
	if err != nil {
		return nil, p.err(err)
	}
	return ns, nil
}

// ClaimOrphans implements Catalog. Claims are serialised cluster-wide by
// an advisory transaction lock, so each UPDATE sees the previous claim
// committed; the caller's heartbeat is refreshed in the same transaction.
func (p *Postgres) ClaimOrphans(ctx context.Context, me string, staleAfter time.Duration) ([]Recording, error) {
	if me == "" {
		return nil, ErrBadID
	}
	if staleAfter <= 0 {
		staleAfter = p.opts.staleAfter()
	}
	var claimed []Recording
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", claimLock); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "UPDATE nodes SET heartbeat = statement_timestamp() WHERE id = $1", me)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNoHeartbeat
		}
		rows, _ := tx.Query(ctx, `
UPDATE recordings r SET owner = $1, claimed = statement_timestamp()
WHERE NOT r.finished AND (
	(r.owner = $1 AND r.claimed < $2)
	OR (r.owner <> $1 AND NOT EXISTS (
		SELECT 1 FROM nodes n WHERE n.id = r.owner
		AND n.heartbeat > statement_timestamp() - make_interval(secs => $3))))
RETURNING `+recordingCols, me, p.boot, staleAfter.Seconds())
		claimed, err = pgx.CollectRows(rows, scanRecording)
		return err
	})
	if errors.Is(err, ErrNoHeartbeat) {
		return nil, err
	}
	if err != nil {
		return nil, p.err(err)
	}
	sortNewestFirst(claimed)
	return claimed, nil
}

// Close implements Catalog: it stops the listener, ends the
// subscriptions and closes the pool.
func (p *Postgres) Close() error {
	err := ErrClosed
	p.once.Do(func() {
		p.cancel()
		p.wg.Wait()
		p.hub.close()
		p.pool.Close()
		err = nil
	})
	return err
}
