// Package pgtest runs a real, throw-away PostgreSQL server for tests.
//
// A Server is initdb'd into a fresh temporary directory and started with
// pg_ctl, listening only on a Unix socket inside that directory (no TCP
// port to collide with), with fsync off, trust authentication and the
// superuser "postgres". When the tests run as root the server runs as the
// "postgres" user through runuser, since PostgreSQL refuses to run as
// root.
//
// Two ways to use it:
//
//   - One server per test package, one fresh database per test (fast):
//
//     func TestMain(m *testing.M) { pgtest.Main(m) }
//
//     func TestX(t *testing.T) {
//     dsn := pgtest.NewDB(t) // postgres://… of an empty database
//     …
//     }
//
//     NewDB starts the package's server on first use; Main stops it when
//     the tests end. Without Main, NewDB starts a server per test instead
//     (slower, but correct).
//
//   - A server of its own: s := pgtest.Start(t), stopped by t.Cleanup.
//     s.NewDB(t) and s.DSN("postgres") give DSNs.
//
// In -short mode the tests that need PostgreSQL are skipped. When the
// PostgreSQL binaries are missing they are skipped too, except under
// CI=true, where that is a failure (scripts/setup-postgres.sh installs
// them). PGTEST_BIN names the directory of initdb and pg_ctl when they are
// not in the usual places.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoPostgres is returned by StartServer when no PostgreSQL binaries
// are found.
var ErrNoPostgres = errors.New("pgtest: PostgreSQL (initdb, pg_ctl) not found; install the postgresql package or set PGTEST_BIN")

// Server is one running PostgreSQL server.
type Server struct {
	dir    string // temporary directory: data/, the socket, the log
	bin    string // directory of initdb, pg_ctl
	asUser string // run the binaries as this user ("" = as ourselves)
	port   int

	mu      sync.Mutex
	stopped bool
	dbs     atomic.Int64
}

// findBin returns the directory holding initdb and pg_ctl.
func findBin() (string, error) {
	if d := os.Getenv("PGTEST_BIN"); d != "" {
		if isExec(filepath.Join(d, "pg_ctl")) && isExec(filepath.Join(d, "initdb")) {
			return d, nil
		}
		return "", fmt.Errorf("%w (PGTEST_BIN=%s has no pg_ctl and initdb)", ErrNoPostgres, d)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "pg_ctl")) && isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		d := filepath.Dir(p)
		if isExec(filepath.Join(d, "initdb")) {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// StartServer initdb's and starts a new server. Stop it with Stop.
func StartServer() (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, port: 5432}
	// A short base directory: a Unix socket path must fit in 107 bytes.
	base := os.TempDir()
	if len(base) > 60 {
		base = "/tmp"
	}
	reapStale(base)
	s.dir, err = os.MkdirTemp(base, "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "owner"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(s.dir)
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(s.dir)
			return nil, fmt.Errorf("pgtest: running as root needs the postgres user (install the postgresql package): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(s.dir, uid, gid); err != nil {
			os.RemoveAll(s.dir)
			return nil, fmt.Errorf("pgtest: %w", err)
		}
		s.asUser = "postgres"
	}
	data := filepath.Join(s.dir, "data")
	if out, err := s.run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C"); err != nil {
		os.RemoveAll(s.dir)
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	opts := strings.Join([]string{
		"-c listen_addresses=''",
		"-c unix_socket_directories=" + s.dir,
		"-c port=" + strconv.Itoa(s.port),
		"-c fsync=off",
		"-c synchronous_commit=off",
		"-c full_page_writes=off",
		"-c max_connections=200",
	}, " ")
	if out, err := s.run("pg_ctl", "-D", data, "-l", filepath.Join(s.dir, "log"), "-o", opts, "-w", "-t", "120", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		os.RemoveAll(s.dir)
		return nil, fmt.Errorf("pgtest: pg_ctl start: %w\n%s\n%s", err, out, log)
	}
	return s, nil
}

// reapStale stops and removes the servers that test processes which died
// without stopping them (a -timeout panic, a kill) left in base.
func reapStale(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, "pgtest-*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner"))
		if err != nil {
			continue // not ours, or still being made
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue // its owner runs
		}
		bin, err := findBin()
		if err != nil {
			return
		}
		old := &Server{dir: dir, bin: bin}
		if fi, err := os.Stat(filepath.Join(dir, "data")); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 && st.Uid != 0 {
				if u, err := user.LookupId(strconv.Itoa(int(st.Uid))); err == nil {
					old.asUser = u.Username
				}
			}
			_ = old.Stop()
		} else {
			os.RemoveAll(dir)
		}
	}
}

// run runs a PostgreSQL binary, as the postgres user when we are root.
func (s *Server) run(name string, args ...string) ([]byte, error) {
	prog := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.asUser, "--", prog}, args...)...)
	} else {
		cmd = exec.Command(prog, args...)
	}
	cmd.Dir = s.dir
	// pg_ctl's server must not die with our process group's signals
	// before Stop runs, and must not keep our stdout open.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd.CombinedOutput()
}

// Stop stops the server (fast shutdown) and removes its directory. It is
// safe to call more than once.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	out, err := s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "-t", "60", "stop")
	os.RemoveAll(s.dir)
	if err != nil {
		return fmt.Errorf("pgtest: pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

// Dir is the server's temporary directory, which also holds its Unix
// socket (the host of its DSNs).
func (s *Server) Dir() string { return s.dir }

// DSN returns the URL of database db as the superuser postgres.
func (s *Server) DSN(db string) string {
	q := url.Values{"host": {s.dir}, "port": {strconv.Itoa(s.port)}, "sslmode": {"disable"}}
	return "postgres://postgres@/" + url.PathEscape(db) + "?" + q.Encode()
}

// CreateDB creates a new, empty database and returns its DSN.
func (s *Server) CreateDB(ctx context.Context) (string, error) {
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), s.dbs.Add(1))
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	return s.DSN(name), nil
}

// NewDB creates a fresh database on s for t and returns its DSN.
func (s *Server) NewDB(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn, err := s.CreateDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// Start starts a server for t alone, stopped when t ends. It skips t in
// -short mode or when PostgreSQL is missing (a failure under CI=true).
func Start(t testing.TB) *Server {
	t.Helper()
	Require(t)
	s, err := StartServer()
	if err != nil {
		fail(t, err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// Require skips t in -short mode, or when the PostgreSQL binaries are
// missing (under CI=true that fails t instead).
func Require(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("pgtest: needs a PostgreSQL server; skipped in -short mode")
	}
	if _, err := findBin(); err != nil {
		fail(t, err)
	}
}

func fail(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" || !errors.Is(err, ErrNoPostgres) {
		t.Fatal(err)
	}
	t.Skip(err)
}

// The package's shared server, started by the first NewDB after Main.
var shared struct {
	mu   sync.Mutex
	main bool // Main runs the tests: it stops the server
	srv  *Server
	err  error
}

// Main runs the package's tests (m.Run) and then stops the server that
// NewDB started, if any. Call it from TestMain; it does not return.
func Main(m *testing.M) {
	shared.mu.Lock()
	shared.main = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
	}
	shared.mu.Unlock()
	os.Exit(code)
}

// NewDB returns the DSN of a fresh, empty database for t on the package's
// shared server (see Main), starting that server on first use. It skips
// like Require.
func NewDB(t testing.TB) string {
	t.Helper()
	Require(t)
	shared.mu.Lock()
	if !shared.main {
		shared.mu.Unlock()
		return Start(t).NewDB(t)
	}
	if shared.srv == nil && shared.err == nil {
		shared.srv, shared.err = StartServer()
	}
	srv, err := shared.srv, shared.err
	shared.mu.Unlock()
	if err != nil {
		fail(t, err)
	}
	return srv.NewDB(t)
}
