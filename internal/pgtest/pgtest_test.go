package pgtest_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestNewDB checks that two tests' databases are distinct, empty and
// usable, on a real server.
func TestNewDB(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := pgtest.NewDB(t), pgtest.NewDB(t)
	if a == b {
		t.Fatalf("two NewDB calls gave the same DSN %s", a)
	}
	for _, dsn := range []string{a, b} {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		var db, version string
		var n int
		if err := conn.QueryRow(ctx, "SELECT current_database(), current_setting('server_version'), (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')").Scan(&db, &version, &n); err != nil {
			t.Fatal(err)
		}
		var fsync string
		if err := conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: PostgreSQL %s, %d tables, fsync=%s", db, version, n, fsync)
		if n != 0 || fsync != "off" {
			t.Errorf("%s: %d tables, fsync=%s; want an empty database with fsync off", db, n, fsync)
		}
		conn.Close(ctx)
	}
}

// TestStart checks a server of the test's own, stopped at its end.
func TestStart(t *testing.T) {
	s := pgtest.Start(t)
	conn, err := pgx.Connect(context.Background(), s.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var one int
	if err := conn.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
}

// TestReapStale: a server whose test process died without stopping it
// is stopped and removed by the next StartServer.
func TestReapStale(t *testing.T) {
	pgtest.Require(t)
	orphan, err := pgtest.StartServer()
	if err != nil {
		t.Fatal(err)
	}
	defer orphan.Stop()
	// Make it look like the server of a process that has exited.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(orphan.Dir(), "owner"), []byte(strconv.Itoa(dead.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	s := pgtest.Start(t)
	if _, err := os.Stat(orphan.Dir()); !os.IsNotExist(err) {
		t.Errorf("the stale server's directory is still there: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if conn, err := pgx.Connect(ctx, orphan.DSN("postgres")); err == nil {
		conn.Close(ctx)
		t.Error("the stale server still answers")
	}
	if _, err := os.Stat(s.Dir()); err != nil {
		t.Errorf("the new server's directory: %v", err)
	}
}
