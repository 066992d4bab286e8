package opus

import "time"

// TOC is the table-of-contents byte that starts every Opus packet
// (RFC 6716 section 3.1).
type TOC struct {
	Config         uint8 // 0-31: mode, bandwidth and frame duration
	Stereo         bool  // the s bit
	FrameCountCode uint8 // 0-3: one frame, two equal, two different, arbitrary
}

// Mode is the coding mode selected by a TOC configuration.
type Mode uint8

// Opus coding modes.
const (
	ModeSILK   Mode = iota // configurations 0-11
	ModeHybrid             // configurations 12-15
	ModeCELT               // configurations 16-31
)

// String returns "SILK", "Hybrid" or "CELT".
func (m Mode) String() string {
	switch m {
	case ModeSILK:
		return "SILK"
	case ModeHybrid:
		return "Hybrid"
	default:
		return "CELT"
	}
}

// ParseTOC splits a TOC byte into its fields. Every byte is a valid TOC.
func ParseTOC(b byte) TOC {
	return TOC{Config: b >> 3, Stereo: b&0x04 != 0, FrameCountCode: b & 0x03}
}

// Byte returns the TOC as one byte, the inverse of ParseTOC.
func (t TOC) Byte() byte {
	b := t.Config<<3 | t.FrameCountCode&0x03
	if t.Stereo {
		b |= 0x04
	}
	return b
}

// Mode returns the coding mode of the configuration.
func (t TOC) Mode() Mode {
	switch c := t.Config & 0x1f; {
	case c < 12:
		return ModeSILK
	case c < 16:
		return ModeHybrid
	default:
		return ModeCELT
	}
}

// frameSamples holds the frame length at 48 kHz for each configuration
// (RFC 6716 section 3.1, table 2).
var frameSamples = [32]uint16{
	480, 960, 1920, 2880, // SILK NB: 10, 20, 40, 60 ms
	480, 960, 1920, 2880, // SILK MB
	480, 960, 1920, 2880, // SILK WB
	480, 960, // Hybrid SWB: 10, 20 ms
	480, 960, // Hybrid FB
	120, 240, 480, 960, // CELT NB: 2.5, 5, 10, 20 ms
	120, 240, 480, 960, // CELT WB
	120, 240, 480, 960, // CELT SWB
	120, 240, 480, 960, // CELT FB
}

// FrameSamples returns the length of one frame in 48 kHz samples
// (120 to 2880).
func (t TOC) FrameSamples() int {
	return int(frameSamples[t.Config&0x1f])
}

// FrameDuration returns the length of one frame, 2.5 ms to 60 ms.
func (t TOC) FrameDuration() time.Duration {
	return samplesToDuration(int64(t.FrameSamples()))
}

// FrameCount returns the number of frames in pkt, reading the frame count
// byte of code 3 packets. Packets longer than 120 ms are invalid.
func FrameCount(pkt []byte) (int, error) {
	_, n, err := parse(pkt)
	return n, err
}

// PacketSamples returns the duration of an Opus packet in 48 kHz samples:
// the number of frames times the frame length of its TOC. It returns
// ErrInvalidPacket for an empty packet, a code 3 packet without its frame
// count byte or with a count of 0, and a packet longer than 120 ms.
func PacketSamples(pkt []byte) (int, error) {
	fs, n, err := parse(pkt)
	return fs * n, err
}

// PacketDuration returns the duration of an Opus packet; see PacketSamples.
func PacketDuration(pkt []byte) (time.Duration, error) {
	n, err := PacketSamples(pkt)
	if err != nil {
		return 0, err
	}
	return samplesToDuration(int64(n)), nil
}

// parse returns the frame length and frame count of pkt.
func parse(pkt []byte) (frameLen, frames int, err error) {
	if len(pkt) == 0 {
		return 0, 0, ErrInvalidPacket
	}
	t := ParseTOC(pkt[0])
	switch t.FrameCountCode {
	case 0:
		frames = 1
	case 1, 2:
		frames = 2
	default:
		if len(pkt) < 2 {
			return 0, 0, ErrInvalidPacket
		}
		frames = int(pkt[1] & 0x3f)
		if frames == 0 {
			return 0, 0, ErrInvalidPacket
		}
	}
	frameLen = t.FrameSamples()
	if frameLen*frames > MaxPacketSamples {
		return 0, 0, ErrInvalidPacket
	}
	return frameLen, frames, nil
}

// samplesToDuration converts 48 kHz samples to a duration, rounding to the
// nearest nanosecond without overflowing for long streams.
func samplesToDuration(n int64) time.Duration {
	if n < 0 {
		return -samplesToDuration(-n)
	}
	s, r := n/SampleRate, n%SampleRate
	return time.Duration(s)*time.Second + (time.Duration(r)*time.Second+SampleRate/2)/SampleRate
}

// DurationToSamples converts a duration to 48 kHz samples, rounding to the
// nearest sample (halves away from zero).
func DurationToSamples(d time.Duration) int64 {
	s, r := d/time.Second, d%time.Second
	// r*48000 < 4.8e13: no overflow.
	rs := int64(r) * SampleRate
	if rs >= 0 {
		rs = (rs + int64(time.Second)/2) / int64(time.Second)
	} else {
		rs = (rs - int64(time.Second)/2) / int64(time.Second)
	}
	return int64(s)*SampleRate + rs
}

// SamplesToDuration converts 48 kHz samples to a duration, rounded to the
// nearest nanosecond.
func SamplesToDuration(n int64) time.Duration { return samplesToDuration(n) }
