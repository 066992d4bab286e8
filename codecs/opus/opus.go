// Package opus holds the Opus bitstream facts a muxer needs: the TOC byte and
// packet durations (RFC 6716 section 3.1), and the ID and comment headers of
// the Ogg mapping (RFC 7845 section 5), which other containers reuse (the
// Matroska CodecPrivate is the OpusHead packet).
//
// All durations are counted at 48 kHz, the rate Opus timestamps always use,
// whatever the encoder's input rate was.
package opus

import "errors"

// SampleRate is the rate of Opus timestamps, granule positions and pre-skip,
// in samples per second.
const SampleRate = 48000

// MaxPacketSamples is the longest duration of one packet, 120 ms at 48 kHz.
const MaxPacketSamples = 5760

var (
	// ErrInvalidPacket means an Opus packet is empty or its TOC and frame
	// count do not describe a valid duration.
	ErrInvalidPacket = errors.New("opus: invalid packet")
	// ErrInvalidHead means an ID header ("OpusHead") is malformed or cannot
	// be written.
	ErrInvalidHead = errors.New("opus: invalid OpusHead")
	// ErrInvalidTags means a comment header ("OpusTags") is malformed or
	// cannot be written.
	ErrInvalidTags = errors.New("opus: invalid OpusTags")
	// ErrUnsupportedVersion means an OpusHead has a major version other
	// than 0 (RFC 7845 section 5.1: versions 16 and up are incompatible).
	ErrUnsupportedVersion = errors.New("opus: unsupported OpusHead version")
)
