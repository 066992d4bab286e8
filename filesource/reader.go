package filesource

import (
	"bufio"
	"io"
	"math"
	"math/bits"
	"time"
)

// maxFrameSize bounds one frame or chunk read from a file.
const maxFrameSize = 256 << 20

// Mapping bounds: files from 1 MiB to 64 GiB are read through a memory
// map (see mapped); smaller ones are not worth it.
const (
	minMapSize  = 1 << 20
	maxMapSize  = 64 << 30
	releaseStep = 1 << 20
	releaseLag  = 1 << 20
)

// byteReader reads from a buffered reader, or from a file's memory map
// (mem), and counts the bytes it consumed, for error offsets.
type byteReader struct {
	r   *bufio.Reader
	mem []byte // the whole file, when mapped; r is nil then
	off int64

	released int64 // mem[:released] was given back (release)
}

// mapped is a file's memory map as an io.Reader that newByteReader
// recognises: the byteReader then reads the map directly.
type mapped struct{ mem []byte }

func (m *mapped) Read([]byte) (int, error) { return 0, io.ErrNoProgress } // never called

func newByteReader(r io.Reader) *byteReader {
	if m, ok := r.(*mapped); ok {
		return &byteReader{mem: m.mem}
	}
	return &byteReader{r: bufio.NewReaderSize(r, readBufSize)}
}

// view returns the next n bytes. From a memory map they are the map's own
// bytes (no copy), valid until the file is closed and never to be
// written; otherwise it is readInto(buf, n).
func (b *byteReader) view(buf []byte, n int) ([]byte, error) {
	if b.mem == nil {
		return b.readInto(buf, n)
	}
	rest := b.mem[min(b.off, int64(len(b.mem))):]
	if len(rest) == 0 && n > 0 {
		return nil, io.EOF
	}
	if len(rest) < n {
		b.off += int64(len(rest))
		return rest, io.ErrUnexpectedEOF
	}
	b.off += int64(n)
	b.release()
	return rest[:n:n], nil
}

// release gives back the pages of the map read more than releaseLag ago,
// every releaseStep, so that reading a large file keeps a small resident
// set. (A page given back and read again is simply mapped in again.)
func (b *byteReader) release() {
	if b.off-b.released < releaseStep+releaseLag {
		return
	}
	cut := (b.off - releaseLag) &^ (1<<16 - 1)
	releaseMapped(b.mem[b.released:cut])
	b.released = cut
}

// newSizedReader is newByteReader for a reader of size bytes (-1:
// unknown): small files get small buffers.
func newSizedReader(r io.Reader, size int64) *byteReader {
	n := readBufSize
	if size >= 0 && size < int64(n) {
		n = max(int(size), 16)
	}
	return &byteReader{r: bufio.NewReaderSize(r, n)}
}

// full fills p. It returns io.EOF when no byte was left and
// io.ErrUnexpectedEOF when some but not all were.
func (b *byteReader) full(p []byte) error {
	if b.mem != nil {
		got, err := b.view(nil, len(p))
		copy(p, got)
		return err
	}
	n, err := io.ReadFull(b.r, p)
	b.off += int64(n)
	return err
}

// readInto reads n bytes into buf's storage and returns them. The buffer
// grows as data arrives, so that a size field that lies costs no more
// memory than the data there is. At the end of the data it returns what
// it got with io.ErrUnexpectedEOF (io.EOF only when n > 0 and nothing was
// left).
func (b *byteReader) readInto(buf []byte, n int) ([]byte, error) {
	if b.mem != nil {
		got, err := b.view(nil, n)
		return append(buf[:0], got...), err
	}
	buf = buf[:0]
	for len(buf) < n {
		want := n - len(buf)
		if cap(buf) == len(buf) {
			grow := min(want, max(len(buf), 1<<20))
			buf = append(buf, make([]byte, grow)...)[:len(buf)]
		}
		m := min(want, cap(buf)-len(buf))
		k, err := io.ReadFull(b.r, buf[len(buf):len(buf)+m])
		buf = buf[:len(buf)+k]
		b.off += int64(k)
		if err != nil {
			if err == io.EOF && len(buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return buf, err
		}
	}
	return buf, nil
}

// skip discards n bytes; io.ErrUnexpectedEOF when fewer are left.
func (b *byteReader) skip(n int64) error {
	if b.mem != nil {
		left := int64(len(b.mem)) - b.off
		if n > left {
			b.off += max(left, 0)
			return io.ErrUnexpectedEOF
		}
		b.off += n
		return nil
	}
	for n > 0 {
		k, err := b.r.Discard(int(min(n, 1<<30)))
		b.off += int64(k)
		n -= int64(k)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// scaleTime returns v*num/den seconds as a Duration, saturating instead
// of overflowing. den must not be 0.
func scaleTime(v int64, num, den uint64) time.Duration {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u
	}
	hi, lo := bits.Mul64(u, num)
	hi2, lo2 := bits.Mul64(lo, uint64(time.Second))
	var carry uint64
	if hi > math.MaxUint64/uint64(time.Second) {
		carry = 1
	} else {
		hi, carry = bits.Add64(hi*uint64(time.Second), hi2, 0)
	}
	if carry != 0 || hi >= den {
		if neg {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo2, den)
	if q > math.MaxInt64 {
		q = math.MaxInt64
	}
	if neg {
		return -time.Duration(q)
	}
	return time.Duration(q)
}
