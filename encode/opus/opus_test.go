package opus_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/gomediarecorder/mediarecorder"
	codec "github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/encode/opus"
)

func TestConfig(t *testing.T) {
	for _, ch := range []int{0, 3} {
		if _, err := opus.New(mediarecorder.AudioEncoderConfig{Channels: ch}); err == nil {
			t.Errorf("New with %d channels: no error", ch)
		}
	}
	e, err := opus.New(mediarecorder.AudioEncoderConfig{Channels: 2, BitsPerSecond: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Encode(make([]float32, 10)); err == nil {
		t.Error("Encode of 10 samples: no error")
	}
}

// FuzzEncode feeds the encoder arbitrary samples (NaN, infinities, full
// scale square waves) at arbitrary settings: every packet it returns must
// be a valid Opus packet of 20 ms, and nothing may panic.
func FuzzEncode(f *testing.F) {
	f.Add(uint8(2), uint32(64000), true, []byte{0, 0, 0x80, 0x3f, 0, 0, 0x80, 0xbf})
	f.Add(uint8(1), uint32(6000), false, []byte{0, 0, 0xc0, 0x7f})
	f.Add(uint8(2), uint32(510000), true, []byte{0, 0, 0x80, 0x7f, 0xff, 0xff, 0x7f, 0x7f})
	f.Fuzz(func(t *testing.T, ch uint8, bps uint32, cbr bool, data []byte) {
		channels := int(ch%2) + 1
		mode := mediarecorder.BitrateVariable
		if cbr {
			mode = mediarecorder.BitrateConstant
		}
		e, err := opus.New(mediarecorder.AudioEncoderConfig{Channels: channels, BitsPerSecond: uint64(bps), BitrateMode: mode})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		n := opus.FrameSize * channels
		pcm := make([]float32, n)
		for frame := 0; frame < 3; frame++ {
			for i := range pcm {
				j := (frame*n + i) * 4 % max(4, len(data)-len(data)%4)
				if len(data) >= 4 {
					pcm[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[j:]))
				}
			}
			pkt, err := e.Encode(pcm)
			if err != nil {
				t.Fatalf("frame %d: %v", frame, err)
			}
			if err := codec.Validate(pkt); err != nil {
				t.Fatalf("frame %d: invalid packet: %v", frame, err)
			}
			if d, err := codec.PacketDuration(pkt); err != nil || d.Milliseconds() != 20 {
				t.Fatalf("frame %d: duration %v, %v", frame, d, err)
			}
		}
	})
}
