// Package cli is the mediarecorder command: subcommands record, probe and
// fix. It only wires the library's packages together.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

const usage = `usage: mediarecorder <command> [flags] [args]

commands:
  record -o OUT [-mime TYPE] [-timeslice D] [-duration D] [-realtime]
         [-audio-bitrate R] [-video-bitrate R] INPUT...
         record the tracks of the inputs through a MediaRecorder into OUT
         (.webm, .mkv, .ogg/.opus, .mp4/.m4a; - for standard output)
  probe FILE...
         print what media files hold, as JSON
  fix IN OUT
         turn a browser's MediaRecorder WebM into a finished, seekable file
  serve [-addr 127.0.0.1:8080] [-dir ./recordings] [-token T] [-cors-origin O] [-autorecord]
         run the recording server: WHIP ingest, the MediaRecorder HTTP API, a web page

Run "mediarecorder <command> -h" for a command's flags.
Exit status: 0 success, 1 failure (one line on stderr naming the file), 2 bad usage.
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
		return run(cmd, rest, stderr, func(fs *flag.FlagSet) func() error { return probeCmd(fs, stdout, stderr) })
	case "fix":
		return run(cmd, rest, stderr, func(fs *flag.FlagSet) func() error { return fixCmd(fs, stdout, stderr) })
	case "serve":
		return run(cmd, rest, stderr, func(fs *flag.FlagSet) func() error { return serveCmd(fs, stdout, stderr) })
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "mediarecorder: unknown command %q%s\n\n%s", cmd, didYouMean(cmd, commands, "%q"), usage)
	return exitUsage
}

// commands are the subcommands, for "did you mean".
var commands = []string{"record", "probe", "fix", "serve", "help"}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// run parses a subcommand's flags (set up by setup, which returns the
// command's body) and runs it.
func run(name string, args []string, stderr io.Writer, setup func(*flag.FlagSet) func() error) int {
	fs := flag.NewFlagSet("mediarecorder "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	body := setup(fs)
	if err := parseInterspersed(fs, args); err != nil {
		fs.SetOutput(stderr)
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return exitOK
		}
		fmt.Fprintf(stderr, "mediarecorder %s: %s\n%s", name, err, helpHint(name))
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
		fmt.Fprintf(stderr, "mediarecorder %s: %s\n%s", name, ue.msg, helpHint(name))
		return exitUsage
	default:
		fmt.Fprintf(stderr, "mediarecorder %s: %s\n", name, oneLine(err.Error()))
		return exitFail
	}
}

// helpHint points from a usage error to the command's help.
func helpHint(name string) string {
	return fmt.Sprintf("Run \"mediarecorder %s -h\" for its usage.\n", name)
}

// parseInterspersed parses flags that come before, between and after the
// arguments (record -o x.webm in.ivf -realtime), as ffmpeg users expect;
// "--" ends the flags, and "-" is an argument (standard output). It leaves
// the arguments in fs.Args(). An unknown flag's error suggests the closest
// known one. The flag package's own messages are silenced: the caller
// prints the error, then the usage.
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	defer fs.SetOutput(out)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			const undefined = "flag provided but not defined: -"
			if name, ok := strings.CutPrefix(err.Error(), undefined); ok {
				var names []string
				fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
				return fmt.Errorf("unknown flag -%s%s", name, didYouMean(name, names, "-%s"))
			}
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		// fs.Parse stops at the first argument, or after "--".
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}

// didYouMean returns " (did you mean X?)", X being the candidate closest
// to s formatted with format, when one is close enough to be a typo (or
// starts with s); "" otherwise.
func didYouMean(s string, candidates []string, format string) string {
	best, bestD := "", 0
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), c)
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || s == "" || bestD > max(1, min(3, len(best)/3)) && !strings.HasPrefix(best, s) {
		return ""
	}
	return " (did you mean " + fmt.Sprintf(format, best) + "?)"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// signalContext is cancelled by SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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
