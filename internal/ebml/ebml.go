// Package ebml encodes and decodes the Extensible Binary Meta Language
// (RFC 8794) primitives that Matroska and WebM are built from: variable-size
// integers (vints), element IDs, element headers and the basic element types.
//
// Encoding is append-style, in the manner of strconv.AppendInt: every Append
// function appends to a caller-owned slice and returns the extended slice, so
// a caller that reuses its buffer allocates nothing. Element IDs are written
// as they appear in the specifications, with their length marker bits kept
// (Segment is 0x18538067).
//
// The reader functions parse one vint, ID or element header from the start
// of a byte slice. They never panic and report malformed or short input as
// an error.
package ebml

import (
	"errors"
	"math"
)

// UnknownSize is the size ReadElementHeader reports for an element whose
// size field has every value bit set ("unknown size", RFC 8794 section 6.2).
const UnknownSize = math.MaxUint64

// MaxSize is the largest element size an 8-byte vint can encode
// (2^56 - 2; 2^56 - 1 is reserved for UnknownSize).
const MaxSize = 1<<56 - 2

// UnknownSize8 is the 8-byte encoding of an unknown size. A streaming writer
// puts it in the size field of a Segment or Cluster and may later overwrite it
// in place with AppendSizeN(..., 8).
var UnknownSize8 = [8]byte{0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}

// Errors returned by the reader functions.
var (
	// ErrShort means the input ended inside a vint, ID or element header.
	ErrShort = errors.New("ebml: short input")
	// ErrInvalidVint means the first byte of a vint is zero (a vint longer
	// than 8 bytes).
	ErrInvalidVint = errors.New("ebml: invalid vint")
	// ErrInvalidID means an element ID is longer than 4 bytes, has every
	// value bit set or none, or is not in its shortest form.
	ErrInvalidID = errors.New("ebml: invalid element id")
	// ErrInvalidLength means an integer element body is longer than 8
	// bytes or a float element body is not 0, 4 or 8 bytes long.
	ErrInvalidLength = errors.New("ebml: invalid element length")
)

// IDLen returns the number of bytes AppendID writes for id: the position of
// its highest non-zero byte (1 to 4; 1 for id 0).
func IDLen(id uint32) int {
	switch {
	case id < 1<<8:
		return 1
	case id < 1<<16:
		return 2
	case id < 1<<24:
		return 3
	}
	return 4
}

// AppendID appends the element ID id, big-endian in IDLen(id) bytes. The ID is
// written as given: its length marker bits must already be part of id.
func AppendID(b []byte, id uint32) []byte {
	switch IDLen(id) {
	case 1:
		return append(b, byte(id))
	case 2:
		return append(b, byte(id>>8), byte(id))
	case 3:
		return append(b, byte(id>>16), byte(id>>8), byte(id))
	}
	return append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
}

// SizeLen returns the length of the shortest vint that encodes size (1 to 8).
// The all-ones value of each width is reserved for the unknown size and is
// never used, so 127 needs 2 bytes. Sizes above MaxSize report 8.
func SizeLen(size uint64) int {
	n := 1
	for n < 8 && size >= 1<<(7*n)-1 {
		n++
	}
	return n
}

// AppendSize appends size as the shortest vint that encodes it (see SizeLen).
// A size above MaxSize is written as UnknownSize8; pass UnknownSize to write
// an unknown size on purpose.
func AppendSize(b []byte, size uint64) []byte {
	if size > MaxSize {
		return append(b, UnknownSize8[:]...)
	}
	return AppendSizeN(b, size, SizeLen(size))
}

// AppendSizeN appends size as a vint exactly n bytes wide (1 to 8). It is
// used to reserve a size field and later overwrite it in place. It panics if
// n is out of range or size does not fit in n bytes (that is, size >=
// 2^(7n) - 1), which is a programming error.
func AppendSizeN(b []byte, size uint64, n int) []byte {
	if n < 1 || n > 8 || size >= 1<<(7*n)-1 {
		panic("ebml: size does not fit in the vint width")
	}
	v := size | 1<<(7*n)
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// UintLen returns the number of bytes AppendUint uses for the value v: the
// shortest big-endian form, at least 1 byte.
func UintLen(v uint64) int {
	n := 1
	for n < 8 && v >= 1<<(8*n) {
		n++
	}
	return n
}

// AppendMaster appends the header of a master element id whose body is
// bodyLen bytes long (the ID and the shortest size vint). The caller appends
// the body. Pass UnknownSize to start an unknown-size element.
func AppendMaster(b []byte, id uint32, bodyLen uint64) []byte {
	return AppendSize(AppendID(b, id), bodyLen)
}

// AppendUint appends an unsigned integer element id holding v in its
// shortest big-endian form (see UintLen).
func AppendUint(b []byte, id uint32, v uint64) []byte {
	n := UintLen(v)
	b = append(AppendID(b, id), 0x80|byte(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// AppendInt appends a signed integer element id holding v in its shortest
// two's-complement big-endian form (at least 1 byte).
func AppendInt(b []byte, id uint32, v int64) []byte {
	n := 1
	for n < 8 && (v < -1<<(8*n-1) || v >= 1<<(8*n-1)) {
		n++
	}
	b = append(AppendID(b, id), 0x80|byte(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// AppendFloat appends a float element id holding f as an 8-byte IEEE 754
// big-endian double.
func AppendFloat(b []byte, id uint32, f float64) []byte {
	v := math.Float64bits(f)
	b = append(AppendID(b, id), 0x88)
	return append(b, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
		byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// AppendString appends a string (or UTF-8) element id holding s.
func AppendString(b []byte, id uint32, s string) []byte {
	return append(AppendMaster(b, id, uint64(len(s))), s...)
}

// AppendBytes appends a binary element id holding p.
func AppendBytes(b []byte, id uint32, p []byte) []byte {
	return append(AppendMaster(b, id, uint64(len(p))), p...)
}

// IDVoid is the ID of the Void element, which readers skip.
const IDVoid = 0xEC

// AppendVoid appends a Void element exactly n bytes long in total (header
// included), zero-filled. A Void needs at least 2 bytes; AppendVoid panics if
// n < 2, which is a programming error.
func AppendVoid(b []byte, n int) []byte {
	if n < 2 {
		panic("ebml: a Void element needs at least 2 bytes")
	}
	// Choose the size width w so that the body n-1-w fits in w bytes.
	w := 1
	for w < 8 && uint64(n-1-w) >= 1<<(7*w)-1 {
		w++
	}
	b = AppendSizeN(append(b, IDVoid), uint64(n-1-w), w)
	return append(b, make([]byte, n-1-w)...)
}

// ReadVint reads the vint at the start of b and returns its value with the
// length marker removed and its length in bytes. An all-ones value is
// returned as is (see ReadSize for the unknown-size reading).
func ReadVint(b []byte) (v uint64, n int, err error) {
	if len(b) == 0 {
		return 0, 0, ErrShort
	}
	if b[0] == 0 {
		return 0, 0, ErrInvalidVint
	}
	n = 1
	for b[0]&(0x80>>(n-1)) == 0 {
		n++
	}
	if len(b) < n {
		return 0, 0, ErrShort
	}
	v = uint64(b[0] & (0xFF >> n))
	for i := 1; i < n; i++ {
		v = v<<8 | uint64(b[i])
	}
	return v, n, nil
}

// ReadSize reads the element size vint at the start of b. A size with every
// value bit set is reported as UnknownSize.
func ReadSize(b []byte) (size uint64, n int, err error) {
	size, n, err = ReadVint(b)
	if err == nil && size == 1<<(7*n)-1 {
		size = UnknownSize
	}
	return size, n, err
}

// ReadID reads the element ID at the start of b, marker bits kept, and
// returns it with its length. IDs longer than 4 bytes, IDs whose value bits
// are all ones or all zeros, and IDs not in their shortest form are rejected with
// ErrInvalidID (RFC 8794 section 5).
func ReadID(b []byte) (id uint32, n int, err error) {
	if len(b) == 0 {
		return 0, 0, ErrShort
	}
	v, n, err := ReadVint(b)
	if err == ErrInvalidVint || n > 4 {
		return 0, 0, ErrInvalidID
	}
	if err != nil {
		return 0, 0, err
	}
	if v == 0 || v == 1<<(7*n)-1 || (n > 1 && v < 1<<(7*(n-1))-1) {
		return 0, 0, ErrInvalidID
	}
	for i := 0; i < n; i++ {
		id = id<<8 | uint32(b[i])
	}
	return id, n, nil
}

// ReadElementHeader reads the element header (ID and size) at the start of
// b. hdrLen is the header length in bytes; the body starts at b[hdrLen:].
// An unknown size is reported as UnknownSize. The body itself is not checked
// against len(b).
func ReadElementHeader(b []byte) (id uint32, size uint64, hdrLen int, err error) {
	id, n, err := ReadID(b)
	if err != nil {
		return 0, 0, 0, err
	}
	size, m, err := ReadSize(b[n:])
	if err != nil {
		return 0, 0, 0, err
	}
	return id, size, n + m, nil
}

// ReadUint decodes the body of an unsigned integer element (0 to 8 bytes,
// big-endian; an empty body is 0).
func ReadUint(body []byte) (uint64, error) {
	if len(body) > 8 {
		return 0, ErrInvalidLength
	}
	var v uint64
	for _, c := range body {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// ReadFloat decodes the body of a float element (0, 4 or 8 bytes, IEEE 754
// big-endian; an empty body is 0).
func ReadFloat(body []byte) (float64, error) {
	switch len(body) {
	case 0:
		return 0, nil
	case 4:
		v := uint32(body[0])<<24 | uint32(body[1])<<16 | uint32(body[2])<<8 | uint32(body[3])
		return float64(math.Float32frombits(v)), nil
	case 8:
		v, _ := ReadUint(body)
		return math.Float64frombits(v), nil
	}
	return 0, ErrInvalidLength
}
