package h264

import (
	"errors"
	"io"
)

// Errors returned by AccessUnitReader.Next.
var (
	// ErrNALUTooLarge means a NAL unit in the stream is larger than the
	// reader's MaxNALUSize.
	ErrNALUTooLarge = errors.New("h264: NAL unit too large")
	// ErrNoProgress means the underlying reader returned no data and no
	// error many times in a row.
	ErrNoProgress = errors.New("h264: reader makes no progress")
)

const (
	readBlock = 64 << 10 // the smallest read the reader makes
	// DefaultMaxNALUSize is the largest NAL unit an AccessUnitReader
	// accepts unless told otherwise.
	DefaultMaxNALUSize = 64 << 20
)

// AccessUnitReader splits an Annex B elementary stream into access units.
//
// A new access unit starts (H.264 section 7.4.1.2.3) at an access unit
// delimiter, or, after a coded slice, at an SPS, PPS, SEI, a NAL unit of
// type 14 to 18, or a coded slice with first_mb_in_slice 0. Bytes before
// the first start code are skipped.
type AccessUnitReader struct {
	// MaxNALUSize is the largest NAL unit Next accepts before it returns
	// ErrNALUTooLarge. NewAccessUnitReader sets DefaultMaxNALUSize.
	MaxNALUSize int

	r   io.Reader
	buf []byte // read buffer, len == cap; unread data is buf[start:end]

	start, end int
	err        error // sticky read error (io.EOF at the end)

	// have says buf[nalStart:nalEnd] is a NAL unit found by peek and not
	// yet consumed; the data after it starts at nalNext.
	have                      bool
	nalStart, nalEnd, nalNext int

	au []byte
}

// NewAccessUnitReader returns a reader of the access units of the Annex B
// stream r. It reads r in blocks of at least 64 KiB.
func NewAccessUnitReader(r io.Reader) *AccessUnitReader {
	return &AccessUnitReader{r: r, MaxNALUSize: DefaultMaxNALUSize}
}

// Next returns the next access unit: its NAL units in Annex B form, each
// after the start code 00 00 00 01. The returned slice is valid until the
// next call. At the end of the stream Next returns io.EOF. A read error of
// the underlying reader is returned as it is (dropping the access unit in
// progress); errors are sticky.
func (r *AccessUnitReader) Next() ([]byte, error) {
	r.au = r.au[:0]
	vcl := false
	for {
		nalu, err := r.peek()
		if err != nil {
			if err == io.EOF && len(r.au) > 0 {
				return r.au, nil
			}
			return nil, err
		}
		t := NALUType(nalu)
		if len(r.au) > 0 && (t == NALUTypeAUD || vcl && startsAccessUnit(nalu)) {
			return r.au, nil
		}
		r.au = append(r.au, startCode4[:]...)
		r.au = append(r.au, nalu...)
		r.start, r.have = r.nalNext, false
		if isVCL(t) {
			vcl = true
		}
	}
}

// startsAccessUnit reports whether nalu, coming after a coded slice, begins
// a new access unit.
func startsAccessUnit(nalu []byte) bool {
	switch t := NALUType(nalu); {
	case t == NALUTypeAUD, t == NALUTypeSPS, t == NALUTypePPS, t == NALUTypeSEI,
		t >= 14 && t <= 18:
		return true
	case t == NALUTypeNonIDR, t == NALUTypeIDR, t == NALUTypePartitionA:
		// first_mb_in_slice is ue(v), 0 exactly when its first bit is 1.
		return len(nalu) > 1 && nalu[1]&0x80 != 0
	}
	return false
}

// peek returns the next NAL unit (without start code and trailing zeros),
// reading more data as needed, and remembers it until it is consumed. It
// returns io.EOF when no NAL unit is left.
func (r *AccessUnitReader) peek() ([]byte, error) {
	if r.have {
		return r.buf[r.nalStart:r.nalEnd], nil
	}
	for {
		// Find the start code of the NAL unit.
		for {
			data := r.buf[r.start:r.end]
			if i := findStartCode(data); i >= 0 {
				r.start += i + 3
				break
			}
			// No start code: drop all but the last two bytes, which may
			// begin one.
			if len(data) > 2 {
				r.start = r.end - 2
			}
			if err := r.fill(); err != nil {
				return nil, err
			}
		}
		// Find its end: the next start code or the end of the stream.
		scan := 0
		for {
			data := r.buf[r.start:r.end]
			next := -1
			if i := findStartCode(data[scan:]); i >= 0 {
				next = scan + i
			} else {
				if len(data) > 2 {
					scan = len(data) - 2
				}
				if len(data) > r.MaxNALUSize {
					r.err = ErrNALUTooLarge
					return nil, r.err
				}
				err := r.fill()
				if err == nil {
					continue
				}
				if err != io.EOF {
					return nil, err
				}
				// fill may have moved the data even when it failed.
				data = r.buf[r.start:r.end]
				next = len(data)
			}
			n := len(trimZeros(data[:next]))
			if n == 0 {
				// Two start codes in a row, or zeros at the end.
				r.start += next
				if r.start == r.end && r.err != nil {
					return nil, r.err
				}
				break
			}
			if n > r.MaxNALUSize {
				r.err = ErrNALUTooLarge
				return nil, r.err
			}
			r.have = true
			r.nalStart, r.nalEnd, r.nalNext = r.start, r.start+n, r.start+next
			return r.buf[r.nalStart:r.nalEnd], nil
		}
	}
}

// fill reads more data into the buffer, moving the unread data to the
// front or growing the buffer so that at least readBlock bytes are free.
// Once the reader has failed or ended it returns that error.
func (r *AccessUnitReader) fill() error {
	if r.err != nil {
		return r.err
	}
	if len(r.buf)-r.end < readBlock && r.start > 0 {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
	if len(r.buf)-r.end < readBlock {
		nb := make([]byte, max(2*len(r.buf)+readBlock, 4*readBlock))
		r.end = copy(nb, r.buf[r.start:r.end])
		r.start = 0
		r.buf = nb
	}
	for range 100 {
		n, err := r.r.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			r.err = err
			if n > 0 {
				return nil
			}
			return err
		}
		if n > 0 {
			return nil
		}
	}
	r.err = ErrNoProgress
	return r.err
}
