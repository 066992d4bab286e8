package mediatest

import (
	"bytes"
	"fmt"
	"testing"
)

func TestBits(t *testing.T) {
	for _, tt := range []struct {
		fields []string
		want   []byte
	}{
		{nil, nil},
		{[]string{"0/0"}, nil},
		{[]string{"1/1"}, []byte{0x80}},
		{[]string{"2/2", "0x49/8", "0x83/8", "0x42/8"}, []byte{0x92, 0x60, 0xd0, 0x80}},
		{[]string{"0b101/3", "0o7/3", "3/2", "1/1"}, []byte{0xbf, 0x80}},
		{[]string{"0xdeadbeef/32"}, []byte{0xde, 0xad, 0xbe, 0xef}},
		{[]string{"0/33", "1/1"}, []byte{0, 0, 0, 0, 0x40}},
		{[]string{"0xffffffffffffffff/64"}, bytes.Repeat([]byte{0xff}, 8)},
	} {
		if got := Bits(tt.fields...); !bytes.Equal(got, tt.want) {
			t.Errorf("Bits(%q) = %x, want %x", tt.fields, got, tt.want)
		}
	}
}

func TestBitsPanics(t *testing.T) {
	for _, f := range []string{"1", "1/", "x/3", "-1/3", "8/3", "010/3", "1/65", "1/-1", "2/1"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Bits(%q) did not panic", f)
				}
			}()
			Bits(f)
		}()
	}
}

func ExampleBits() {
	// A VP9 key frame: frame_marker 2, profile 0 (two bits, low first),
	// show_existing_frame 0, frame_type 0 (key), show_frame 1,
	// error_resilient_mode 0, then the sync code.
	fmt.Printf("% x\n", Bits("2/2", "0/1", "0/1", "0/1", "0/1", "1/1", "0/1", "0x49/8", "0x83/8", "0x42/8"))
	// Output:
	// 82 49 83 42
}
