package ogg

import (
	"encoding/binary"
	"fmt"
)

// Header flags of a page.
const (
	FlagContinued = 0x01 // the first packet continues one from the previous page
	FlagBOS       = 0x02 // first page of a logical stream
	FlagEOS       = 0x04 // last page of a logical stream
)

// Page size limits.
const (
	HeaderLen   = 27                           // fixed header, before the lacing values
	MaxSegments = 255                          // lacing values per page
	MaxBodyLen  = 255 * MaxSegments            // 65025
	MaxPageLen  = HeaderLen + 255 + MaxBodyLen // 65307
)

// capturePattern starts every page.
const capturePattern = "OggS"

// Page is one Ogg page. Segments holds the lacing values: a packet of n
// bytes takes n/255 values of 255 and one of n%255; a page whose last value
// is 255 ends with a packet that continues on the next page.
type Page struct {
	Flags    uint8 // FlagContinued, FlagBOS, FlagEOS
	Granule  int64 // codec-defined position at the end of the last packet that ends here; -1 if none does
	Serial   uint32
	Sequence uint32
	Segments []byte // lacing values, at most 255
	Body     []byte // the packet data; len(Body) is the sum of Segments
}

// Len returns the encoded size of the page.
func (p *Page) Len() int { return HeaderLen + len(p.Segments) + len(p.Body) }

// AppendBinary appends the encoded page, with its checksum, to dst
// (encoding.BinaryAppender). It returns ErrBadPage if there are more than
// 255 lacing values or they do not add up to len(Body).
func (p *Page) AppendBinary(dst []byte) ([]byte, error) {
	if len(p.Segments) > MaxSegments {
		return dst, fmt.Errorf("%w: %d lacing values", ErrBadPage, len(p.Segments))
	}
	n := 0
	for _, v := range p.Segments {
		n += int(v)
	}
	if n != len(p.Body) {
		return dst, fmt.Errorf("%w: lacing values sum to %d, body has %d bytes", ErrBadPage, n, len(p.Body))
	}
	start := len(dst)
	dst = appendHeader(dst, p.Flags, p.Granule, p.Serial, p.Sequence, len(p.Segments))
	dst = append(dst, p.Segments...)
	dst = append(dst, p.Body...)
	binary.LittleEndian.PutUint32(dst[start+22:], Checksum(dst[start:]))
	return dst, nil
}

// MarshalBinary returns the encoded page (encoding.BinaryMarshaler).
func (p *Page) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, p.Len()))
}

// appendHeader appends a page header with a zero checksum.
func appendHeader(b []byte, flags uint8, granule int64, serial, seq uint32, nseg int) []byte {
	b = append(b, capturePattern...)
	b = append(b, 0, flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(granule))
	b = binary.LittleEndian.AppendUint32(b, serial)
	b = binary.LittleEndian.AppendUint32(b, seq)
	b = append(b, 0, 0, 0, 0, byte(nseg))
	return b
}
