package opus

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// ffmpegStereoHead is the OpusHead that ffmpeg 5.1 with libopus wrote for
//
//	ffmpeg -f lavfi -i sine=frequency=440:duration=2:sample_rate=16000 -ac 2 -c:a libopus y.opus
//
// as ffprobe -show_data prints it (extradata): pre-skip 0x0138 = 312 and
// input rate 0x3e80 = 16000, both little-endian.
var ffmpegStereoHead = []byte{
	'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 0x01, 0x02, 0x38, 0x01, 0x80, 0x3e, 0x00, 0x00,
	0x00, 0x00, 0x00,
}

// headTests feed the marshal, parse and fuzz tests.
var headTests = []struct {
	name string
	head Head
	enc  []byte
}{
	{
		"ffmpeg stereo",
		Head{Version: 1, Channels: 2, PreSkip: 312, InputSampleRate: 16000},
		ffmpegStereoHead,
	},
	{
		"mono 48k gain -1.5 dB",
		Head{Version: 1, Channels: 1, PreSkip: 3840, InputSampleRate: 48000, OutputGain: -384},
		[]byte{'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, 1, 0x00, 0x0f, 0x80, 0xbb, 0, 0, 0x80, 0xfe, 0},
	},
	{
		"5.1 family 1",
		Head{Version: 1, Channels: 6, PreSkip: 312, InputSampleRate: 48000, MappingFamily: 1,
			StreamCount: 4, CoupledCount: 2, ChannelMapping: []byte{0, 4, 1, 2, 3, 5}},
		[]byte{'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, 6, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 1,
			4, 2, 0, 4, 1, 2, 3, 5},
	},
	{
		"family 255 with a silent channel",
		Head{Version: 1, Channels: 3, MappingFamily: 255, StreamCount: 1, ChannelMapping: []byte{0, 255, 0}},
		[]byte{'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 255,
			1, 0, 0, 255, 0},
	},
}

func TestHeadMarshal(t *testing.T) {
	for _, tt := range headTests {
		t.Run(tt.name, func(t *testing.T) { testMarshal(t, tt.head, tt.enc) })
	}
}

func TestParseHead(t *testing.T) {
	for _, tt := range headTests {
		t.Run(tt.name, func(t *testing.T) {
			testParse(t, ParseHead, tt.enc, tt.head)
			// The mapping must not alias the input.
			if len(tt.head.ChannelMapping) > 0 {
				enc := append([]byte(nil), tt.enc...)
				h, _ := ParseHead(enc)
				enc[21] ^= 0xff
				if h.ChannelMapping[0] != tt.head.ChannelMapping[0] {
					t.Fatal("ChannelMapping aliases the input")
				}
			}
		})
	}
}

func TestParseHeadErrors(t *testing.T) {
	good := ffmpegStereoHead
	mod := func(i int, v byte) []byte {
		b := append([]byte(nil), good...)
		b[i] = v
		return b
	}
	fam1 := headTests[2].enc
	mod1 := func(i int, v byte) []byte {
		b := append([]byte(nil), fam1...)
		b[i] = v
		return b
	}
	tests := []struct {
		name string
		b    []byte
		err  error
	}{
		{"empty", nil, ErrInvalidHead},
		{"short", good[:18], ErrInvalidHead},
		{"magic", mod(0, 'o'), ErrInvalidHead},
		{"OpusTags", []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), ErrInvalidHead},
		{"version 16", mod(8, 16), ErrUnsupportedVersion},
		{"zero channels", mod(9, 0), ErrInvalidHead},
		{"3 channels family 0", mod(9, 3), ErrInvalidHead},
		{"family 1 without table", mod(18, 1), ErrInvalidHead},
		{"family 1 short table", fam1[:len(fam1)-1], ErrInvalidHead},
		{"zero streams", mod1(19, 0), ErrInvalidHead},
		{"coupled > streams", mod1(20, 5), ErrInvalidHead},
		{"mapping out of range", mod1(22, 6), ErrInvalidHead},
		{"9 channels family 1", append(mod1(9, 9), 0, 0, 0), ErrInvalidHead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if h, err := ParseHead(tt.b); !errors.Is(err, tt.err) {
				t.Fatalf("ParseHead = %+v, %v; want %v", h, err, tt.err)
			}
		})
	}
	// Major version 0 with a minor version is accepted.
	if h, err := ParseHead(mod(8, 15)); err != nil || h.Version != 15 {
		t.Errorf("ParseHead(version 15) = %+v, %v", h, err)
	}
}

func TestHeadMarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		head Head
		err  error
	}{
		{"zero value", Head{}, ErrInvalidHead},
		{"version 16", Head{Version: 16, Channels: 1}, ErrUnsupportedVersion},
		{"3 channels family 0", Head{Channels: 3}, ErrInvalidHead},
		{"table with family 0", Head{Channels: 2, ChannelMapping: []byte{0, 1}}, ErrInvalidHead},
		{"mapping length", Head{Channels: 2, MappingFamily: 1, StreamCount: 1, CoupledCount: 1, ChannelMapping: []byte{0}}, ErrInvalidHead},
		{"too many streams", Head{Channels: 1, MappingFamily: 255, StreamCount: 200, CoupledCount: 100, ChannelMapping: []byte{0}}, ErrInvalidHead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.head.AppendBinary([]byte("keep"))
			if !errors.Is(err, tt.err) || string(b) != "keep" {
				t.Fatalf("AppendBinary = %q, %v; want %v", b, err, tt.err)
			}
			if _, err := tt.head.MarshalBinary(); !errors.Is(err, tt.err) {
				t.Fatalf("MarshalBinary error = %v; want %v", err, tt.err)
			}
		})
	}
	// Version 0 is written as 1.
	b, err := Head{Channels: 1}.MarshalBinary()
	if err != nil || b[8] != 1 {
		t.Errorf("version 0 written as % x, %v", b, err)
	}
}

func TestDefaultHead(t *testing.T) {
	for ch := 1; ch <= 255; ch++ {
		h := DefaultHead(uint8(ch), 48000)
		if h.Version != 1 || h.PreSkip != 312 || h.Channels != uint8(ch) || h.InputSampleRate != 48000 {
			t.Fatalf("DefaultHead(%d) = %+v", ch, h)
		}
		b, err := h.MarshalBinary()
		if err != nil {
			t.Fatalf("DefaultHead(%d).MarshalBinary: %v", ch, err)
		}
		if p, err := ParseHead(b); err != nil || !reflect.DeepEqual(p, h) {
			t.Fatalf("DefaultHead(%d) round trip = %+v, %v", ch, p, err)
		}
		wantFamily := uint8(0)
		switch {
		case ch > 8:
			wantFamily = 255
		case ch > 2:
			wantFamily = 1
		}
		if h.MappingFamily != wantFamily {
			t.Fatalf("DefaultHead(%d) family %d, want %d", ch, h.MappingFamily, wantFamily)
		}
	}
	b, _ := DefaultHead(2, 16000).MarshalBinary()
	if !bytes.Equal(b, ffmpegStereoHead) {
		t.Errorf("DefaultHead(2, 16000) = % x, want ffmpeg's % x", b, ffmpegStereoHead)
	}
	// DefaultHead's mapping must not share the package table.
	h := DefaultHead(6, 48000)
	h.ChannelMapping[0] = 9
	if DefaultHead(6, 48000).ChannelMapping[0] != 0 {
		t.Error("DefaultHead shares its channel mapping")
	}
}

func FuzzParseHead(f *testing.F) {
	for _, tt := range headTests {
		f.Add(tt.enc)
	}
	f.Add([]byte("OpusHead\x01\x02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHead(b)
		if err != nil {
			return
		}
		enc, err := h.MarshalBinary()
		if err != nil {
			t.Fatalf("parsed %+v but cannot marshal it: %v", h, err)
		}
		if h.Version != 0 && !bytes.Equal(enc, b[:h.Len()]) {
			t.Fatalf("round trip\n got % x\nwant % x", enc, b[:h.Len()])
		}
		h2, err := ParseHead(enc)
		if err != nil {
			t.Fatal(err)
		}
		if h.Version == 0 {
			h.Version = 1
		}
		if !reflect.DeepEqual(h, h2) {
			t.Fatalf("round trip %+v != %+v", h, h2)
		}
	})
}
