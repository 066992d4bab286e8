// Package ogg reads and writes Ogg pages (RFC 3533) and writes Ogg Opus
// streams (RFC 7845).
//
// Reader reads pages, checking each one's CRC; PacketReader reassembles the
// packets of one logical stream from them; OpusWriter turns Opus packets and
// their timestamps into a playable Ogg Opus stream on a plain io.Writer;
// Fix ends a stream that was cut off at its last whole page.
package ogg

import "errors"

var (
	// ErrBadCRC means a page's checksum does not match its contents.
	ErrBadCRC = errors.New("ogg: bad page checksum")
	// ErrBadPage means bytes that should start a page do not: a missing
	// "OggS" capture pattern, an unknown version, or a page whose lacing
	// values and body disagree.
	ErrBadPage = errors.New("ogg: bad page")
	// ErrMissingPage means a PacketReader saw a gap in the page sequence
	// numbers of its stream; the packet the lost page held is dropped.
	ErrMissingPage = errors.New("ogg: missing page")
	// ErrPacketTooLarge means a packet grew past the PacketReader's limit.
	ErrPacketTooLarge = errors.New("ogg: packet too large")
	// ErrClosed means a packet was written to a closed OpusWriter.
	ErrClosed = errors.New("ogg: writer closed")
)
