// Package av1 reads the few facts a muxer needs from an AV1 bitstream in the
// low overhead bitstream format (AV1 Bitstream & Decoding Process
// Specification section 5.2): it splits temporal units into OBUs, parses the
// sequence header, finds key frames, builds the AV1CodecConfigurationRecord
// (av1C) of ISOBMFF and Matroska, and drops temporal delimiters from stored
// samples.
//
// Nothing here decodes pictures, and nothing panics on bad input.
package av1

import "errors"

// OBU types (obu_type).
const (
	OBUSequenceHeader       = 1
	OBUTemporalDelimiter    = 2
	OBUFrameHeader          = 3
	OBUTileGroup            = 4
	OBUMetadata             = 5
	OBUFrame                = 6
	OBURedundantFrameHeader = 7
	OBUTileList             = 8
	OBUPadding              = 15
)

// Errors returned by the OBU functions.
var (
	// ErrShortOBU means the data ended inside an OBU header, size field or
	// payload.
	ErrShortOBU = errors.New("av1: OBU too short")
	// ErrForbiddenBit means obu_forbidden_bit is set.
	ErrForbiddenBit = errors.New("av1: OBU forbidden bit set")
	// ErrLEB128 means a leb128 value is longer than 8 bytes or larger than
	// 2^32-1.
	ErrLEB128 = errors.New("av1: invalid leb128")
)

// OBU is one open bitstream unit.
type OBU struct {
	Type       uint8 // obu_type
	TemporalID uint8 // from the extension header; 0 without one
	SpatialID  uint8 // from the extension header; 0 without one

	// HasExtension and HasSizeField are obu_extension_flag and
	// obu_has_size_field.
	HasExtension, HasSizeField bool

	Raw     []byte // the whole OBU: header, size field and payload
	Payload []byte // the payload after the header and size field
}

// HeaderLen returns the size of the OBU header (1, or 2 with the extension
// header), not counting the size field.
func (o OBU) HeaderLen() int {
	if o.HasExtension {
		return 2
	}
	return 1
}

// NextOBU splits the first OBU off b, a temporal unit or any run of OBUs in
// the low overhead bitstream format. An OBU without obu_has_size_field takes
// the rest of b. The returned slices alias b.
func NextOBU(b []byte) (obu OBU, rest []byte, err error) {
	if len(b) == 0 {
		return OBU{}, nil, ErrShortOBU
	}
	h := b[0]
	if h&0x80 != 0 {
		return OBU{}, nil, ErrForbiddenBit
	}
	obu.Type = h >> 3 & 0xf
	obu.HasExtension = h&4 != 0
	obu.HasSizeField = h&2 != 0
	n := 1
	if obu.HasExtension {
		if len(b) < 2 {
			return OBU{}, nil, ErrShortOBU
		}
		obu.TemporalID = b[1] >> 5
		obu.SpatialID = b[1] >> 3 & 3
		n = 2
	}
	if !obu.HasSizeField {
		obu.Raw, obu.Payload = b, b[n:]
		return obu, b[len(b):], nil
	}
	size, m, err := ReadLEB128(b[n:])
	if err != nil {
		return OBU{}, nil, err
	}
	n += m
	if uint64(size) > uint64(len(b)-n) {
		return OBU{}, nil, ErrShortOBU
	}
	end := n + int(size)
	obu.Raw, obu.Payload = b[:end:end], b[n:end:end]
	return obu, b[end:], nil
}

// ReadLEB128 reads a leb128 value (AV1 section 4.10.5) from the start of b
// and returns it and the number of bytes it took. It returns ErrShortOBU if
// b ends inside the value and ErrLEB128 if the value takes more than 8 bytes
// or exceeds 2^32-1.
func ReadLEB128(b []byte) (v uint32, n int, err error) {
	var x uint64
	for i := 0; i < 8; i++ {
		if i >= len(b) {
			return 0, 0, ErrShortOBU
		}
		x |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if x > 1<<32-1 {
				return 0, 0, ErrLEB128
			}
			return uint32(x), i + 1, nil
		}
	}
	return 0, 0, ErrLEB128
}

// AppendLEB128 appends v to dst in the shortest leb128 form.
func AppendLEB128(dst []byte, v uint32) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// appendWithSize appends o to dst with obu_has_size_field set, inserting a
// size field when o has none.
func appendWithSize(dst []byte, o OBU) []byte {
	if o.HasSizeField {
		return append(dst, o.Raw...)
	}
	dst = append(dst, o.Raw[0]|2)
	if o.HasExtension {
		dst = append(dst, o.Raw[1])
	}
	dst = AppendLEB128(dst, uint32(len(o.Payload)))
	return append(dst, o.Payload...)
}

// AppendStripTemporalDelimiters appends the OBUs of the temporal unit tu to
// dst, leaving out temporal delimiter and padding OBUs, as ISOBMFF and
// Matroska store AV1 samples. Every OBU written has obu_has_size_field set:
// an OBU without a size field (only the last one can lack it) is rewritten
// with one. On error dst is returned as it was.
func AppendStripTemporalDelimiters(dst, tu []byte) ([]byte, error) {
	orig := len(dst)
	for len(tu) > 0 {
		o, rest, err := NextOBU(tu)
		if err != nil {
			return dst[:orig], err
		}
		tu = rest
		if o.Type == OBUTemporalDelimiter || o.Type == OBUPadding {
			continue
		}
		if uint64(len(o.Payload)) > 1<<32-1 {
			return dst[:orig], ErrLEB128
		}
		dst = appendWithSize(dst, o)
	}
	return dst, nil
}
