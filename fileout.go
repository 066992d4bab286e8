package mediarecorder

import (
	"errors"
	"io"
	"slices"
	"time"

	"github.com/gomediarecorder/mediarecorder/mp4"
)

// File output tuning: the buffer in front of the file, how often buffered
// bytes reach the file, and how often they are made durable (fsync).
const (
	fileBufferSize = 512 << 10 // the largest the buffer grows
	fileBufferMin  = 64 << 10
	fileAlign      = 64 << 10  // where a remux's writes end (see writeBehind)
	fileRemuxRate  = 100 << 20 // bytes a second: no live recording comes near
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
// (A remux, filling buffers at over 100 MB/s, is the exception: see
// writeBehind.)
//
// The buffer starts small (64 KiB) and doubles, up to fileBufferSize, each
// time it fills within a quarter second, so a live recording keeps a small
// buffer and a fast one writes in large chunks. When such a fast buffer is
// flushed into a file that has WriteAt (an *os.File), the write runs on
// its own goroutine while the next buffer fills (at most one write in
// flight); every other access to the file waits for it first.
type fileOut struct {
	w       io.WriteSeeker
	ra      io.ReaderAt // for blob contents; nil if w cannot read
	wa      io.WriterAt // for writes behind; nil if w has no WriteAt
	base    int64       // file offset of the recording's first byte
	buf     []byte      // bytes at file offsets [bufOff, bufOff+len(buf))
	ends    []int       // offsets in buf where the file may be cut
	marked  bool        // the muxer says where (Boundary); else after each Write
	spare   []byte      // the other buffer, while not in flight
	spareE  []int
	bufOff  int64
	pos     int64 // logical position (absolute)
	end     int64 // logical size (absolute)
	filePos int64 // where w's own offset is
	written int64 // end of the bytes that reached the file
	safe    int64 // the last place in the file where it may be cut
	cutAt   int64 // a Boundary at an emptied buffer: safe once written
	fast    bool  // the last full buffer filled within a quarter second
	taken   int64 // blobs cover [base, taken)
	flushed time.Time
	synced  time.Time
	err     error

	inFlight bool
	done     chan writeBehind // the write in flight reports here
	patches  []patch          // to write once the write in flight is done
}

// patch is bytes to write at an offset once the file holds everything up
// to need: a Cluster's size goes in only after the Cluster's bytes, so a
// file cut short (a full disk) never claims bytes it lacks.
type patch struct {
	off, need int64
	b         []byte
}

// writeBehind is a buffer written on its own goroutine, and how it went.
type writeBehind struct {
	buf  []byte
	ends []int
	off  int64
	n    int // bytes written
	err  error
}

func newFileOut(w io.WriteSeeker) (*fileOut, error) {
	off, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	f := &fileOut{w: w, base: off, bufOff: off, pos: off, end: off, filePos: off, taken: off, written: off, safe: off,
		buf: make([]byte, 0, fileBufferMin), flushed: time.Now(), synced: time.Now()}
	f.ra, _ = w.(io.ReaderAt)
	f.wa, _ = w.(io.WriterAt)
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
		f.endWrite()
	case f.pos == bufEnd && len(f.buf)+len(p) <= cap(f.buf):
		f.buf = append(f.buf, p...)
		f.endWrite()
	case f.pos >= f.bufOff && f.pos+int64(len(p)) <= bufEnd:
		copy(f.buf[f.pos-f.bufOff:], p) // a patch inside the buffer
	case f.fast && f.wa != nil && f.pos+int64(len(p)) <= f.bufOff:
		// A fast recording's patch of bytes before the buffer (a
		// Cluster's size, once the Cluster is whole): written in place
		// once the bytes written up to now are in the file; the buffer
		// stays. (A live recording flushes instead, below: each whole
		// Cluster reaches the file as it closes.)
		f.patches = append(f.patches, patch{off: f.pos, need: f.end, b: slices.Clone(p)})
	default:
		full := f.pos == bufEnd && len(f.buf) > 0
		if err := f.flushFull(full); err != nil {
			return 0, err
		}
		// A write behind leaves the buffer's tail (see writeBehind): p
		// follows it, or the tail is written now.
		if len(f.buf) > 0 && (f.pos != f.bufOff+int64(len(f.buf)) || len(f.buf)+len(p) > cap(f.buf)) {
			if err := f.flushFull(false); err != nil {
				return 0, err
			}
		}
		switch {
		case len(f.buf) > 0:
			f.buf = append(f.buf, p...)
			f.endWrite()
		case f.pos == f.end && len(p) < cap(f.buf):
			f.bufOff = f.pos
			f.buf = append(f.buf[:0], p...)
			f.ends = f.ends[:0]
			f.endWrite()
		default:
			var ends []int
			if !f.marked {
				ends = []int{len(p)} // a whole Write
			}
			if err := f.writeAt(p, f.pos, ends); err != nil {
				return 0, err
			}
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

// applyPatches writes, with WriteAt, the patches whose bytes before them
// are all in the file now.
func (f *fileOut) applyPatches() error {
	k := 0
	for _, pt := range f.patches {
		if f.err != nil {
			break
		}
		if pt.need > f.written {
			f.patches[k] = pt
			k++
			continue
		}
		n, err := f.wa.WriteAt(pt.b, pt.off)
		if err == nil && n < len(pt.b) {
			err = io.ErrShortWrite
		}
		if err != nil {
			f.failed(pt.off, n, nil, err)
		}
	}
	clear(f.patches[k:])
	f.patches = f.patches[:k]
	return f.err
}

// endWrite notes the end of a Write appended to the buffer as a place
// where the file may be cut, unless the muxer says where (Boundary).
func (f *fileOut) endWrite() {
	if !f.marked {
		f.ends = append(f.ends, len(f.buf))
	}
}

// Boundary implements webm.Boundaryer and mp4.Boundaryer: the file may be
// cut at the current end. From the first call on, only these are places
// to cut; without them, every whole Write is (an Ogg page).
func (f *fileOut) Boundary() {
	f.marked = true
	switch {
	case f.pos == f.bufOff+int64(len(f.buf)) && len(f.buf) > 0:
		f.ends = append(f.ends, len(f.buf))
	case len(f.buf) == 0 && f.pos == f.bufOff:
		// A flush has just emptied the buffer: everything before is
		// whole, and a place to cut once it is in the file (a write
		// behind may still be carrying it there).
		f.cutAt = max(f.cutAt, f.pos)
		f.noteWritten()
	}
}

// noteWritten makes the pending cut at an emptied buffer's start a safe
// place once the file holds every byte before it.
func (f *fileOut) noteWritten() {
	if f.cutAt <= f.written {
		f.safe = max(f.safe, f.cutAt)
	}
}

// unitMarker is implemented by a destination that keeps an index of the
// container's units (storage.S3Writer: a takeover builds the Cues from
// it): MarkUnit says a unit (a WebM Cluster, an MP4 traf) starts at file offset off,
// at time t in the container's units, beginning with a key frame of
// track key (0: no key frame of the track Cues point to).
type unitMarker interface {
	MarkUnit(off, t int64, key uint64)
}

// MarkCluster implements webm.ClusterMarker: the destination is told
// where each Cluster starts, if it keeps an index (unitMarker).
func (f *fileOut) MarkCluster(timestamp int64, cueTrack uint64) {
	if m, ok := f.w.(unitMarker); ok && f.err == nil {
		m.MarkUnit(f.pos, timestamp, cueTrack)
	}
}

// MarkFragment implements mp4.FragmentMarker: the destination is told
// where each traf of the fragment starts (mp4.FragmentMark.Key packs the
// rest), if it keeps an index (unitMarker).
func (f *fileOut) MarkFragment(trafs []mp4.FragmentMark) {
	if m, ok := f.w.(unitMarker); ok && f.err == nil {
		for _, t := range trafs {
			m.MarkUnit(f.pos+t.Offset, t.Time, t.Key())
		}
	}
}

// unitDone is called by a muxer whose units are large (an MP4 fragment,
// written whole when it is cut) after it wrote one: the buffer reaches the
// file now, so that a crash loses no more than the unit in the making. A
// fast recording (a remux, cutting many units a second) still flushes at
// most four times a second.
func (f *fileOut) unitDone() error {
	if f.err != nil || time.Since(f.flushed) < fileFlushEvery/4 {
		return f.err
	}
	return f.flush()
}

// writeAt writes p at absolute offset off straight to the file; ends are
// the ends of the elements in p, if more than one.
func (f *fileOut) writeAt(p []byte, off int64, ends []int) error {
	if err := f.wait(); err != nil {
		return err
	}
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
		f.failed(off, n, ends, err)
		return err
	}
	f.written = max(f.written, off+int64(n))
	f.noteCuts(off, n, ends)
	f.noteWritten()
	return nil
}

// noteCuts notes the places to cut among ends, of a write of n bytes at
// off.
func (f *fileOut) noteCuts(off int64, n int, ends []int) {
	for _, e := range ends {
		if e <= n {
			f.safe = max(f.safe, off+int64(e))
		}
	}
}

// failed records that a write at offset off failed after n bytes. A write
// that was to extend the file (a full disk, typically) may have left part
// of an element at its end, as may the write before it (a remux's): the
// file is cut back to the end of the last whole element written (ends
// lists the elements' ends in this write; safe, the last one before), so
// that it reads cleanly and keeps every element that made it.
func (f *fileOut) failed(off int64, n int, ends []int, err error) {
	if f.err == nil {
		f.err = err
	}
	if off < f.written {
		return // a patch of bytes already there
	}
	f.noteCuts(off, n, ends)
	if t, ok := f.w.(interface{ Truncate(int64) error }); ok {
		_ = t.Truncate(f.safe)
	}
	f.written = f.safe
}

// flush writes the buffer to the file, and fsyncs when it is time.
func (f *fileOut) flush() error { return f.flushFull(false) }

// flushFull is flush; full says the buffer has filled up, so that, if it
// filled fast, it grows and its bytes may be written behind.
func (f *fileOut) flushFull(full bool) error {
	if f.err != nil {
		return f.err
	}
	// A buffer that fills within a quarter of the flush period belongs to
	// a fast recording (a file remux): it grows, is written behind, and
	// its patches wait (Write). A live one keeps its small buffer, writes
	// in place, and flushes as each Cluster closes.
	// One that fills at more than fileRemuxRate is no live stream at all:
	// it grows to the largest size at once, and its writes end on aligned
	// offsets (see writeBehind).
	var remux bool
	if full {
		took := time.Since(f.flushed)
		f.fast = took < fileFlushEvery/4
		remux = took < time.Duration(len(f.buf))*time.Second/fileRemuxRate
	}
	f.flushed = time.Now()
	if len(f.buf) > 0 {
		switch {
		case full && f.fast && f.wa != nil:
			size := min(2*cap(f.buf), fileBufferSize)
			if remux {
				size = fileBufferSize
			}
			if err := f.writeBehind(size, remux); err != nil {
				return err
			}
		default:
			// No early writeback here: a live recording's few bytes
			// wait for the periodic fsync, which writes them in one go.
			if err := f.writeAt(f.buf, f.bufOff, f.ends); err != nil {
				return err
			}
			f.bufOff += int64(len(f.buf))
			f.buf, f.ends = f.buf[:0], f.ends[:0]
			if err := f.applyPatches(); err != nil {
				return err
			}
		}
		if full && f.fast && f.wa == nil && cap(f.buf) < fileBufferSize {
			f.buf = make([]byte, 0, min(2*cap(f.buf), fileBufferSize))
		}
	}
	if len(f.buf) == 0 {
		f.bufOff = f.end
	}
	if time.Since(f.synced) >= fileSyncEvery {
		return f.sync()
	}
	return nil
}

// writeBehind hands the buffer to a goroutine that writes it, after the
// previous one is written, and goes on with the spare buffer, grown to
// size if that is larger.
//
// With align, the write ends at a multiple of fileAlign of the file: the
// bytes after that (part of an element) move to the start of the next
// buffer. Writes that start and end on aligned offsets cost the kernel far
// less than unaligned ones (whole large folios instead of a partial page
// at each end). So a remux's file may end inside an element between two
// writes; a live recording's never does.
func (f *fileOut) writeBehind(size int, align bool) error {
	if err := f.wait(); err != nil {
		return err
	}
	if f.done == nil {
		f.done = make(chan writeBehind, 1)
	}
	k := len(f.buf)
	if cut := int((f.bufOff+int64(k))/fileAlign*fileAlign - f.bufOff); align && cut >= k/2 {
		k = cut
	}
	buf, off, w, wa, done := f.buf[:k], f.bufOff, f.w, f.wa, f.done
	tail := f.buf[k:]
	ends := f.ends
	next := f.spareE[:0]
	for i, e := range ends {
		if e > k {
			for _, e := range ends[i:] {
				next = append(next, e-k)
			}
			ends = ends[:i]
			break
		}
	}
	f.inFlight = true
	f.bufOff += int64(k)
	if cap(f.spare) >= size {
		f.buf, f.spare = f.spare[:0], nil
	} else {
		f.buf, f.spare = make([]byte, 0, size), nil
	}
	f.buf = append(f.buf, tail...)
	f.ends, f.spareE = next, nil
	go func() {
		n, err := wa.WriteAt(buf, off)
		if err == nil {
			startWriteback(w, off, int64(len(buf)))
		}
		done <- writeBehind{buf: buf[:0], ends: ends, off: off, n: n, err: err}
	}()
	return nil
}

// wait waits for the write in flight, if any, then writes the patches
// that waited for it, and returns the first write error there has been.
func (f *fileOut) wait() error {
	if !f.inFlight {
		return f.err
	}
	r := <-f.done
	f.inFlight = false
	f.spare, f.spareE = r.buf, r.ends[:0]
	if r.err != nil {
		f.failed(r.off, r.n, r.ends, r.err)
	} else {
		f.written = max(f.written, r.off+int64(r.n))
		f.noteCuts(r.off, r.n, r.ends)
		f.noteWritten()
	}
	return f.applyPatches()
}

func (f *fileOut) sync() error {
	if err := f.wait(); err != nil {
		return err
	}
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
	if werr := f.wait(); err == nil {
		err = werr // the blob's bytes are all in the file
	}
	b := &Blob{typ: typ, ra: f.ra, off: f.taken, size: f.end - f.taken}
	f.taken = f.end
	return b, err
}

func (f *fileOut) finish() error {
	if err := f.flush(); err != nil {
		f.wait() // nothing may write to the file once finish returns
		return err
	}
	if err := f.wait(); err != nil {
		return err
	}
	if err := f.applyPatches(); err != nil {
		return err
	}
	if len(f.patches) > 0 {
		return errors.New("mediarecorder: patches left unwritten") // cannot happen: all is written
	}
	if _, err := f.w.Seek(f.end, io.SeekStart); err != nil {
		return err
	}
	f.filePos = f.end
	return f.sync()
}
