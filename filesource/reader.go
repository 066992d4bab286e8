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

// minPrefetchSize: IVF files from 1 MiB on are read ahead (prefetcher).
const minPrefetchSize = 1 << 20

// byteReader reads from a buffered reader, or from the chunks of a file
// read ahead (cr), and counts the bytes it consumed, for error offsets.
type byteReader struct {
	r   *bufio.Reader
	cr  *chunkReader // the file read ahead; r is nil then
	off int64
}

// prefetched is a file read ahead (newPrefetcher) as an io.Reader that
// newByteReader recognises: the byteReader then reads its chunks.
type prefetched struct{ p *prefetcher }

func (*prefetched) Read([]byte) (int, error) { return 0, io.ErrNoProgress } // never called

func newByteReader(r io.Reader) *byteReader {
	if p, ok := r.(*prefetched); ok {
		return &byteReader{cr: &chunkReader{p: p.p}}
	}
	return &byteReader{r: bufio.NewReaderSize(r, readBufSize)}
}

// view returns the next n bytes. From a file read ahead they are a view of
// a chunk read (no copy), valid until the view after the next and never to
// be written; otherwise it is readInto(buf, n).
func (b *byteReader) view(buf []byte, n int) ([]byte, error) {
	if b.cr != nil {
		v := b.cr.view(n)
		b.off += int64(len(v))
		return v, b.cr.end(len(v), n)
	}
	return b.readInto(buf, n)
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
	if b.cr != nil {
		n := b.cr.read(p)
		b.off += int64(n)
		return b.cr.end(n, len(p))
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
	if b.cr != nil {
		v, err := b.view(nil, n)
		return append(buf[:0], v...), err
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
	if b.cr != nil {
		var scratch [4096]byte
		for n > 0 {
			k := int(min(n, int64(len(scratch))))
			got := b.cr.read(scratch[:k])
			b.off += int64(got)
			n -= int64(got)
			if got < k {
				return io.ErrUnexpectedEOF
			}
		}
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
