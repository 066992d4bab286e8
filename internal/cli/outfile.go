package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// outFile is where a command writes OUT. A regular file (or a name that
// does not exist yet) is written to a temporary file next to it that is
// renamed over it once complete. Anything else that can be written — "-"
// (standard output), a character or block device, a FIFO — is written in
// place, front to back, as a stream: never replaced. A directory, a socket
// and the like are refused.
type outFile struct {
	name   string    // OUT as given, for messages
	target string    // the path the temporary file is renamed to
	tmp    *os.File  // regular: the temporary file
	stream io.Writer // otherwise: where the bytes go
	closer io.Closer // the stream's file, when we opened it
	n      int64     // bytes written to the stream
}

// openOut opens OUT. "-" is stdout. Opening a FIFO waits for a reader;
// ctx cancels that wait.
func openOut(ctx context.Context, out string, stdout io.Writer) (*outFile, error) {
	if out == "-" {
		return &outFile{name: "standard output", stream: stdout}, nil
	}
	o := &outFile{name: out, target: out}
	st, err := os.Stat(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("%s: %w", out, unwrapPath(err))
	case st.Mode().IsRegular():
		// A symbolic link to a file stays a link: its target is replaced.
		if real, err := filepath.EvalSymlinks(out); err == nil {
			o.target = real
		}
	case st.IsDir():
		return nil, fmt.Errorf("%s: is a directory", out)
	case st.Mode()&(fs.ModeNamedPipe|fs.ModeDevice|fs.ModeCharDevice) != 0:
		f, err := openStream(ctx, out)
		if err != nil {
			return nil, err
		}
		o.stream, o.closer = f, f
		return o, nil
	default:
		return nil, fmt.Errorf("%s: cannot write into a %s", out, kindOf(st.Mode()))
	}
	tmp, err := createTemp(o.target)
	if err != nil {
		return nil, err
	}
	o.tmp = tmp
	return o, nil
}

// kindOf names a file type for messages.
func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeIrregular != 0:
		return "irregular file"
	}
	return "file of mode " + m.Type().String()
}

// openStream opens a device or FIFO for writing, without truncating or
// replacing it. A FIFO's open waits for a reader: in a goroutine, so that
// ctx (SIGINT) ends the wait.
func openStream(ctx context.Context, path string) (*os.File, error) {
	type result struct {
		f   *os.File
		err error
	}
	ch := make(chan result, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		ch <- result{f, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("%s: %w", path, unwrapPath(r.err))
		}
		return r.f, nil
	case <-ctx.Done():
		go func() { // the open may still succeed: close what it opens
			if r := <-ch; r.f != nil {
				r.f.Close()
			}
		}()
		return nil, fmt.Errorf("%s: no reader came: %w", path, ctx.Err())
	}
}

// unwrapPath drops the *fs.PathError's own path: messages name OUT once.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// Write writes to the stream (not to the temporary file, which its user
// writes through tmp).
func (o *outFile) Write(p []byte) (int, error) {
	n, err := o.stream.Write(p)
	o.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("%s: %w", o.name, unwrapPath(err))
	}
	return n, nil
}

// isStream reports whether OUT is written in place as a stream.
func (o *outFile) isStream() bool { return o.tmp == nil }

// commit finishes OUT: a temporary file is renamed over the target
// (made durable first when durable is set); a stream is closed.
func (o *outFile) commit(durable bool) error {
	if o.tmp != nil {
		return commit(o.tmp, o.target, durable)
	}
	if o.closer != nil {
		if err := o.closer.Close(); err != nil {
			return fmt.Errorf("%s: %w", o.name, unwrapPath(err))
		}
	}
	return nil
}

// discard drops a failed OUT: the temporary file is removed (OUT is left
// as it was); a stream is closed, having had what was written.
func (o *outFile) discard() {
	if o.tmp != nil {
		discard(o.tmp)
		return
	}
	if o.closer != nil {
		o.closer.Close()
	}
}

// empty reports whether nothing was written to OUT.
func (o *outFile) empty() (bool, error) {
	if o.tmp == nil {
		return o.n == 0, nil
	}
	st, err := o.tmp.Stat()
	if err != nil {
		return false, fmt.Errorf("%s: %w", o.name, unwrapPath(err))
	}
	return st.Size() == 0, nil
}
