package opus

import (
	"errors"
	"testing"
)

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		pkt  []byte
		ok   bool
	}{
		{"empty", nil, false},
		{"code 0 TOC only (DTX)", []byte{0xf8}, true},
		{"code 0", []byte{0xf8, 1, 2, 3}, true},
		{"code 1 even", []byte{0xf9, 1, 2, 3, 4}, true},
		{"code 1 odd", []byte{0xf9, 1, 2, 3}, false},
		{"code 2 fits", []byte{0xfa, 2, 9, 9, 8}, true},
		{"code 2 too long", []byte{0xfa, 9, 1}, false},
		{"code 2 no length", []byte{0xfa}, false},
		{"code 3 no count", []byte{0xfb}, false},
		{"code 3 zero frames", []byte{0xfb, 0x00}, false},
		{"code 3 CBR 2 frames", []byte{0xfb, 0x02, 1, 2}, true},
		{"code 3 CBR uneven", []byte{0xfb, 0x02, 1, 2, 3}, false},
		{"code 3 VBR", []byte{0xfb, 0x82, 1, 7, 8, 9}, true},
		{"code 3 VBR overflow", []byte{0xfb, 0x82, 9, 7}, false},
		{"code 3 padding", []byte{0xfb, 0x41, 2, 7, 0, 0}, true},
		{"code 3 padding too long", []byte{0xfb, 0x41, 9, 7}, false},
		{"code 3 over 120 ms", []byte{0xfb, 0x07, 1, 2, 3, 4, 5, 6, 7}, false},
		{"garbage", []byte{0xff, 0xff, 0xff}, false},
	} {
		err := Validate(c.pkt)
		if (err == nil) != c.ok {
			t.Errorf("%s: Validate = %v, want ok=%v", c.name, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("%s: error %v is not ErrInvalidPacket", c.name, err)
		}
	}
}

func FuzzValidate(f *testing.F) {
	for _, s := range [][]byte{{0xf8, 1}, {0xfb, 0x82, 1, 7, 8, 9}, {0xfb, 0x41, 2, 7, 0, 0}, {0xfa, 2, 9, 9, 8}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if Validate(pkt) == nil {
			if _, err := PacketSamples(pkt); err != nil {
				t.Fatalf("valid packet without a duration: %v", err)
			}
		}
	})
}
