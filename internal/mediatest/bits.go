package mediatest

import (
	"fmt"
	"strconv"
	"strings"
)

// Bits returns the bit string that fields spell, for hand-built headers in
// test tables. Each field is "value/width": value (decimal, or 0x, 0o or 0b
// prefixed, as strconv.ParseUint reads with base 0) written in width bits,
// most significant bit first. The fields follow each other with no
// alignment, and the last byte is padded with zero bits.
//
// Bits panics on a malformed field or a value that does not fit its width:
// those are mistakes in the test, not in the data under test.
func Bits(fields ...string) []byte {
	var out []byte
	var cur byte
	n := 0
	for _, f := range fields {
		v, w, ok := strings.Cut(f, "/")
		val, err := strconv.ParseUint(v, 0, 64)
		width, werr := strconv.Atoi(w)
		if !ok || err != nil || werr != nil || width < 0 || width > 64 ||
			width < 64 && val>>width != 0 {
			panic(fmt.Sprintf("mediatest: Bits: bad field %q", f))
		}
		for i := width - 1; i >= 0; i-- {
			cur = cur<<1 | byte(val>>i&1)
			if n++; n == 8 {
				out, cur, n = append(out, cur), 0, 0
			}
		}
	}
	if n > 0 {
		out = append(out, cur<<(8-n))
	}
	return out
}
