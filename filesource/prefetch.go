package filesource

import (
	"io"
	"slices"
	"sync"
)

// Read-ahead: chunkSize bytes a read, chunks of them read ahead.
const (
	chunkSize = 256 << 10
	chunks    = 4
)

// chunk is one read of the file.
type chunk struct {
	b   []byte
	err error // after b: io.EOF or the read error
}

// prefetcher reads a file ahead, on a goroutine of its own, into a few
// reused chunks: the reads (the kernel's copy into memory) run beside the
// parsing, and frames are handed out as views of the chunks.
type prefetcher struct {
	full chan *chunk
	free chan *chunk
	stop chan struct{}
	once sync.Once
}

// newPrefetcher starts reading r ahead.
func newPrefetcher(r io.Reader) *prefetcher {
	p := &prefetcher{
		full: make(chan *chunk, chunks),
		free: make(chan *chunk, chunks),
		stop: make(chan struct{}),
	}
	for range chunks {
		p.free <- &chunk{b: make([]byte, 0, chunkSize)}
	}
	go p.run(r)
	return p
}

func (p *prefetcher) run(r io.Reader) {
	defer close(p.full)
	for {
		var c *chunk
		select {
		case c = <-p.free:
		case <-p.stop:
			return
		}
		n, err := io.ReadFull(r, c.b[:cap(c.b)])
		c.b = c.b[:n]
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		c.err = err
		select {
		case p.full <- c:
		case <-p.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// close stops the read-ahead; the goroutine ends after its current read.
func (p *prefetcher) close() { p.once.Do(func() { close(p.stop) }) }

// chunkReader reads a prefetcher's chunks for a byteReader.
type chunkReader struct {
	p    *prefetcher
	cur  *chunk // being read; nil before the first
	pos  int
	err  error    // the end: set once cur is used up and was the last
	held []*chunk // chunks taken and not given back, cur last
	keep *chunk   // holds the last view handed out
}

// next makes the following chunk current. It reports false at the end.
func (c *chunkReader) next() bool {
	if c.err != nil {
		return false
	}
	if c.cur != nil && c.cur.err != nil {
		c.err = c.cur.err
		return false
	}
	n, ok := <-c.p.full
	if !ok {
		c.err = io.ErrUnexpectedEOF // stopped
		return false
	}
	c.cur, c.pos = n, 0
	c.held = append(c.held, n)
	return true
}

// release gives back every chunk but the current one and the one holding
// the last view handed out.
func (c *chunkReader) release() {
	kept := c.held[:0]
	for _, h := range c.held {
		if h == c.cur || h == c.keep {
			kept = append(kept, h)
			continue
		}
		h.b, h.err = h.b[:0], nil
		c.p.free <- h
	}
	clear(c.held[len(kept):])
	c.held = kept
}

// read copies the next len(p) bytes (or fewer, at the end) into p.
func (c *chunkReader) read(p []byte) int {
	n := 0
	for n < len(p) {
		if c.cur == nil || c.pos == len(c.cur.b) {
			if !c.next() {
				break
			}
			continue
		}
		k := copy(p[n:], c.cur.b[c.pos:])
		c.pos += k
		n += k
	}
	return n
}

// view returns the next n bytes: a view of a chunk, valid until the view
// after the next, or a copy when they span chunks. It returns fewer at the
// end.
func (c *chunkReader) view(n int) []byte {
	c.release() // all but cur and the previous view's chunk
	c.keep = nil
	if c.cur == nil || c.pos == len(c.cur.b) {
		c.next()
	}
	if c.cur != nil && len(c.cur.b)-c.pos >= n {
		v := c.cur.b[c.pos : c.pos+n : c.pos+n]
		c.pos += n
		c.keep = c.cur
		return v
	}
	// Across chunks: copied, growing as data arrives (a size field that
	// lies costs no more than the data there is).
	var out []byte
	for len(out) < n {
		if c.cur == nil || c.pos == len(c.cur.b) {
			if !c.next() {
				break
			}
			continue
		}
		k := min(n-len(out), len(c.cur.b)-c.pos)
		out = append(out, c.cur.b[c.pos:c.pos+k]...)
		c.pos += k
	}
	return slices.Clip(out)
}

// end returns the error for a read that got got of want bytes: nil when
// whole, io.EOF when nothing was left, io.ErrUnexpectedEOF when cut short,
// or the read error.
func (c *chunkReader) end(got, want int) error {
	switch {
	case got == want:
		return nil
	case c.err != nil && c.err != io.EOF:
		return c.err
	case got == 0:
		return io.EOF
	}
	return io.ErrUnexpectedEOF
}
