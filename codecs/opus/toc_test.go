package opus

import (
	"errors"
	"testing"
	"time"
)

func TestParseTOC(t *testing.T) {
	for b := range 256 {
		toc := ParseTOC(byte(b))
		if got := toc.Byte(); got != byte(b) {
			t.Fatalf("ParseTOC(%#x).Byte() = %#x", b, got)
		}
		if toc.Config > 31 || toc.FrameCountCode > 3 {
			t.Fatalf("ParseTOC(%#x) = %+v", b, toc)
		}
	}
	if got, want := ParseTOC(0xfc), (TOC{Config: 31, Stereo: true, FrameCountCode: 0}); got != want {
		t.Errorf("ParseTOC(0xfc) = %+v, want %+v", got, want)
	}
}

func TestFrameDuration(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	tests := []struct {
		config uint8
		want   time.Duration
		mode   Mode
	}{
		{0, ms(10), ModeSILK}, {1, ms(20), ModeSILK}, {2, ms(40), ModeSILK}, {3, ms(60), ModeSILK},
		{9, ms(20), ModeSILK}, {11, ms(60), ModeSILK},
		{12, ms(10), ModeHybrid}, {13, ms(20), ModeHybrid}, {14, ms(10), ModeHybrid}, {15, ms(20), ModeHybrid},
		{16, ms(2.5), ModeCELT}, {17, ms(5), ModeCELT}, {18, ms(10), ModeCELT}, {19, ms(20), ModeCELT},
		{28, ms(2.5), ModeCELT}, {31, ms(20), ModeCELT},
	}
	for _, tt := range tests {
		toc := TOC{Config: tt.config}
		if got := toc.FrameDuration(); got != tt.want {
			t.Errorf("config %d: FrameDuration = %v, want %v", tt.config, got, tt.want)
		}
		if got := toc.Mode(); got != tt.mode {
			t.Errorf("config %d: Mode = %v, want %v", tt.config, got, tt.mode)
		}
	}
}

// packetTests feed TestPacketSamples and the fuzz seed corpus.
var packetTests = []struct {
	name    string
	pkt     []byte
	samples int
	err     error
}{
	{"empty", nil, 0, ErrInvalidPacket},
	{"CELT FB 20 ms code 0", []byte{0xf8, 0xff, 0xfe}, 960, nil},
	{"CELT FB 20 ms stereo DTX", []byte{0xfc}, 960, nil},
	{"SILK NB 60 ms", []byte{0x18, 1, 2}, 2880, nil},
	{"CELT 2.5 ms code 1", []byte{0x81, 1, 2}, 240, nil},
	{"SILK 60 ms code 2", []byte{0x1a, 1, 1, 2}, 5760, nil},
	{"code 3 no count", []byte{0x1b}, 0, ErrInvalidPacket},
	{"code 3 count 0", []byte{0x83, 0x00}, 0, ErrInvalidPacket},
	{"code 3 48x2.5 ms", []byte{0x83, 48}, 5760, nil},
	{"code 3 49x2.5 ms", []byte{0x83, 49}, 0, ErrInvalidPacket},
	{"code 3 VBR padding bits ignored", []byte{0x83, 0xc3, 1, 2}, 360, nil},
	{"code 3 3x60 ms", []byte{0x1b, 3}, 0, ErrInvalidPacket},
	{"code 3 2x60 ms", []byte{0x1b, 2}, 5760, nil},
	{"hybrid FB 10 ms code 3 x12", []byte{0x73, 12}, 5760, nil},
}

func TestPacketSamples(t *testing.T) {
	for _, tt := range packetTests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := PacketSamples(tt.pkt)
			if !errors.Is(err, tt.err) || n != tt.samples {
				t.Fatalf("PacketSamples = %d, %v; want %d, %v", n, err, tt.samples, tt.err)
			}
			d, err := PacketDuration(tt.pkt)
			if want := time.Duration(tt.samples) * time.Second / 48000; !errors.Is(err, tt.err) || d != want {
				t.Fatalf("PacketDuration = %v, %v; want %v, %v", d, err, want, tt.err)
			}
		})
	}
}

func TestDurationSamples(t *testing.T) {
	tests := []struct {
		d time.Duration
		n int64
	}{
		{0, 0},
		{20 * time.Millisecond, 960},
		{2500 * time.Microsecond, 120},
		{10417, 1},                            // 0.500016 samples: rounds up
		{10416, 0},                            // 0.49997 samples: rounds down
		{-20 * time.Millisecond, -960},        // negative
		{100 * time.Hour, 100 * 3600 * 48000}, // would overflow d*48000
	}
	for _, tt := range tests {
		if got := DurationToSamples(tt.d); got != tt.n {
			t.Errorf("DurationToSamples(%v) = %d, want %d", tt.d, got, tt.n)
		}
	}
	if got := SamplesToDuration(100 * 3600 * 48000); got != 100*time.Hour {
		t.Errorf("SamplesToDuration(100 h) = %v", got)
	}
	if got := SamplesToDuration(1); got != 20833 {
		t.Errorf("SamplesToDuration(1) = %d ns, want 20833", got)
	}
	if got := SamplesToDuration(-960); got != -20*time.Millisecond {
		t.Errorf("SamplesToDuration(-960) = %v", got)
	}
}

func FuzzPacketSamples(f *testing.F) {
	for _, tt := range packetTests {
		f.Add(tt.pkt)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		n, err := PacketSamples(pkt)
		if err != nil {
			if !errors.Is(err, ErrInvalidPacket) || n != 0 {
				t.Fatalf("PacketSamples = %d, %v", n, err)
			}
			return
		}
		toc := ParseTOC(pkt[0])
		if n <= 0 || n > MaxPacketSamples || n%toc.FrameSamples() != 0 {
			t.Fatalf("PacketSamples = %d for TOC %+v", n, toc)
		}
		frames, err := FrameCount(pkt)
		if err != nil || frames*toc.FrameSamples() != n {
			t.Fatalf("FrameCount = %d, %v", frames, err)
		}
		if d, err := PacketDuration(pkt); err != nil || d != SamplesToDuration(int64(n)) {
			t.Fatalf("PacketDuration = %v, %v", d, err)
		}
	})
}
