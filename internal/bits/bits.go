// Package bits reads the bit fields that codec headers are made of:
// fixed-width unsigned fields stored most significant bit first, the
// Exp-Golomb codes of H.264 (ue(v) and se(v), ITU-T H.264 section 9.1) and
// the uvlc() codes of AV1 (AV1 specification section 4.10.3).
//
// A Reader's error is sticky, in the manner of bufio.Scanner: the first
// read that cannot be satisfied records an error, moves the Reader to the
// end of its data and returns 0, and every later read returns 0 too. A
// parser can therefore read a whole header without checking each field
// and look at Err once, where the answer matters. Nothing here panics or
// allocates.
package bits

import (
	"errors"
	"math"
	mathbits "math/bits"
)

// Errors recorded by a Reader.
var (
	// ErrShort means a read ran past the end of the data.
	ErrShort = errors.New("bits: read past the end of the data")
	// ErrOverflow means a field or code does not fit 32 bits: ReadBits was
	// asked for more than 32 bits (or fewer than 0), or an Exp-Golomb code
	// had 32 or more leading zero bits.
	ErrOverflow = errors.New("bits: field wider than 32 bits")
)

// Reader reads bit fields from a byte slice, most significant bit first.
// The zero Reader reads from empty data. A Reader is a small value meant to
// live on the stack: NewReader returns it by value.
type Reader struct {
	b []byte
	// pos is the number of bits read. After an error it is past the end:
	// len(b)*8 plus the error's code (short or overflow). Keeping the
	// error there leaves a Reader four words, few enough for the compiler
	// to build one in registers; with a separate error field every
	// parser paid for copying its Reader into place.
	pos int
}

// Error codes, as kept in Reader.pos.
const (
	short    = 1 // ErrShort
	overflow = 2 // ErrOverflow
)

// NewReader returns a Reader reading b from its first bit.
func NewReader(b []byte) Reader {
	return Reader{b: b}
}

// Err returns the first error the Reader met (ErrShort or ErrOverflow), or
// nil.
func (r *Reader) Err() error {
	switch r.pos - len(r.b)*8 {
	case short:
		return ErrShort
	case overflow:
		return ErrOverflow
	}
	return nil
}

// Offset returns the number of bits read so far; after an error it is the
// length of the data in bits.
func (r *Reader) Offset() int { return min(r.pos, len(r.b)*8) }

// failed reports whether the Reader has met an error.
func (r *Reader) failed() bool { return r.pos > len(r.b)*8 }

// fail records the error code unless an error is already recorded. It
// moves the Reader past the end of its data, where every read gives 0.
func (r *Reader) fail(code int) {
	if end := len(r.b) * 8; r.pos <= end {
		r.pos = end + code
	}
}

// ReadBits returns the next n bits as an unsigned number. n is 0 to 32.
// When fewer than n bits are left it returns 0 and records ErrShort (it
// does not return the bits that are left); for n outside 0 to 32 it
// returns 0 and records ErrOverflow.
func (r *Reader) ReadBits(n int) uint32 {
	if uint(n) > 32 || n > len(r.b)*8-r.pos {
		if uint(n) > 32 {
			r.fail(overflow)
		} else {
			r.fail(short)
		}
		return 0
	}
	// Gather the (at most 5) bytes the field touches, then cut it out.
	end := r.pos + n
	var v uint64
	for _, c := range r.b[r.pos>>3 : (end+7)>>3] {
		v = v<<8 | uint64(c)
	}
	v >>= (8 - end&7) & 7
	r.pos = end
	return uint32(v & (1<<n - 1))
}

// Flag reads one bit and reports whether it is 1. At the end of the data
// it returns false and records ErrShort.
func (r *Reader) Flag() bool {
	if r.pos >= len(r.b)*8 {
		r.fail(short)
		return false
	}
	v := r.b[r.pos>>3] >> (7 - r.pos&7) & 1
	r.pos++
	return v == 1
}

// leadingZeros reads zero bits up to and including the first 1 bit and
// returns how many zero bits there were, taking a byte at a time. It stops
// after max zero bits, returning max without reading the 1 bit. At the end
// of the data it records ErrShort and returns -1, as it does after an
// earlier error (keeping that error).
func (r *Reader) leadingZeros(max int) int {
	n := 0
	for {
		i := r.pos >> 3
		if i >= len(r.b) {
			r.fail(short)
			return -1
		}
		c := r.b[i] << (r.pos & 7) // the bits left in this byte, at the top
		z := min(mathbits.LeadingZeros8(c), 8-r.pos&7)
		if n+z >= max {
			r.pos += max - n
			return max
		}
		n += z
		r.pos += z
		if c != 0 {
			r.pos++ // the 1 bit
			return n
		}
	}
}

// UE reads an unsigned Exp-Golomb code, ue(v) of H.264 section 9.1: n zero
// bits, a 1 bit and n more bits b give 2^n - 1 + b. A code with 32 or more
// leading zero bits (a value above 2^32 - 2) returns 0 and records
// ErrOverflow; a code cut short by the end of the data returns 0 and
// records ErrShort.
func (r *Reader) UE() uint32 {
	zeros := r.leadingZeros(32)
	if zeros < 0 {
		return 0
	}
	if zeros == 32 {
		r.fail(overflow)
		return 0
	}
	return r.value(zeros)
}

// SE reads a signed Exp-Golomb code, se(v) of H.264 section 9.1.1: the ue(v)
// values 0, 1, 2, 3, 4, ... stand for 0, 1, -1, 2, -2, .... Errors are as
// for UE.
func (r *Reader) SE() int32 {
	k := r.UE()
	if k&1 == 1 {
		return int32((k + 1) / 2)
	}
	return -int32(k / 2)
}

// UVLC reads a uvlc() code of AV1 section 4.10.3: n zero bits, a 1 bit and n
// more bits b give 2^n - 1 + b. As the specification says, a code with 32
// or more leading zero bits gives 2^32 - 1 and has no value bits; that is
// not an error. A code cut short by the end of the data returns 0 and
// records ErrShort.
func (r *Reader) UVLC() uint32 {
	zeros := r.leadingZeros(math.MaxInt)
	if zeros < 0 {
		return 0
	}
	if zeros >= 32 {
		return 1<<32 - 1
	}
	return r.value(zeros)
}

// value reads the n value bits of an Exp-Golomb or uvlc() code with n
// leading zeros (n < 32) and returns the code's value, 2^n - 1 + the bits,
// or 0 when they are cut short.
func (r *Reader) value(n int) uint32 {
	v := r.ReadBits(n)
	if r.failed() {
		return 0
	}
	return uint32(uint64(1)<<n - 1 + uint64(v))
}
