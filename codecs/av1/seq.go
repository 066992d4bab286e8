package av1

import (
	"errors"

	"github.com/gomediarecorder/mediarecorder/internal/bits"
)

// Errors returned by ParseSequenceHeader.
var (
	// ErrShortSequenceHeader means the payload ended inside the sequence
	// header.
	ErrShortSequenceHeader = errors.New("av1: sequence header too short")
	// ErrReservedProfile means seq_profile is 3 or more (reserved).
	ErrReservedProfile = errors.New("av1: reserved seq_profile")
)

// Sequence header constants.
const (
	cpBT709     = 1
	tcSRGB      = 13
	mcIdentity  = 0
	unspecified = 2
)

// SequenceHeader is the parse of a sequence header OBU (AV1 section 5.5).
// Per-operating-point fields are kept for operating point 0, the one a
// decoder chooses by default and the one av1C describes.
type SequenceHeader struct {
	SeqProfile                uint8 // 0 Main, 1 High, 2 Professional
	StillPicture              bool
	ReducedStillPictureHeader bool

	SeqLevelIdx0 uint8 // seq_level_idx[0]
	SeqTier0     uint8 // seq_tier[0]

	TimingInfoPresent        bool
	NumUnitsInDisplayTick    uint32 // timing_info
	TimeScale                uint32
	EqualPictureInterval     bool
	NumTicksPerPictureMinus1 uint32 // num_ticks_per_picture_minus_1

	DecoderModelInfoPresent           bool
	FramePresentationTimeLengthMinus1 uint8 // frame_presentation_time_length_minus_1

	OperatingPointsCnt uint8  // operating_points_cnt_minus_1 + 1
	OperatingPointIdc0 uint16 // operating_point_idc[0]

	FrameWidthBits, FrameHeightBits uint8 // frame_width_bits_minus_1 + 1, ...
	MaxFrameWidth, MaxFrameHeight   uint32

	FrameIDNumbersPresent bool
	DeltaFrameIDLength    uint8 // delta_frame_id_length_minus_2 + 2
	AdditionalFrameIDLen  uint8 // additional_frame_id_length_minus_1 + 1

	Use128x128Superblock bool
	EnableOrderHint      bool
	OrderHintBits        uint8
	EnableSuperres       bool

	HighBitdepth, TwelveBit, MonoChrome    bool
	ColorDescriptionPresent                bool
	ColorPrimaries                         uint8 // 2 (unspecified) unless described
	TransferCharacteristics                uint8
	MatrixCoefficients                     uint8
	ColorRange                             bool // full swing
	ChromaSubsamplingX, ChromaSubsamplingY bool
	ChromaSamplePosition                   uint8 // 0 unknown, 1 vertical, 2 colocated

	// InitialPresentationDelayPresent and InitialPresentationDelayMinusOne
	// are initial_display_delay_present_for_this_op[0] and
	// initial_display_delay_minus_1[0].
	InitialPresentationDelayPresent  bool
	InitialPresentationDelayMinusOne uint8

	FilmGrainParamsPresent bool
}

// BitDepth returns 8, 10 or 12.
func (s SequenceHeader) BitDepth() int {
	switch {
	case s.TwelveBit:
		return 12
	case s.HighBitdepth:
		return 10
	}
	return 8
}

// ParseSequenceHeader parses the payload of a sequence header OBU (the
// bytes after the OBU header and size field).
func ParseSequenceHeader(payload []byte) (SequenceHeader, error) {
	var s SequenceHeader
	b := bitReader{bits.NewReader(payload)}
	s.SeqProfile = uint8(b.ReadBits(3))
	if s.SeqProfile > 2 {
		return SequenceHeader{}, b.err(ErrReservedProfile)
	}
	s.StillPicture = b.Flag()
	s.ReducedStillPictureHeader = b.Flag()
	s.OperatingPointsCnt = 1
	if s.ReducedStillPictureHeader {
		s.SeqLevelIdx0 = uint8(b.ReadBits(5))
	} else {
		var bufferDelayLen int
		s.TimingInfoPresent = b.Flag()
		if s.TimingInfoPresent {
			s.NumUnitsInDisplayTick = b.ReadBits(32)
			s.TimeScale = b.ReadBits(32)
			s.EqualPictureInterval = b.Flag()
			if s.EqualPictureInterval {
				s.NumTicksPerPictureMinus1 = b.UVLC()
			}
			s.DecoderModelInfoPresent = b.Flag()
			if s.DecoderModelInfoPresent {
				bufferDelayLen = int(b.ReadBits(5)) + 1
				b.ReadBits(32) // num_units_in_decoding_tick
				b.ReadBits(5)  // buffer_removal_time_length_minus_1
				s.FramePresentationTimeLengthMinus1 = uint8(b.ReadBits(5))
			}
		}
		initialDisplayDelayPresent := b.Flag()
		s.OperatingPointsCnt = uint8(b.ReadBits(5)) + 1
		for i := 0; i < int(s.OperatingPointsCnt); i++ {
			idc := uint16(b.ReadBits(12))
			level := uint8(b.ReadBits(5))
			var tier uint8
			if level > 7 {
				tier = uint8(b.ReadBits(1))
			}
			if s.DecoderModelInfoPresent && b.Flag() {
				b.ReadBits(bufferDelayLen) // decoder_buffer_delay
				b.ReadBits(bufferDelayLen) // encoder_buffer_delay
				b.ReadBits(1)              // low_delay_mode_flag
			}
			var delayPresent bool
			var delay uint8
			if initialDisplayDelayPresent {
				delayPresent = b.Flag()
				if delayPresent {
					delay = uint8(b.ReadBits(4))
				}
			}
			if i == 0 {
				s.OperatingPointIdc0 = idc
				s.SeqLevelIdx0, s.SeqTier0 = level, tier
				s.InitialPresentationDelayPresent = delayPresent
				s.InitialPresentationDelayMinusOne = delay
			}
		}
	}
	s.FrameWidthBits = uint8(b.ReadBits(4)) + 1
	s.FrameHeightBits = uint8(b.ReadBits(4)) + 1
	s.MaxFrameWidth = b.ReadBits(int(s.FrameWidthBits)) + 1
	s.MaxFrameHeight = b.ReadBits(int(s.FrameHeightBits)) + 1
	if !s.ReducedStillPictureHeader {
		s.FrameIDNumbersPresent = b.Flag()
	}
	if s.FrameIDNumbersPresent {
		s.DeltaFrameIDLength = uint8(b.ReadBits(4)) + 2
		s.AdditionalFrameIDLen = uint8(b.ReadBits(3)) + 1
	}
	s.Use128x128Superblock = b.Flag()
	b.ReadBits(1) // enable_filter_intra
	b.ReadBits(1) // enable_intra_edge_filter
	if !s.ReducedStillPictureHeader {
		b.ReadBits(4) // interintra_compound, masked_compound, warped_motion, dual_filter
		s.EnableOrderHint = b.Flag()
		if s.EnableOrderHint {
			b.ReadBits(2) // enable_jnt_comp, enable_ref_frame_mvs
		}
		forceScreenContentTools := uint32(2) // SELECT_SCREEN_CONTENT_TOOLS
		if !b.Flag() {                       // seq_choose_screen_content_tools
			forceScreenContentTools = b.ReadBits(1)
		}
		if forceScreenContentTools > 0 && !b.Flag() { // seq_choose_integer_mv
			b.ReadBits(1) // seq_force_integer_mv
		}
		if s.EnableOrderHint {
			s.OrderHintBits = uint8(b.ReadBits(3)) + 1
		}
	}
	s.EnableSuperres = b.Flag()
	b.ReadBits(2) // enable_cdef, enable_restoration
	s.colorConfig(&b)
	s.FilmGrainParamsPresent = b.Flag()
	if err := b.err(nil); err != nil {
		return SequenceHeader{}, err
	}
	return s, nil
}

// colorConfig reads color_config() (AV1 section 5.5.2).
func (s *SequenceHeader) colorConfig(b *bitReader) {
	s.HighBitdepth = b.Flag()
	if s.SeqProfile == 2 && s.HighBitdepth {
		s.TwelveBit = b.Flag()
	}
	if s.SeqProfile != 1 {
		s.MonoChrome = b.Flag()
	}
	s.ColorPrimaries, s.TransferCharacteristics, s.MatrixCoefficients = unspecified, unspecified, unspecified
	s.ColorDescriptionPresent = b.Flag()
	if s.ColorDescriptionPresent {
		s.ColorPrimaries = uint8(b.ReadBits(8))
		s.TransferCharacteristics = uint8(b.ReadBits(8))
		s.MatrixCoefficients = uint8(b.ReadBits(8))
	}
	switch {
	case s.MonoChrome:
		s.ColorRange = b.Flag()
		s.ChromaSubsamplingX, s.ChromaSubsamplingY = true, true
		return // no separate_uv_delta_q
	case s.ColorPrimaries == cpBT709 && s.TransferCharacteristics == tcSRGB &&
		s.MatrixCoefficients == mcIdentity:
		s.ColorRange = true
	default:
		s.ColorRange = b.Flag()
		switch s.SeqProfile {
		case 0:
			s.ChromaSubsamplingX, s.ChromaSubsamplingY = true, true
		case 1:
		default:
			if s.BitDepth() == 12 {
				s.ChromaSubsamplingX = b.Flag()
				if s.ChromaSubsamplingX {
					s.ChromaSubsamplingY = b.Flag()
				}
			} else {
				s.ChromaSubsamplingX = true
			}
		}
		if s.ChromaSubsamplingX && s.ChromaSubsamplingY {
			s.ChromaSamplePosition = uint8(b.ReadBits(2))
		}
	}
	b.ReadBits(1) // separate_uv_delta_q
}

// FindSequenceHeader returns the first sequence header OBU in the temporal
// unit tu (raw: the whole OBU, header and size field included) and its
// parse. ok is false when tu holds none that parses.
func FindSequenceHeader(tu []byte) (raw []byte, seq SequenceHeader, ok bool) {
	for len(tu) > 0 {
		o, rest, err := NextOBU(tu)
		if err != nil {
			return nil, SequenceHeader{}, false
		}
		tu = rest
		if o.Type == OBUSequenceHeader {
			s, err := ParseSequenceHeader(o.Payload)
			if err != nil {
				return nil, SequenceHeader{}, false
			}
			return o.Raw, s, true
		}
	}
	return nil, SequenceHeader{}, false
}

// CodecConfigurationRecord returns the AV1CodecConfigurationRecord (av1C,
// "AV1 Codec ISO Media File Format Binding" section 2.3) for seq: marker
// and version (0x81), seq_profile and seq_level_idx_0, then seq_tier_0, the
// bit depth flags, monochrome, chroma subsampling and sample position, then
// initial_presentation_delay, then configOBUs, which is seqOBU, the whole
// sequence header OBU. A seqOBU without obu_has_size_field gets one, as
// configOBUs requires. Matroska's CodecPrivate for V_AV1 is the same bytes.
//
// initial_presentation_delay comes from InitialPresentationDelayPresent and
// InitialPresentationDelayMinusOne (operating point 0's
// initial_display_delay_minus_1); encoders rarely signal it, and then the
// record matches ffmpeg's, which never sets it.
func CodecConfigurationRecord(seq SequenceHeader, seqOBU []byte) []byte {
	c := make([]byte, 4, 4+len(seqOBU)+5)
	c[0] = 0x81
	c[1] = seq.SeqProfile<<5 | seq.SeqLevelIdx0&0x1f
	c[2] = seq.SeqTier0<<7 | bit(seq.HighBitdepth)<<6 | bit(seq.TwelveBit)<<5 |
		bit(seq.MonoChrome)<<4 | bit(seq.ChromaSubsamplingX)<<3 |
		bit(seq.ChromaSubsamplingY)<<2 | seq.ChromaSamplePosition&3
	if seq.InitialPresentationDelayPresent {
		c[3] = 0x10 | seq.InitialPresentationDelayMinusOne&0xf
	}
	if o, _, err := NextOBU(seqOBU); err == nil && !o.HasSizeField {
		return appendWithSize(c, o)
	}
	return append(c, seqOBU...)
}

func bit(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// Frame types (frame_type).
const (
	FrameTypeKey       = 0
	FrameTypeInter     = 1
	FrameTypeIntraOnly = 2
	FrameTypeSwitch    = 3
)

// FrameHeader is the start of an uncompressed frame header (AV1 section
// 5.9.2), up to show_frame.
type FrameHeader struct {
	ShowExistingFrame bool
	FrameToShow       uint8 // frame_to_show_map_idx when ShowExistingFrame
	FrameType         uint8 // FrameTypeKey, ... (unknown, 0, when ShowExistingFrame)
	ShowFrame         bool
}

// ParseFrameHeader parses the start of the payload of a frame header OBU or
// frame OBU. Only reduced_still_picture_header of seq matters here.
func ParseFrameHeader(payload []byte, seq *SequenceHeader) (FrameHeader, error) {
	if seq != nil && seq.ReducedStillPictureHeader {
		return FrameHeader{FrameType: FrameTypeKey, ShowFrame: true}, nil
	}
	if len(payload) == 0 {
		return FrameHeader{}, ErrShortOBU
	}
	var h FrameHeader
	b := payload[0]
	h.ShowExistingFrame = b&0x80 != 0
	if h.ShowExistingFrame {
		h.FrameToShow = b >> 4 & 7
		h.ShowFrame = true
		return h, nil
	}
	h.FrameType = b >> 5 & 3
	h.ShowFrame = b&0x10 != 0
	return h, nil
}

// IsKeyFrame reports whether the temporal unit tu starts with a key frame:
// its first frame header or frame OBU has frame_type KEY_FRAME and
// show_frame set (always so with reduced_still_picture_header). The
// sequence header in tu is used to parse the frame header, else seq; with
// neither (seq nil and none in tu) IsKeyFrame returns false, since a key
// frame that starts a coded video sequence carries a sequence header. It
// returns false for anything malformed. It does not allocate.
func IsKeyFrame(tu []byte, seq *SequenceHeader) bool {
	var local SequenceHeader
	b := tu
	for len(b) > 0 {
		o, rest, err := NextOBU(b)
		if err != nil {
			return false
		}
		b = rest
		switch o.Type {
		case OBUSequenceHeader:
			s, err := ParseSequenceHeader(o.Payload)
			if err != nil {
				return false
			}
			local, seq = s, &local
		case OBUFrameHeader, OBUFrame:
			if seq == nil {
				return false
			}
			h, err := ParseFrameHeader(o.Payload, seq)
			return err == nil && !h.ShowExistingFrame && h.FrameType == FrameTypeKey && h.ShowFrame
		}
	}
	return false
}

// bitReader is a bits.Reader whose running out of data is
// ErrShortSequenceHeader.
type bitReader struct{ bits.Reader }

// err returns ErrShortSequenceHeader if the reader ran out of data, else
// err.
func (r *bitReader) err(err error) error {
	if r.Err() != nil {
		return ErrShortSequenceHeader
	}
	return err
}
