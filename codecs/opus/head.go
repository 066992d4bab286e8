package opus

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// headMagic starts the ID header.
var headMagic = []byte("OpusHead")

// Channel mapping families (RFC 7845 section 5.1.1).
const (
	MappingFamilyRTP       = 0   // mono or stereo, no mapping table
	MappingFamilyVorbis    = 1   // 1-8 channels in Vorbis order
	MappingFamilyUndefined = 255 // any channels, no defined meaning
)

// DefaultPreSkip is the pre-skip libopus encoders report at 48 kHz
// (6.5 ms), which ffmpeg and browsers write into OpusHead.
const DefaultPreSkip = 312

// Head is the Opus ID header, the "OpusHead" packet (RFC 7845 section 5.1).
// It is also the Matroska/WebM CodecPrivate of A_OPUS. Its multi-byte
// fields are little-endian on the wire (unlike the big-endian dOps box of
// MP4).
type Head struct {
	Version         uint8  // 1; the high 4 bits are the major version, which must be 0
	Channels        uint8  // output channel count, at least 1
	PreSkip         uint16 // 48 kHz samples to discard from the decoder output at the start
	InputSampleRate uint32 // the encoder's input rate in Hz, informative only (0: unknown)
	OutputGain      int16  // Q7.8 dB gain to apply on output
	MappingFamily   uint8  // 0 (mono/stereo), 1 (Vorbis order), 255, ...

	// The channel mapping table, present only when MappingFamily != 0.
	StreamCount    uint8  // streams in each packet, at least 1
	CoupledCount   uint8  // how many of them are stereo, at most StreamCount
	ChannelMapping []byte // one entry per channel: a decoded channel index or 255 (silence)
}

// vorbisMappings are libopus' surround layouts for family 1, indexed by
// channel count - 1: stream count, coupled count and mapping.
var vorbisMappings = [8]struct {
	streams, coupled uint8
	mapping          []byte
}{
	{1, 0, []byte{0}},
	{1, 1, []byte{0, 1}},
	{2, 1, []byte{0, 2, 1}},
	{2, 2, []byte{0, 1, 2, 3}},
	{3, 2, []byte{0, 4, 1, 2, 3}},
	{4, 2, []byte{0, 4, 1, 2, 3, 5}},
	{4, 3, []byte{0, 4, 1, 2, 3, 5, 6}},
	{5, 3, []byte{0, 6, 1, 2, 3, 4, 5, 7}},
}

// DefaultHead returns the header a libopus encoder writes: version 1,
// pre-skip 312, no gain, and mapping family 0 for one or two channels.
// Three to eight channels get family 1 with libopus' surround layout; more
// channels get family 255 with one uncoupled stream per channel.
func DefaultHead(channels uint8, inputSampleRate uint32) Head {
	h := Head{
		Version:         1,
		Channels:        channels,
		PreSkip:         DefaultPreSkip,
		InputSampleRate: inputSampleRate,
	}
	switch {
	case channels <= 2:
	case channels <= 8:
		m := vorbisMappings[channels-1]
		h.MappingFamily = MappingFamilyVorbis
		h.StreamCount, h.CoupledCount = m.streams, m.coupled
		h.ChannelMapping = append([]byte(nil), m.mapping...)
	default:
		h.MappingFamily = MappingFamilyUndefined
		h.StreamCount = channels
		h.ChannelMapping = make([]byte, channels)
		for i := range h.ChannelMapping {
			h.ChannelMapping[i] = byte(i)
		}
	}
	return h
}

// Len returns the size of the encoded header: 19 bytes for family 0,
// 21 + Channels otherwise.
func (h Head) Len() int {
	if h.MappingFamily == 0 {
		return 19
	}
	return 21 + int(h.Channels)
}

// validate checks the fields that both the writer and the parser require.
func (h Head) validate() error {
	if h.Version>>4 != 0 {
		return fmt.Errorf("%w %d", ErrUnsupportedVersion, h.Version)
	}
	if h.Channels == 0 {
		return fmt.Errorf("%w: zero channels", ErrInvalidHead)
	}
	switch h.MappingFamily {
	case MappingFamilyRTP:
		if h.Channels > 2 {
			return fmt.Errorf("%w: %d channels in mapping family 0", ErrInvalidHead, h.Channels)
		}
		if len(h.ChannelMapping) != 0 || h.StreamCount != 0 || h.CoupledCount != 0 {
			return fmt.Errorf("%w: channel mapping table with mapping family 0", ErrInvalidHead)
		}
		return nil
	case MappingFamilyVorbis:
		if h.Channels > 8 {
			return fmt.Errorf("%w: %d channels in mapping family 1", ErrInvalidHead, h.Channels)
		}
	}
	if h.StreamCount == 0 || h.CoupledCount > h.StreamCount ||
		int(h.StreamCount)+int(h.CoupledCount) > 255 {
		return fmt.Errorf("%w: %d streams, %d coupled", ErrInvalidHead, h.StreamCount, h.CoupledCount)
	}
	if len(h.ChannelMapping) != int(h.Channels) {
		return fmt.Errorf("%w: channel mapping has %d entries for %d channels",
			ErrInvalidHead, len(h.ChannelMapping), h.Channels)
	}
	decoded := int(h.StreamCount) + int(h.CoupledCount)
	for _, m := range h.ChannelMapping {
		if m != 255 && int(m) >= decoded {
			return fmt.Errorf("%w: channel mapping index %d >= %d", ErrInvalidHead, m, decoded)
		}
	}
	return nil
}

// AppendBinary appends the encoded header to b (encoding.BinaryAppender).
// A Version of 0 is written as 1, the version RFC 7845 defines.
func (h Head) AppendBinary(b []byte) ([]byte, error) {
	if h.Version == 0 {
		h.Version = 1
	}
	if err := h.validate(); err != nil {
		return b, err
	}
	b = append(b, headMagic...)
	b = append(b, h.Version, h.Channels)
	b = binary.LittleEndian.AppendUint16(b, h.PreSkip)
	b = binary.LittleEndian.AppendUint32(b, h.InputSampleRate)
	b = binary.LittleEndian.AppendUint16(b, uint16(h.OutputGain))
	b = append(b, h.MappingFamily)
	if h.MappingFamily != 0 {
		b = append(b, h.StreamCount, h.CoupledCount)
		b = append(b, h.ChannelMapping...)
	}
	return b, nil
}

// MarshalBinary returns the encoded header (encoding.BinaryMarshaler).
func (h Head) MarshalBinary() ([]byte, error) {
	return h.AppendBinary(make([]byte, 0, h.Len()))
}

// UnmarshalBinary parses an ID header into h (encoding.BinaryUnmarshaler).
func (h *Head) UnmarshalBinary(b []byte) error {
	v, err := ParseHead(b)
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// ParseHead parses an ID header packet. Bytes after the header are
// ignored, as RFC 7845 asks of decoders. ChannelMapping does not alias b.
func ParseHead(b []byte) (Head, error) {
	if len(b) < 19 || !bytes.Equal(b[:8], headMagic) {
		return Head{}, ErrInvalidHead
	}
	h := Head{
		Version:         b[8],
		Channels:        b[9],
		PreSkip:         binary.LittleEndian.Uint16(b[10:]),
		InputSampleRate: binary.LittleEndian.Uint32(b[12:]),
		OutputGain:      int16(binary.LittleEndian.Uint16(b[16:])),
		MappingFamily:   b[18],
	}
	if h.MappingFamily != 0 {
		if len(b) < 21 || len(b) < 21+int(h.Channels) {
			return Head{}, fmt.Errorf("%w: short channel mapping table", ErrInvalidHead)
		}
		h.StreamCount, h.CoupledCount = b[19], b[20]
		h.ChannelMapping = append([]byte(nil), b[21:21+int(h.Channels)]...)
	}
	if err := h.validate(); err != nil {
		return Head{}, err
	}
	return h, nil
}
