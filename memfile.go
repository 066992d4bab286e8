package mediarecorder

import (
	"errors"
	"io"
)

var errSeekTaken = errors.New("mediarecorder: seek into data already handed out")

// memFile is an in-memory io.WriteSeeker whose bytes are handed out in
// blobs; after take, the bytes taken can no longer be rewritten.
type memFile struct {
	base int64 // file offset of buf[0]
	buf  []byte
	pos  int64
}

// Write implements io.Writer at the current position.
func (m *memFile) Write(p []byte) (int, error) {
	off := m.pos - m.base
	if off < 0 {
		return 0, errSeekTaken
	}
	if int(off) == len(m.buf) {
		m.buf = append(m.buf, p...)
	} else {
		if need := int(off) + len(p); need > len(m.buf) {
			m.buf = append(m.buf, make([]byte, need-len(m.buf))...)
		}
		copy(m.buf[off:], p)
	}
	m.pos += int64(len(p))
	return len(p), nil
}

// seekTarget is io.Seeker's arithmetic: the absolute offset that offset
// and whence name, given the current position and the size.
func seekTarget(offset int64, whence int, pos, size int64) (int64, error) {
	switch whence {
	case io.SeekStart:
		return offset, nil
	case io.SeekCurrent:
		return pos + offset, nil
	case io.SeekEnd:
		return size + offset, nil
	}
	return 0, errors.New("mediarecorder: bad whence")
}

// Seek implements io.Seeker.
func (m *memFile) Seek(offset int64, whence int) (int64, error) {
	abs, err := seekTarget(offset, whence, m.pos, m.base+int64(len(m.buf)))
	if err != nil {
		return 0, err
	}
	if abs < m.base {
		return 0, errSeekTaken
	}
	m.pos = abs
	return abs, nil
}

// Len returns the number of bytes not yet taken.
func (m *memFile) Len() int { return len(m.buf) }

// takeBytes returns the bytes written since the last take.
func (m *memFile) takeBytes() []byte {
	b := m.buf
	m.base += int64(len(b))
	// The blob keeps b; the next one likely needs as much room.
	m.buf = nil
	if cap(b) > 0 {
		m.buf = make([]byte, 0, cap(b))
	}
	if m.pos < m.base {
		m.pos = m.base
	}
	if b == nil {
		b = []byte{}
	}
	return b
}
