// Package vp9 reads the few facts a muxer needs from a VP9 frame: the
// profile, whether it is a key frame, and on key frames the colour
// configuration and picture size, all from the uncompressed header (VP9
// Bitstream Specification v0.6 section 6.2). It also builds the VP9
// CodecPrivate of Matroska and WebM.
//
// A VP9 frame handed to a container may be a superframe (Annex B of the
// specification): several frames followed by an index. The functions here
// look at the first frame of a superframe. They never panic on bad input.
package vp9

import (
	"errors"

	"github.com/gomediarecorder/mediarecorder/internal/bits"
)

// Errors returned by ParseHeader.
var (
	// ErrShortFrame means the frame ended inside the uncompressed header.
	ErrShortFrame = errors.New("vp9: frame too short")
	// ErrFrameMarker means the frame does not start with frame_marker 2.
	ErrFrameMarker = errors.New("vp9: bad frame marker")
	// ErrSyncCode means a key frame or intra-only frame lacks the sync code
	// 49 83 42.
	ErrSyncCode = errors.New("vp9: bad frame sync code")
	// ErrReservedBit means a reserved bit that must be zero is one.
	ErrReservedBit = errors.New("vp9: reserved bit set")
	// ErrSuperframe means the superframe index at the end of the frame is
	// inconsistent with the frame sizes it lists.
	ErrSuperframe = errors.New("vp9: bad superframe index")
)

// Colour spaces (color_space in the uncompressed header).
const (
	ColorSpaceUnknown  = 0
	ColorSpaceBT601    = 1
	ColorSpaceBT709    = 2
	ColorSpaceSMPTE170 = 3
	ColorSpaceSMPTE240 = 4
	ColorSpaceBT2020   = 5
	ColorSpaceReserved = 6
	ColorSpaceRGB      = 7
)

// Chroma subsampling values of the VP9 codec feature metadata and of vpcC.
const (
	ChromaSubsampling420Vertical  = 0 // 4:2:0, chroma sited between luma rows
	ChromaSubsampling420Colocated = 1 // 4:2:0, chroma sited with luma (0,0)
	ChromaSubsampling422          = 2
	ChromaSubsampling444          = 3
)

const syncCode0, syncCode1, syncCode2 = 0x49, 0x83, 0x42

// Header is the part of the VP9 uncompressed header up to the frame size.
// Fields a frame does not carry keep their zero value, except the defaults
// noted below.
type Header struct {
	Profile           uint8 // 0-3
	ShowExistingFrame bool  // the frame only shows an earlier frame
	FrameToShow       uint8 // frame_to_show_map_idx when ShowExistingFrame
	KeyFrame          bool
	ShowFrame         bool
	ErrorResilient    bool
	IntraOnly         bool // an intra-only (not key) frame

	// BitDepth is 8, 10 or 12 on key frames and intra-only frames; 8 on
	// other frames, which do not carry it.
	BitDepth     uint8
	ColorSpace   uint8 // ColorSpace*; on intra-only frames of profile 0, BT.601
	ColorRange   uint8 // 0 studio swing, 1 full swing
	SubsamplingX bool
	SubsamplingY bool

	// Width and Height are the frame size (frame_size) of key frames and
	// intra-only frames; 0 if unknown, and also 0 for the one size (65536)
	// a uint16 cannot hold. RenderWidth and RenderHeight are the intended
	// display size (render_size), which is the frame size unless it says
	// otherwise.
	Width, Height             uint16
	RenderWidth, RenderHeight uint16
}

// ParseHeader parses the uncompressed header of frame. If frame is a
// superframe it parses the first frame in it.
func ParseHeader(frame []byte) (Header, error) {
	first, err := firstFrame(frame)
	if err != nil {
		return Header{}, err
	}
	h, err := parseHeader(first)
	if err != nil {
		return Header{}, err
	}
	return h, nil
}

// IsKeyFrame reports whether frame (or the first frame of a superframe) is
// a key frame. It returns false for anything malformed.
func IsKeyFrame(frame []byte) bool {
	first, err := firstFrame(frame)
	if err != nil || len(first) < 4 {
		return false
	}
	// frame_marker(2) profile(2) [reserved_zero(1) if profile 3]
	// show_existing_frame(1) frame_type(1), then on key frames
	// show_frame(1) error_resilient_mode(1) and the sync code.
	b := bitReader{bits.NewReader(first)}
	if b.ReadBits(2) != 2 {
		return false
	}
	profile := b.ReadBits(1) | b.ReadBits(1)<<1
	if profile == 3 && b.ReadBits(1) != 0 {
		return false
	}
	if b.ReadBits(1) == 1 || b.ReadBits(1) != 0 { // show_existing_frame, frame_type
		return false
	}
	b.ReadBits(2)
	return b.ReadBits(8) == syncCode0 && b.ReadBits(8) == syncCode1 && b.ReadBits(8) == syncCode2 && b.Err() == nil
}

// Superframe returns the frames of a superframe (VP9 Annex B), each a
// subslice of frame. A frame without a superframe index is returned as the
// only element.
func Superframe(frame []byte) ([][]byte, error) {
	sizes, n, err := superframeIndex(frame)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return [][]byte{frame}, nil
	}
	frames := make([][]byte, 0, n)
	off := 0
	for i := 0; i < n; i++ {
		sz := indexSize(sizes, i, int(frame[len(frame)-1]>>3&3)+1)
		frames = append(frames, frame[off:off+sz:off+sz])
		off += sz
	}
	return frames, nil
}

// firstFrame returns the first frame of a superframe, or frame itself when
// it has no superframe index.
func firstFrame(frame []byte) ([]byte, error) {
	sizes, n, err := superframeIndex(frame)
	if err != nil || n == 0 {
		return frame, err
	}
	sz := indexSize(sizes, 0, int(frame[len(frame)-1]>>3&3)+1)
	return frame[:sz], nil
}

// superframeIndex finds the superframe index at the end of frame. It
// returns the frame size bytes of the index and the number of frames (0
// when there is no index).
func superframeIndex(frame []byte) (sizes []byte, n int, err error) {
	if len(frame) == 0 {
		return nil, 0, ErrShortFrame
	}
	marker := frame[len(frame)-1]
	if marker&0xe0 != 0xc0 {
		return nil, 0, nil
	}
	mag := int(marker>>3&3) + 1
	n = int(marker&7) + 1
	size := 2 + mag*n
	if len(frame) < size || frame[len(frame)-size] != marker {
		// Not an index: the byte is just the end of the frame data.
		return nil, 0, nil
	}
	idx := len(frame) - size
	sizes = frame[idx+1 : len(frame)-1]
	total := 0
	for i := 0; i < n; i++ {
		sz := indexSize(sizes, i, mag)
		if sz == 0 || sz > idx-total {
			return nil, 0, ErrSuperframe
		}
		total += sz
	}
	return sizes, n, nil
}

// indexSize returns the i-th little-endian frame size of mag bytes.
func indexSize(sizes []byte, i, mag int) int {
	sz := 0
	for j := 0; j < mag; j++ {
		sz |= int(sizes[i*mag+j]) << (8 * j)
	}
	return sz
}

func parseHeader(frame []byte) (Header, error) {
	var h Header
	b := bitReader{bits.NewReader(frame)}
	if b.ReadBits(2) != 2 {
		if b.Err() != nil {
			return Header{}, ErrShortFrame
		}
		return Header{}, ErrFrameMarker
	}
	h.Profile = uint8(b.ReadBits(1) | b.ReadBits(1)<<1)
	if h.Profile == 3 && b.ReadBits(1) != 0 {
		return Header{}, b.err(ErrReservedBit)
	}
	h.BitDepth = 8
	h.ShowExistingFrame = b.ReadBits(1) == 1
	if h.ShowExistingFrame {
		h.FrameToShow = uint8(b.ReadBits(3))
		h.ShowFrame = true
		return h, b.err(nil)
	}
	h.KeyFrame = b.ReadBits(1) == 0
	h.ShowFrame = b.ReadBits(1) == 1
	h.ErrorResilient = b.ReadBits(1) == 1
	if h.KeyFrame {
		if err := b.syncCode(); err != nil {
			return Header{}, err
		}
		if err := h.colorConfig(&b); err != nil {
			return Header{}, err
		}
		h.frameSize(&b)
		return h, b.err(nil)
	}
	if !h.ShowFrame {
		h.IntraOnly = b.ReadBits(1) == 1
	}
	if !h.ErrorResilient {
		b.ReadBits(2) // reset_frame_context
	}
	if h.IntraOnly {
		if err := b.syncCode(); err != nil {
			return Header{}, err
		}
		if h.Profile > 0 {
			if err := h.colorConfig(&b); err != nil {
				return Header{}, err
			}
		} else {
			h.ColorSpace = ColorSpaceBT601
			h.SubsamplingX, h.SubsamplingY = true, true
		}
		b.ReadBits(8) // refresh_frame_flags
		h.frameSize(&b)
	}
	return h, b.err(nil)
}

// colorConfig reads color_config().
func (h *Header) colorConfig(b *bitReader) error {
	if h.Profile >= 2 {
		h.BitDepth = 10
		if b.ReadBits(1) == 1 {
			h.BitDepth = 12
		}
	}
	h.ColorSpace = uint8(b.ReadBits(3))
	if h.ColorSpace != ColorSpaceRGB {
		h.ColorRange = uint8(b.ReadBits(1))
		if h.Profile == 1 || h.Profile == 3 {
			h.SubsamplingX = b.ReadBits(1) == 1
			h.SubsamplingY = b.ReadBits(1) == 1
			if b.ReadBits(1) != 0 {
				return b.err(ErrReservedBit)
			}
		} else {
			h.SubsamplingX, h.SubsamplingY = true, true
		}
	} else {
		h.ColorRange = 1
		if h.Profile == 1 || h.Profile == 3 {
			if b.ReadBits(1) != 0 {
				return b.err(ErrReservedBit)
			}
		}
	}
	return b.err(nil)
}

// frameSize reads frame_size() and render_size().
func (h *Header) frameSize(b *bitReader) {
	h.Width = plusOne(b.ReadBits(16))
	h.Height = plusOne(b.ReadBits(16))
	h.RenderWidth, h.RenderHeight = h.Width, h.Height
	if b.ReadBits(1) == 1 {
		h.RenderWidth = plusOne(b.ReadBits(16))
		h.RenderHeight = plusOne(b.ReadBits(16))
	}
}

// plusOne returns v+1, or 0 when that does not fit a uint16.
func plusOne(v uint32) uint16 {
	if v >= 0xffff {
		return 0
	}
	return uint16(v + 1)
}

// ChromaSubsampling returns the chroma subsampling value of the VP9 codec
// feature metadata and of vpcC: ChromaSubsampling420Colocated for 4:2:0
// (the VP9 bitstream does not say where chroma is sited; libvpx and ffmpeg
// take it as co-located with luma (0,0)), ChromaSubsampling422 or
// ChromaSubsampling444. 4:4:0 has no value; it returns
// ChromaSubsampling420Colocated for it, and CodecPrivate leaves the
// feature out.
func (h Header) ChromaSubsampling() uint8 {
	switch {
	case h.SubsamplingX && h.SubsamplingY:
		return ChromaSubsampling420Colocated
	case h.SubsamplingX:
		return ChromaSubsampling422
	case !h.SubsamplingY:
		return ChromaSubsampling444
	}
	return ChromaSubsampling420Colocated
}

// Feature IDs of the VP9 codec feature metadata (Matroska and WebM
// CodecPrivate for V_VP9).
const (
	FeatureProfile           = 1
	FeatureLevel             = 2
	FeatureBitDepth          = 3
	FeatureChromaSubsampling = 4
)

// CodecPrivate returns the CodecPrivate of a Matroska or WebM V_VP9 track
// (webmproject.org "VP9 Codec Feature Metadata"): the features profile,
// level, bit depth and chroma subsampling, each as ID, length 1 and value.
// Level is in tenths (10 for level 1, 41 for level 4.1); level 0 omits the
// level feature, and the chroma subsampling feature is left out for 4:4:0,
// which has no value. h should come from a key frame.
func CodecPrivate(h Header, level uint8) []byte {
	bitDepth := h.BitDepth
	if bitDepth == 0 {
		bitDepth = 8
	}
	p := make([]byte, 0, 12)
	p = append(p, FeatureProfile, 1, h.Profile)
	if level != 0 {
		p = append(p, FeatureLevel, 1, level)
	}
	p = append(p, FeatureBitDepth, 1, bitDepth)
	if h.SubsamplingX || !h.SubsamplingY { // not 4:4:0
		p = append(p, FeatureChromaSubsampling, 1, h.ChromaSubsampling())
	}
	return p
}

// bitReader is a bits.Reader whose running out of data is ErrShortFrame.
type bitReader struct{ bits.Reader }

// err returns ErrShortFrame if the reader ran out of data, else err.
func (r *bitReader) err(err error) error {
	if r.Err() != nil {
		return ErrShortFrame
	}
	return err
}

// syncCode reads frame_sync_code().
func (r *bitReader) syncCode() error {
	if r.ReadBits(8) != syncCode0 || r.ReadBits(8) != syncCode1 || r.ReadBits(8) != syncCode2 {
		return r.err(ErrSyncCode)
	}
	return nil
}
