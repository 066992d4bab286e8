package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gomediarecorder/mediarecorder/server"
)

// serveCmd: serve [-addr 127.0.0.1:8080] [-dir ./recordings] [-token T] [-cors-origin O] [-autorecord] [limits]
func serveCmd(fs *flag.FlagSet, stdout, stderr io.Writer) func() error {
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	dir := fs.String("dir", "./recordings", "where recordings and their catalog are stored")
	token := fs.String("token", "", "require Authorization: Bearer TOKEN on WHIP and API requests")
	cors := fs.String("cors-origin", "*", "Access-Control-Allow-Origin for WHIP and the API")
	auto := fs.Bool("autorecord", false, "start a recording for every new WHIP session")
	lim := limitFlags(fs)
	dep := deployFlags(fs) // deploy.go
	cl := clusterFlags(fs)
	ret := retainFlags(fs) // retain.go
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: mediarecorder serve [flags]\n\n"+
			"Runs the recording server: WHIP ingest, the MediaRecorder HTTP API, live events and a web page.\n"+
			"Limits and timeouts of 0 mean none. Every setting may also come from its environment variable\n"+
			"or from the -config file; a flag wins over the environment, which wins over the file.\n\n")
		printSettings(fs) // config.go
	}
	return func() error {
		if fs.NArg() != 0 {
			return usageError{"serve takes no arguments"}
		}
		if _, err := layerSettings(fs, os.LookupEnv); err != nil { // config.go
			return err
		}
		dc, err := dep()
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return serve(ctx, serveConfig{addr: *addr, dir: *dir, token: *token, cors: *cors, auto: *auto, limits: lim(), deploy: dc, cluster: cl(), retain: ret(), stdout: stdout, stderr: stderr})
	}
}

// limitFlags defines the flags of the server's limits and timeouts; the
// function it returns gives them as a server.Config (0 on the command
// line, no limit, is a negative value there).
func limitFlags(fs *flag.FlagSet) func() server.Config {
	capacity := fs.Int("capacity", server.DefaultCapacity, "the most WHIP sessions at once (503 with Retry-After beyond)")
	perIP := fs.Int("sessions-per-ip", server.DefaultSessionsPerAddr, "the most WHIP sessions at once from one client IP address")
	conns := fs.Int("conns-per-ip", server.DefaultConnsPerAddr, "the most HTTP connections at once from one client IP address")
	cands := fs.Int("max-candidates", server.DefaultMaxCandidates, "the most ICE candidates in an offer (400 beyond)")
	connect := fs.Duration("connect-timeout", server.DefaultConnectTimeout, "end a WHIP session that has not connected this long after its answer")
	header := fs.Duration("header-timeout", server.DefaultHeaderTimeout, "the most time a client may take to send a request header")
	body := fs.Duration("body-timeout", server.DefaultBodyTimeout, "the most time a client may take to send a request body (408 beyond)")
	idle := fs.Duration("idle-timeout", server.DefaultIdleTimeout, "close a keep-alive connection idle this long")
	write := fs.Duration("write-timeout", server.DefaultWriteTimeout, "the most time one write of a response may take (renewed at each write: event streams and downloads go on while the client reads)")
	n := func(v int) int {
		if v <= 0 {
			return -1
		}
		return v
	}
	d := func(v time.Duration) time.Duration {
		if v <= 0 {
			return -1
		}
		return v
	}
	return func() server.Config {
		return server.Config{
			Capacity: n(*capacity), SessionsPerAddr: n(*perIP), ConnsPerAddr: n(*conns), MaxCandidates: n(*cands),
			ConnectTimeout: d(*connect), HeaderTimeout: d(*header), BodyTimeout: d(*body), IdleTimeout: d(*idle), WriteTimeout: d(*write),
		}
	}
}

// clusterFlags defines the flags of the store, the catalog and the
// node's place in a cluster; the function it returns gives them as a
// server.Config.
func clusterFlags(fs *flag.FlagSet) func() server.Config {
	store := fs.String("store", "", "where recordings are kept: a directory (default: -dir) or s3://BUCKET/PREFIX (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3 from the environment; -dir is then the spool)")
	cat := fs.String("catalog", "", "the recordings' catalog: a bbolt file (default: DIR/catalog.db) or postgres://… shared by the nodes of a cluster")
	adv := fs.String("advertise", "", "the URL other nodes and WHIP clients reach this node at (default: http:// and the listening address)")
	node := fs.String("node-id", "", "this node's name in the catalog (default: derived from -advertise)")
	flush := fs.Duration("flush-interval", 0, "with -store s3://: also store the bytes not yet in a part this often, the most a node lost with its disk loses (default: 1s with a postgres catalog, off otherwise)")
	return func() server.Config {
		return server.Config{Store: *store, Catalog: *cat, Advertise: *adv, NodeID: *node, FlushInterval: *flush}
	}
}

// advertiseOf is the default advertise URL of a node listening on addr.
func advertiseOf(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

type serveConfig struct {
	addr, dir, token, cors string
	auto                   bool
	limits                 server.Config // its limit and timeout fields only
	deploy                 deployConfig
	cluster                server.Config // its store, catalog and node fields only
	retain                 server.Config // its retention fields only
	stdout, stderr         io.Writer
}

// serve runs the server until ctx ends, then stops every recorder and
// finishes every file before returning.
func serve(ctx context.Context, c serveConfig) error {
	log := newLogger(c.stderr, c.deploy)
	cfg := c.limits
	c.deploy.apply(&cfg)
	cfg.Dir, cfg.Token, cfg.CORSOrigin, cfg.AutoRecord, cfg.Logger = c.dir, c.token, c.cors, c.auto, log
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	cfg.Store, cfg.Catalog, cfg.Advertise, cfg.NodeID, cfg.FlushInterval = c.cluster.Store, c.cluster.Catalog, c.cluster.Advertise, c.cluster.NodeID, c.cluster.FlushInterval
	if cfg.Advertise == "" {
		cfg.Advertise = advertiseOf(ln.Addr())
	}
	cfg.RetainFor, cfg.RetainSize = c.retain.RetainFor, c.retain.RetainSize
	srv, err := server.New(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	hs := srv.HTTPServer()
	scheme := "http"
	if hs.TLSConfig != nil {
		scheme = "https"
	}
	fmt.Fprintf(c.stdout, "mediarecorder: serving %s://%s%s/ (recordings in %s)\n", scheme, ln.Addr(), strings.TrimRight(cfg.BasePath, "/"), c.dir)
	errc := make(chan error, 1)
	go func() {
		if hs.TLSConfig != nil {
			errc <- hs.ServeTLS(srv.Listener(ln), "", "")
			return
		}
		errc <- hs.Serve(srv.Listener(ln))
	}()
	var drained time.Duration
	select {
	case err = <-errc:
	case <-ctx.Done():
		drained = drain(srv, c.deploy, log)
	}
	sctx, cancel := context.WithTimeout(context.Background(), finishBound)
	defer cancel()
	serr := srv.Shutdown(sctx)
	log.Info("shut down", "drained", drained.Round(time.Millisecond).String())
	_ = hs.Shutdown(sctx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, serr)
}
