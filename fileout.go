package mediarecorder

import (
	"errors"
	"io"
	"time"
)

// File output tuning: the buffer in front of the file, how often buffered
// bytes reach the file, and how often they are made durable (fsync).
const (
	fileBufferSize = 1 << 20
	fileFlushEvery = time.Second
	fileSyncEvery  = 5 * time.Second
)

// syncer is implemented by *os.File.
type syncer interface{ Sync() error }

// output is where a recording's container bytes go: memory (blobs own
// them) or a file (blobs are views of it).
type output interface {
	io.WriteSeeker
	// pending returns the number of bytes written since the last take.
	pending() int64
	// take returns the bytes written since the last take as a Blob.
	take(typ string) (*Blob, error)
	// finish makes everything written durable.
	finish() error
}

// memFile as an output: blobs own the bytes.
func (m *memFile) pending() int64 { return int64(m.Len()) }

func (m *memFile) take(typ string) (*Blob, error) { return NewBlob(m.takeBytes(), typ), nil }

func (m *memFile) finish() error { return nil }

// fileOut writes a recording into a file through a buffer. Every Write it
// receives is one whole element (block, cluster header) or page, and the
// buffer only ever reaches the file on those boundaries, so the file is a
// valid live stream whenever it is read, up to the last flush. Flushes
// happen at least every second of wall time and fsyncs every five seconds.
type fileOut struct {
	w       io.WriteSeeker
	ra      io.ReaderAt // for blob contents; nil if w cannot read
	base    int64       // file offset of the recording's first byte
	buf     []byte      // bytes at file offsets [bufOff, bufOff+len(buf))
	bufOff  int64
	pos     int64 // logical position (absolute)
	end     int64 // logical size (absolute)
	filePos int64 // where w's own offset is
	taken   int64 // blobs cover [base, taken)
	flushed time.Time
	synced  time.Time
	err     error
}

func newFileOut(w io.WriteSeeker) (*fileOut, error) {
	off, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	f := &fileOut{w: w, base: off, bufOff: off, pos: off, end: off, filePos: off, taken: off,
		buf: make([]byte, 0, fileBufferSize), flushed: time.Now(), synced: time.Now()}
	f.ra, _ = w.(io.ReaderAt)
	return f, nil
}

// AvailableBuffer returns the buffer's free space, empty, for a caller to
// build its next Write in (like bufio.Writer.AvailableBuffer); such a Write
// costs no copy. It is valid until the next Write or Seek.
func (f *fileOut) AvailableBuffer() []byte {
	if f.err != nil || f.pos != f.bufOff+int64(len(f.buf)) {
		return nil
	}
	return f.buf[len(f.buf):len(f.buf)]
}

// Write implements io.Writer.
func (f *fileOut) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	bufEnd := f.bufOff + int64(len(f.buf))
	switch {
	case f.pos == bufEnd && len(p) > 0 && len(f.buf) < cap(f.buf) && &p[0] == &f.buf[:len(f.buf)+1][len(f.buf)] && len(f.buf)+len(p) <= cap(f.buf):
		f.buf = f.buf[:len(f.buf)+len(p)] // built in AvailableBuffer: already in place
	case f.pos == bufEnd && len(f.buf)+len(p) <= cap(f.buf):
		f.buf = append(f.buf, p...)
	case f.pos >= f.bufOff && f.pos+int64(len(p)) <= bufEnd:
		copy(f.buf[f.pos-f.bufOff:], p) // a patch inside the buffer
	default:
		if err := f.flush(); err != nil {
			return 0, err
		}
		if f.pos == f.end && len(p) < cap(f.buf) {
			f.bufOff = f.pos
			f.buf = append(f.buf[:0], p...)
		} else if err := f.writeAt(p, f.pos); err != nil {
			return 0, err
		}
	}
	f.pos += int64(len(p))
	f.end = max(f.end, f.pos)
	if time.Since(f.flushed) >= fileFlushEvery {
		if err := f.flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// writeAt writes p at absolute offset off straight to the file.
func (f *fileOut) writeAt(p []byte, off int64) error {
	if f.filePos != off {
		if _, err := f.w.Seek(off, io.SeekStart); err != nil {
			f.err = err
			return err
		}
		f.filePos = off
	}
	n, err := f.w.Write(p)
	f.filePos += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		f.err = err
	}
	return err
}

// flush writes the buffer to the file, and fsyncs when it is time.
func (f *fileOut) flush() error {
	if f.err != nil {
		return f.err
	}
	f.flushed = time.Now()
	if len(f.buf) > 0 {
		if err := f.writeAt(f.buf, f.bufOff); err != nil {
			return err
		}
		startWriteback(f.w, f.bufOff, int64(len(f.buf)))
		f.bufOff += int64(len(f.buf))
		f.buf = f.buf[:0]
	}
	f.bufOff = f.end
	if time.Since(f.synced) >= fileSyncEvery {
		return f.sync()
	}
	return nil
}

func (f *fileOut) sync() error {
	f.synced = time.Now()
	if s, ok := f.w.(syncer); ok {
		if err := s.Sync(); err != nil {
			f.err = err
			return err
		}
	}
	return nil
}

// Seek implements io.Seeker on the logical file.
func (f *fileOut) Seek(offset int64, whence int) (int64, error) {
	abs, err := seekTarget(offset, whence, f.pos, f.end)
	if err != nil {
		return 0, err
	}
	if abs < 0 {
		return 0, errors.New("mediarecorder: negative seek")
	}
	f.pos = abs
	return abs, nil
}

func (f *fileOut) pending() int64 { return f.end - f.taken }

// take flushes and returns a Blob that views the file's bytes written
// since the last take. A blob read after the recording ends shows the
// finished bytes (sizes and Duration patched in).
func (f *fileOut) take(typ string) (*Blob, error) {
	err := f.flush()
	b := &Blob{typ: typ, ra: f.ra, off: f.taken, size: f.end - f.taken}
	f.taken = f.end
	return b, err
}

func (f *fileOut) finish() error {
	if err := f.flush(); err != nil {
		return err
	}
	if _, err := f.w.Seek(f.end, io.SeekStart); err != nil {
		return err
	}
	f.filePos = f.end
	return f.sync()
}
