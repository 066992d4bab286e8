package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gomediarecorder/mediarecorder/server"
)

// serveCmd: serve [-addr 127.0.0.1:8080] [-dir ./recordings] [-token T] [-cors-origin O] [-autorecord]
func serveCmd(fs *flag.FlagSet, stdout, stderr io.Writer) func() error {
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	dir := fs.String("dir", "./recordings", "where recordings and their catalog are stored")
	token := fs.String("token", "", "require Authorization: Bearer TOKEN on WHIP and API requests")
	cors := fs.String("cors-origin", "*", "Access-Control-Allow-Origin for WHIP and the API")
	auto := fs.Bool("autorecord", false, "start a recording for every new WHIP session")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: mediarecorder serve [flags]\n\n"+
			"Runs the recording server: WHIP ingest, the MediaRecorder HTTP API, live events and a web page.\n\n")
		fs.PrintDefaults()
	}
	return func() error {
		if fs.NArg() != 0 {
			return usageError{"serve takes no arguments"}
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return serve(ctx, serveConfig{addr: *addr, dir: *dir, token: *token, cors: *cors, auto: *auto, stdout: stdout, stderr: stderr})
	}
}

type serveConfig struct {
	addr, dir, token, cors string
	auto                   bool
	stdout, stderr         io.Writer
}

// serve runs the server until ctx ends, then stops every recorder and
// finishes every file before returning.
func serve(ctx context.Context, c serveConfig) error {
	log := slog.New(slog.NewTextHandler(c.stderr, nil))
	srv, err := server.New(server.Config{Dir: c.dir, Token: c.token, CORSOrigin: c.cors, AutoRecord: c.auto, Logger: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(c.stdout, "mediarecorder: serving http://%s/ (recordings in %s)\n", ln.Addr(), c.dir)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down: finishing recordings")
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	serr := srv.Shutdown(sctx)
	_ = hs.Shutdown(sctx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, serr)
}
