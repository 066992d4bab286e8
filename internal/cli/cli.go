// Package cli is the mediarecorder command: subcommands record, probe and
// fix. It only wires the library's packages together.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

const usage = `usage: mediarecorder <command> [flags] [args]

commands:
  record -o OUT [-mime TYPE] [-timeslice D] [-duration D] [-realtime] INPUT...
         record the tracks of the inputs through a MediaRecorder into OUT
  probe FILE
         print what a media file holds, as JSON
  fix IN OUT
         turn a browser's MediaRecorder WebM into a finished, seekable file
  serve [-addr 127.0.0.1:8080] [-dir ./recordings] [-token T] [-cors-origin O] [-autorecord]
         run the recording server: WHIP ingest, the MediaRecorder HTTP API, a web page

Run "mediarecorder <command> -h" for a command's flags.
`

// Main runs the command line args and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "record":
		return run(cmd, rest, stderr, func(fs *flag.FlagSet) func() error { return recordCmd(fs, stdout, stderr) })
	case "probe":
		return run(cmd, rest, stderr, func(fs *flag.FlagSet) func() error { return probeCmd(fs, stdout) })
	case "fix":
		return run(cmd, rest, stderr, func(fs *flag.FlagSet) func() error { return fixCmd(fs, stderr) })
	case "serve":
		return run(cmd, rest, stderr, func(fs *flag.FlagSet) func() error { return serveCmd(fs, stdout, stderr) })
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "mediarecorder: unknown command %q\n\n%s", cmd, usage)
	return exitUsage
}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// run parses a subcommand's flags (set up by setup, which returns the
// command's body) and runs it.
func run(name string, args []string, stderr io.Writer, setup func(*flag.FlagSet) func() error) int {
	fs := flag.NewFlagSet("mediarecorder "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	body := setup(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	err := body()
	var ue usageError
	var se settingError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &se): // an invalid setting: one line (config.go)
		fmt.Fprintf(stderr, "mediarecorder %s: %s\n", name, oneLine(se.msg))
		return exitUsage
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "mediarecorder %s: %s\n", name, ue.msg)
		fs.Usage()
		return exitUsage
	default:
		fmt.Fprintf(stderr, "mediarecorder %s: %s\n", name, oneLine(err.Error()))
		return exitFail
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// createTemp creates the temporary file that becomes out once complete, in
// out's directory (so the final rename is atomic).
func createTemp(out string) (*os.File, error) {
	dir := filepath.Dir(out)
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: directory %s: %w", out, dir, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: %s is not a directory", out, dir)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(out)+".*.part")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", out, err)
	}
	return f, nil
}

// commit renames tmp to out, after making it durable (fsync) when durable
// is set; on failure it removes tmp. Either way out, once it exists, is
// complete: the rename is atomic.
func commit(tmp *os.File, out string, durable bool) error {
	err := tmp.Chmod(0o644) // CreateTemp made it private
	if err == nil && durable {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), out)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("%s: %w", out, err)
	}
	return nil
}

// unsynced is a file seen as a plain io.WriteSeeker and io.ReaderAt: a
// recorder writing into it neither fsyncs nor starts writeback, leaving
// durability to the kernel, as cp, ffmpeg and mkvmerge do.
type unsynced struct{ f *os.File }

func (u unsynced) Write(p []byte) (int, error)               { return u.f.Write(p) }
func (u unsynced) Seek(off int64, whence int) (int64, error) { return u.f.Seek(off, whence) }
func (u unsynced) ReadAt(p []byte, off int64) (int, error)   { return u.f.ReadAt(p, off) }
func (u unsynced) WriteAt(p []byte, off int64) (int, error)  { return u.f.WriteAt(p, off) }

// discard closes and removes tmp.
func discard(tmp *os.File) {
	tmp.Close()
	os.Remove(tmp.Name())
}
