package opus

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// tagsMagic starts the comment header.
var tagsMagic = []byte("OpusTags")

// Tags is the Opus comment header, the "OpusTags" packet (RFC 7845
// section 5.2): a vendor string and user comments of the form
// "NAME=value" in UTF-8.
type Tags struct {
	Vendor   string
	Comments []string
}

// Get returns the value of the first comment whose name matches name
// (case-insensitively, as Vorbis comments are), and whether there was one.
func (t Tags) Get(name string) (string, bool) {
	for _, c := range t.Comments {
		k, v, ok := strings.Cut(c, "=")
		if ok && strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// Len returns the size of the encoded comment header.
func (t Tags) Len() int {
	n := 8 + 4 + len(t.Vendor) + 4
	for _, c := range t.Comments {
		n += 4 + len(c)
	}
	return n
}

// AppendBinary appends the encoded comment header to b
// (encoding.BinaryAppender).
func (t Tags) AppendBinary(b []byte) ([]byte, error) {
	if uint64(len(t.Vendor)) > math.MaxUint32 || uint64(len(t.Comments)) > math.MaxUint32 {
		return b, fmt.Errorf("%w: too large", ErrInvalidTags)
	}
	for _, c := range t.Comments {
		if uint64(len(c)) > math.MaxUint32 {
			return b, fmt.Errorf("%w: comment too large", ErrInvalidTags)
		}
	}
	b = append(b, tagsMagic...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Vendor)))
	b = append(b, t.Vendor...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Comments)))
	for _, c := range t.Comments {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(c)))
		b = append(b, c...)
	}
	return b, nil
}

// MarshalBinary returns the encoded comment header
// (encoding.BinaryMarshaler).
func (t Tags) MarshalBinary() ([]byte, error) {
	return t.AppendBinary(make([]byte, 0, t.Len()))
}

// UnmarshalBinary parses a comment header into t
// (encoding.BinaryUnmarshaler).
func (t *Tags) UnmarshalBinary(b []byte) error {
	v, err := ParseTags(b)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// ParseTags parses a comment header packet. Data after the last comment
// (RFC 7845 allows binary data there) is ignored.
func ParseTags(b []byte) (Tags, error) {
	if len(b) < 16 || !bytes.Equal(b[:8], tagsMagic) {
		return Tags{}, ErrInvalidTags
	}
	b = b[8:]
	vendor, b, ok := lengthPrefixed(b)
	if !ok {
		return Tags{}, fmt.Errorf("%w: vendor string overruns the packet", ErrInvalidTags)
	}
	if len(b) < 4 {
		return Tags{}, fmt.Errorf("%w: missing comment count", ErrInvalidTags)
	}
	n := binary.LittleEndian.Uint32(b)
	b = b[4:]
	// Each comment takes at least 4 bytes: a count larger than that is a
	// lie, and must not size an allocation.
	if uint64(n) > uint64(len(b)/4) {
		return Tags{}, fmt.Errorf("%w: %d comments do not fit", ErrInvalidTags, n)
	}
	t := Tags{Vendor: string(vendor)}
	if n > 0 {
		t.Comments = make([]string, 0, n)
	}
	for range n {
		var c []byte
		c, b, ok = lengthPrefixed(b)
		if !ok {
			return Tags{}, fmt.Errorf("%w: comment overruns the packet", ErrInvalidTags)
		}
		t.Comments = append(t.Comments, string(c))
	}
	return t, nil
}

// lengthPrefixed splits a u32 LE length-prefixed string off b.
func lengthPrefixed(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, b, false
	}
	n := binary.LittleEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, b, false
	}
	return b[4 : 4+n], b[4+n:], true
}
