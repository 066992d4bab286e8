// Package vp8 reads the few facts a muxer needs from a VP8 frame: whether it
// is a key frame and, for key frames, the picture size (RFC 6386 section 9.1).
//
// The functions look only at the frame tag and the key frame header; they do
// not decode the compressed data. They never panic on bad input.
package vp8

import "errors"

// Errors returned by ParseFrameHeader.
var (
	// ErrShortFrame means the frame is shorter than its frame tag (3 bytes)
	// or, for a key frame, than the tag plus the key frame header (10 bytes).
	ErrShortFrame = errors.New("vp8: frame too short")
	// ErrBadStartCode means a key frame does not carry the start code
	// 9D 01 2A after its frame tag.
	ErrBadStartCode = errors.New("vp8: bad key frame start code")
)

// FrameTagSize is the size of the frame tag that starts every VP8 frame.
const FrameTagSize = 3

// KeyFrameHeaderSize is the size of the frame tag plus the key frame header
// (start code, width and height) at the start of a key frame.
const KeyFrameHeaderSize = 10

// FrameHeader is the VP8 frame tag plus, for key frames, the key frame
// header (RFC 6386 section 9.1).
type FrameHeader struct {
	KeyFrame      bool   // frame type 0: a key frame
	Version       uint8  // 0-3: reconstruction filter and loop filter type
	ShowFrame     bool   // the frame is meant to be displayed
	FirstPartSize uint32 // size in bytes of the first data partition (19 bits)

	// Width and Height are the frame size in pixels (14 bits each), and
	// HorizScale and VertScale the upscaling factors (2 bits each) the
	// decoder applies for display. They are set for key frames only.
	Width, Height         uint16
	HorizScale, VertScale uint8
}

// ParseFrameHeader parses the frame tag at the start of frame and, when it
// says key frame, the key frame header after it. It returns ErrShortFrame
// when frame is too short and ErrBadStartCode when a key frame lacks the
// start code 9D 01 2A.
func ParseFrameHeader(frame []byte) (FrameHeader, error) {
	if len(frame) < FrameTagSize {
		return FrameHeader{}, ErrShortFrame
	}
	tag := uint32(frame[0]) | uint32(frame[1])<<8 | uint32(frame[2])<<16
	h := FrameHeader{
		KeyFrame:      tag&1 == 0,
		Version:       uint8(tag>>1) & 7,
		ShowFrame:     tag>>4&1 == 1,
		FirstPartSize: tag >> 5,
	}
	if !h.KeyFrame {
		return h, nil
	}
	if len(frame) < KeyFrameHeaderSize {
		return FrameHeader{}, ErrShortFrame
	}
	if frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a {
		return FrameHeader{}, ErrBadStartCode
	}
	w := uint16(frame[6]) | uint16(frame[7])<<8
	ht := uint16(frame[8]) | uint16(frame[9])<<8
	h.Width, h.HorizScale = w&0x3fff, uint8(w>>14)
	h.Height, h.VertScale = ht&0x3fff, uint8(ht>>14)
	return h, nil
}

// IsKeyFrame reports whether frame is a VP8 key frame: its frame tag says
// key frame and the key frame start code follows. It returns false for
// anything too short or malformed.
func IsKeyFrame(frame []byte) bool {
	return len(frame) >= KeyFrameHeaderSize && frame[0]&1 == 0 &&
		frame[3] == 0x9d && frame[4] == 0x01 && frame[5] == 0x2a
}
