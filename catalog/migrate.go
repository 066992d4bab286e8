package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// migrateLock is the advisory lock key that serialises migrations.
const migrateLock int64 = 0x6d72_6361_7401 // "mrcat" 1

// claimLock is the advisory lock key that serialises ClaimOrphans.
const claimLock int64 = 0x6d72_6361_7402

// eventsChannel is the NOTIFY channel of recording events.
const eventsChannel = "mediarecorder_events"

// migrations are the schema's versions, in order: migrations[i] takes the
// schema from version i to i+1. Append only; never edit a released one.
var migrations = []string{
	// 1: recordings, their events, the nodes.
	`
CREATE TABLE recordings (
	id            text PRIMARY KEY,
	session       text NOT NULL DEFAULT '',
	name          text NOT NULL DEFAULT '',
	state         text NOT NULL DEFAULT '',
	mime_type     text NOT NULL DEFAULT '',
	size          bigint NOT NULL DEFAULT 0,
	duration      double precision NOT NULL DEFAULT 0,
	created       timestamptz NOT NULL,
	error_name    text,
	error_message text,
	recovered     boolean NOT NULL DEFAULT false,
	lost          double precision NOT NULL DEFAULT 0,
	keep          boolean NOT NULL DEFAULT false,
	file          text NOT NULL DEFAULT '',
	object_key    text NOT NULL DEFAULT '',
	upload_id     text NOT NULL DEFAULT '',
	finished      boolean NOT NULL DEFAULT false,
	finished_at   timestamptz,
	owner         text NOT NULL DEFAULT '',
	claimed       timestamptz NOT NULL DEFAULT statement_timestamp()
);
CREATE INDEX recordings_newest ON recordings (created DESC, id DESC);
CREATE INDEX recordings_unfinished ON recordings (owner) WHERE NOT finished;

CREATE TABLE recording_events (
	recording text NOT NULL,
	seq       bigint NOT NULL,
	name      text NOT NULL,
	data      text NOT NULL DEFAULT '',
	at        timestamptz NOT NULL,
	PRIMARY KEY (recording, seq)
);

CREATE TABLE nodes (
	id        text PRIMARY KEY,
	url       text NOT NULL DEFAULT '',
	capacity  integer NOT NULL DEFAULT 0,
	sessions  integer NOT NULL DEFAULT 0,
	heartbeat timestamptz NOT NULL
);

-- mediarecorder_publish stores one event with the next seq of its
-- recording and announces it on the events channel, in one round trip.
-- NOTIFY payloads must stay under 8000 bytes: a larger event is announced
-- without its name and data, and listeners read it from the table.
CREATE FUNCTION mediarecorder_publish(p_recording text, p_name text, p_data text,
	OUT o_seq bigint, OUT o_at timestamptz) LANGUAGE plpgsql AS $$
DECLARE
	payload text;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtextextended('mediarecorder.events:' || p_recording, 0));
	SELECT coalesce(max(e.seq), 0) + 1 INTO o_seq FROM recording_events e WHERE e.recording = p_recording;
	o_at := clock_timestamp();
	INSERT INTO recording_events (recording, seq, name, data, at) VALUES (p_recording, o_seq, p_name, p_data, o_at);
	payload := json_build_object('r', p_recording, 's', o_seq, 'n', p_name, 'd', p_data, 't', o_at)::text;
	IF octet_length(payload) > 7000 THEN
		payload := json_build_object('r', p_recording, 's', o_seq)::text;
	END IF;
	PERFORM pg_notify('` + eventsChannel + `', payload);
END
$$;
`,
	// 2: the deletion mark of retention (BeginDelete).
	`ALTER TABLE recordings ADD COLUMN deleting boolean NOT NULL DEFAULT false;`,
}

// migrate brings the schema up to date. It holds an advisory lock on one
// connection meanwhile, so nodes starting together migrate one after the
// other; each version is applied in its own transaction with its row in
// mediarecorder_schema, so a failed or interrupted migration leaves the
// previous version.
func migrate(ctx context.Context, pool *pgxpool.Pool) (err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLock); err != nil {
		conn.Conn().Close(context.Background()) // the lock, if taken, dies with the session
		return fmt.Errorf("catalog: migration lock: %w", err)
	}
	defer func() {
		if _, uerr := conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", migrateLock); uerr != nil {
			conn.Conn().Close(context.Background())
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS mediarecorder_schema (
		version integer PRIMARY KEY,
		applied timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("catalog: migrations table: %w", err)
	}
	var have int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM mediarecorder_schema").Scan(&have); err != nil {
		return fmt.Errorf("catalog: schema version: %w", err)
	}
	for v := have + 1; v <= len(migrations); v++ {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return fmt.Errorf("catalog: migration %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
			tx.Rollback(context.Background())
			return fmt.Errorf("catalog: migration %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO mediarecorder_schema (version) VALUES ($1)", v); err != nil {
			tx.Rollback(context.Background())
			return fmt.Errorf("catalog: migration %d: %w", v, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("catalog: migration %d: %w", v, err)
		}
	}
	return nil
}
