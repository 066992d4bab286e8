package ogg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// readBufLen is the Reader's buffer size: two maximal pages, so that most
// pages need no copying and reads are large.
const readBufLen = 2 * 65536

// Reader reads the pages of an Ogg stream (all logical streams, in file
// order). It does not resynchronise: a damaged stream ends with an error.
type Reader struct {
	r          io.Reader
	buf        []byte
	start, end int   // unread bytes are buf[start:end]
	rerr       error // error from r, returned once the buffer is drained
	err        error // sticky error of the stream
	page       Page
	offset     int64 // stream offset of buf[start]
}

// NewReader returns a Reader that reads pages from r, with its own buffer.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, buf: make([]byte, readBufLen)}
}

// Offset returns the position in the stream of the next page's first byte.
func (r *Reader) Offset() int64 { return r.offset }

// NextPage returns the next page. The page and its slices are valid until
// the next call. At the end of the stream it returns io.EOF, and
// io.ErrUnexpectedEOF if the stream stops inside a page. A page whose
// checksum is wrong is skipped and reported as ErrBadCRC: the next call
// reads the page after it. ErrBadPage and errors from the underlying reader
// are returned by every later call.
func (r *Reader) NextPage() (*Page, error) {
	if r.err != nil {
		return nil, r.err
	}
	if err := r.fill(HeaderLen); err != nil {
		return nil, r.fail(err)
	}
	h := r.buf[r.start:r.end]
	if string(h[:4]) != capturePattern {
		return nil, r.fail(fmt.Errorf("%w: no capture pattern at offset %d", ErrBadPage, r.offset))
	}
	if h[4] != 0 {
		return nil, r.fail(fmt.Errorf("%w: version %d at offset %d", ErrBadPage, h[4], r.offset))
	}
	nseg := int(h[26])
	if err := r.fill(HeaderLen + nseg); err != nil {
		return nil, r.fail(err)
	}
	h = r.buf[r.start:r.end]
	body := 0
	for _, v := range h[HeaderLen : HeaderLen+nseg] {
		body += int(v)
	}
	n := HeaderLen + nseg + body
	if err := r.fill(n); err != nil {
		return nil, r.fail(err)
	}
	b := r.buf[r.start : r.start+n]
	r.start += n
	r.offset += int64(n)
	if Checksum(b) != binary.LittleEndian.Uint32(b[22:]) {
		return nil, ErrBadCRC
	}
	r.page = Page{
		Flags:    b[5],
		Granule:  int64(binary.LittleEndian.Uint64(b[6:])),
		Serial:   binary.LittleEndian.Uint32(b[14:]),
		Sequence: binary.LittleEndian.Uint32(b[18:]),
		Segments: b[HeaderLen : HeaderLen+nseg : HeaderLen+nseg],
		Body:     b[HeaderLen+nseg : n : n],
	}
	return &r.page, nil
}

// fail makes err sticky and returns it.
func (r *Reader) fail(err error) error {
	r.err = err
	return err
}

// fill makes at least n bytes available in buf[start:end] (n <= len(buf)).
// It returns io.EOF only if the stream ended cleanly before any of them.
func (r *Reader) fill(n int) error {
	if r.end-r.start >= n {
		return nil
	}
	if len(r.buf)-r.start < n {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
	empty := 0
	for r.end-r.start < n {
		if r.rerr != nil {
			if r.rerr == io.EOF && r.end > r.start {
				return io.ErrUnexpectedEOF
			}
			return r.rerr
		}
		m, err := r.r.Read(r.buf[r.end:])
		if m < 0 || m > len(r.buf)-r.end {
			return errors.New("ogg: reader returned an invalid count")
		}
		r.end += m
		if err != nil {
			r.rerr = err
		} else if m == 0 {
			if empty++; empty >= 100 {
				return io.ErrNoProgress
			}
		}
	}
	return nil
}
