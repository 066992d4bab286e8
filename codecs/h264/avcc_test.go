package h264

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

var ppsX264 = []byte{0x68, 0xef, 0xbc, 0xb0}

func TestAVCDecoderConfigurationRecord(t *testing.T) {
	spsBaseline := spsTests[1].nalu
	spsExt := []byte{0x6d, 0x80}
	for _, tt := range []struct {
		name     string
		sps, pps [][]byte
		want     []byte
		err      error
	}{
		// What ffmpeg writes into MP4 for testdata/high-636x358.h264:
		// version 1, profile 100, compatibility 0, level 30, ff (4-byte
		// lengths), e1 (1 SPS), length 30, SPS, 1 PPS, length 4, PPS, then
		// fd (4:2:0), f8 f8 (8-bit), 0 SPS extensions.
		{"high", [][]byte{spsHigh636}, [][]byte{ppsX264},
			join([]byte{1, 100, 0, 30, 0xff, 0xe1, 0, 30}, spsHigh636, []byte{1, 0, 4}, ppsX264, []byte{0xfd, 0xf8, 0xf8, 0}), nil},
		// Baseline: no high-profile fields.
		{"baseline", [][]byte{spsBaseline}, [][]byte{ppsX264, {0x68, 0xce}},
			join([]byte{1, 66, 0xc0, 40, 0xff, 0xe1, 0, byte(len(spsBaseline))}, spsBaseline, []byte{2, 0, 4}, ppsX264, []byte{0, 2, 0x68, 0xce}), nil},
		// 4:2:2 10-bit (profile 122) with an SPS extension.
		{"high 4:2:2 10-bit", [][]byte{spsTests[2].nalu, spsExt}, [][]byte{ppsX264},
			join([]byte{1, 122, 0, 31, 0xff, 0xe1, 0, byte(len(spsTests[2].nalu))}, spsTests[2].nalu, []byte{1, 0, 4}, ppsX264,
				[]byte{0xfe, 0xfa, 0xfa, 1, 0, 2}, spsExt), nil},
		// Profile 244 has the extra fields too (every profile but 66, 77, 88).
		{"high 4:4:4", [][]byte{spsTests[3].nalu, spsExt}, nil,
			join([]byte{1, 244, 0, 50, 0xff, 0xe1, 0, byte(len(spsTests[3].nalu))}, spsTests[3].nalu, []byte{0},
				[]byte{0xff, 0xf8, 0xf8, 1, 0, 2}, spsExt), nil},
		{"no sps", nil, [][]byte{ppsX264}, nil, ErrNoSPS},
		{"only sps ext", [][]byte{spsExt}, nil, nil, ErrNoSPS},
		{"pps as sps", [][]byte{ppsX264}, nil, nil, ErrParameterSets},
		{"sps as pps", [][]byte{spsHigh636}, [][]byte{spsHigh636}, nil, ErrParameterSets},
		{"empty pps", [][]byte{spsHigh636}, [][]byte{{}}, nil, ErrParameterSets},
		{"empty sps", [][]byte{{}}, nil, nil, ErrParameterSets},
		{"bad sps", [][]byte{{0x67, 0x64}}, nil, nil, ErrShortSPS},
		{"too many sps", bytes.Split(bytes.Repeat(append([]byte{'|'}, spsHigh636...), 32)[1:], []byte{'|'}), nil, nil, ErrParameterSets},
		{"pps too long", [][]byte{spsHigh636}, [][]byte{append([]byte{0x68}, make([]byte, 65535)...)}, nil, ErrParameterSets},
	} {
		got, err := AVCDecoderConfigurationRecord(tt.sps, tt.pps)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
			continue
		}
		if !bytes.Equal(got, tt.want) {
			t.Errorf("%s:\n got %x\nwant %x", tt.name, got, tt.want)
		}
	}
}

func join(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func ExampleAVCDecoderConfigurationRecord() {
	sps := []byte{0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f, 0xee, 0x6f, 0xfc, 0x16, 0x60,
		0x16, 0x5c, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0f, 0x03, 0xc5, 0x8b, 0x65, 0x80}
	pps := []byte{0x68, 0xef, 0xbc, 0xb0}
	avcC, err := AVCDecoderConfigurationRecord([][]byte{sps}, [][]byte{pps})
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x ... % x\n", avcC[:8], avcC[len(avcC)-11:])
	// Output: 01 64 00 1e ff e1 00 1e ... 01 00 04 68 ef bc b0 fd f8 f8 00
}
