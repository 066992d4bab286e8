package mp4

import (
	"encoding/binary"
	"fmt"

	"github.com/gomediarecorder/mediarecorder/codecs/av1"
	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/codecs/vp9"
)

// Sample flags (ISO/IEC 14496-12 section 8.8.3.1) of the samples the writer
// stores: a sync sample depends on no other (sample_depends_on 2); any
// other video sample depends on others (1) and is a non-sync sample.
const (
	flagsSync    = 0x02000000
	flagsNonSync = 0x01010000
)

// validateTrack checks t and fills in the picture size of a video track
// when it can be derived from the codec configuration.
func validateTrack(t *Track) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w %d: %s", ErrTrack, t.ID, fmt.Sprintf(format, a...))
	}
	switch t.Type {
	case TrackTypeVideo:
		switch t.Codec {
		case CodecAVC1:
			if len(t.AVCC) < 7 || t.AVCC[0] != 1 {
				return bad("avc1 needs an AVCDecoderConfigurationRecord")
			}
		case CodecAV01:
			if len(t.AV1C) < 4 || t.AV1C[0] != 0x81 {
				return bad("av01 needs an AV1CodecConfigurationRecord")
			}
		case CodecVP09:
		default:
			return bad("codec %q is not a video codec the writer supports", t.Codec)
		}
		if t.Width == 0 || t.Height == 0 {
			w, h := pictureSize(t)
			if t.Width == 0 {
				t.Width = w
			}
			if t.Height == 0 {
				t.Height = h
			}
		}
	case TrackTypeAudio:
		if t.Codec != CodecOpus {
			return bad("codec %q is not an audio codec the writer supports", t.Codec)
		}
		if t.Channels == 0 || t.Channels > 255 {
			return bad("Opus needs 1 to 255 channels, not %d", t.Channels)
		}
	default:
		return bad("unknown track type %d", t.Type)
	}
	return nil
}

// pictureSize derives the picture size of a video track from its codec
// configuration; 0, 0 when it cannot.
func pictureSize(t *Track) (w, h uint16) {
	switch t.Codec {
	case CodecAVC1:
		c := t.AVCC
		if len(c) < 8 || c[5]&0x1f == 0 {
			return 0, 0
		}
		n := int(binary.BigEndian.Uint16(c[6:]))
		if len(c) < 8+n {
			return 0, 0
		}
		sps, err := h264.ParseSPS(c[8 : 8+n])
		if err != nil || sps.Width > 0xffff || sps.Height > 0xffff {
			return 0, 0
		}
		return uint16(sps.Width), uint16(sps.Height)
	case CodecAV01:
		_, seq, ok := av1.FindSequenceHeader(t.AV1C[4:])
		if !ok || seq.MaxFrameWidth > 0xffff || seq.MaxFrameHeight > 0xffff {
			return 0, 0
		}
		return uint16(seq.MaxFrameWidth), uint16(seq.MaxFrameHeight)
	case CodecVP09:
		if t.VP9 != nil {
			return t.VP9.Width, t.VP9.Height
		}
	}
	return 0, 0
}

// initSegment holds the init segment and where its duration fields are, for
// the seekable writer to patch.
type initSegment struct {
	b       []byte
	mvhdDur int   // offset of mvhd's 64-bit duration
	mehdDur int   // offset of mehd's 64-bit fragment_duration; 0 without mehd
	tkhdDur []int // per track: tkhd's 64-bit duration
	mdhdDur []int // per track: mdhd's 64-bit duration
}

// buildInit builds ftyp and moov for tracks (already validated). withMEHD
// reserves an mehd in mvex.
func buildInit(tracks []Track, withMEHD bool) initSegment {
	s := initSegment{b: make([]byte, 0, 1024)}
	b := appendFtyp(s.b, tracks)

	b, moov := beginBox(b, "moov")
	var mvhd int
	b, mvhd = beginFullBox(b, "mvhd", 1, 0)
	b = appendZeros(b, 16) // creation and modification time
	b = appendU32(b, movieTimescale)
	s.mvhdDur = len(b)
	b = appendU64(b, 0)          // duration
	b = appendU32(b, 0x00010000) // rate 1.0
	b = appendU16(b, 0x0100)     // volume 1.0
	b = appendZeros(b, 2+8)      // reserved
	b = appendMatrix(b)          // matrix
	b = appendZeros(b, 24)       // pre_defined
	b = appendU32(b, nextTrackID(tracks))
	endBox(b, mvhd)

	for i := range tracks {
		var tk, md int
		b, tk, md = appendTrak(b, &tracks[i])
		s.tkhdDur = append(s.tkhdDur, tk)
		s.mdhdDur = append(s.mdhdDur, md)
	}

	b, mvex := beginBox(b, "mvex")
	if withMEHD {
		var mehd int
		b, mehd = beginFullBox(b, "mehd", 1, 0)
		s.mehdDur = len(b)
		b = appendU64(b, 0)
		endBox(b, mehd)
	}
	for i := range tracks {
		var trex int
		b, trex = beginFullBox(b, "trex", 0, 0)
		b = appendU32(b, tracks[i].ID)
		b = appendU32(b, 1) // default_sample_description_index
		b = appendU32(b, 0) // default_sample_duration
		b = appendU32(b, 0) // default_sample_size
		b = appendU32(b, 0) // default_sample_flags
		endBox(b, trex)
	}
	endBox(b, mvex)
	endBox(b, moov)
	s.b = b
	return s
}

// appendFtyp appends the ftyp box: major brand isom, minor version 0x200,
// and the compatible brands isom, iso6, iso2, one brand per video codec
// (avc1, av01, vp09) and mp41, as Chromium writes them.
func appendFtyp(b []byte, tracks []Track) []byte {
	b, i := beginBox(b, "ftyp")
	b = append(b, "isom"...)
	b = appendU32(b, 0x200)
	b = append(b, "isomiso6iso2"...)
	for j, t := range tracks {
		if t.Type != TrackTypeVideo {
			continue
		}
		dup := false
		for _, u := range tracks[:j] {
			dup = dup || u.Type == TrackTypeVideo && u.Codec == t.Codec
		}
		if !dup {
			b = append(b, t.Codec...)
		}
	}
	b = append(b, "mp41"...)
	endBox(b, i)
	return b
}

// nextTrackID returns one more than the largest track ID.
func nextTrackID(tracks []Track) uint32 {
	var m uint32
	for _, t := range tracks {
		m = max(m, t.ID)
	}
	return m + 1
}

// appendTrak appends the trak box of t and returns the offsets of the
// duration fields of its tkhd and mdhd.
func appendTrak(b []byte, t *Track) (_ []byte, tkhdDur, mdhdDur int) {
	video := t.Type == TrackTypeVideo
	b, trak := beginBox(b, "trak")

	b, tkhd := beginFullBox(b, "tkhd", 1, 3) // enabled, in movie
	b = appendZeros(b, 16)                   // creation and modification time
	b = appendU32(b, t.ID)
	b = appendU32(b, 0) // reserved
	tkhdDur = len(b)
	b = appendU64(b, 0)   // duration
	b = appendZeros(b, 8) // reserved
	b = appendU16(b, 0)   // layer
	b = appendU16(b, 0)   // alternate_group
	if video {
		b = appendU16(b, 0)
	} else {
		b = appendU16(b, 0x0100) // volume 1.0
	}
	b = appendU16(b, 0) // reserved
	b = appendMatrix(b)
	if video {
		b = appendU32(b, uint32(t.Width)<<16)
		b = appendU32(b, uint32(t.Height)<<16)
	} else {
		b = appendU64(b, 0)
	}
	endBox(b, tkhd)

	b, mdia := beginBox(b, "mdia")
	b, mdhd := beginFullBox(b, "mdhd", 1, 0)
	b = appendZeros(b, 16) // creation and modification time
	b = appendU32(b, timescaleOf(t.Type))
	mdhdDur = len(b)
	b = appendU64(b, 0)      // duration
	b = appendU16(b, 0x55c4) // language "und"
	b = appendU16(b, 0)      // pre_defined
	endBox(b, mdhd)

	b, hdlr := beginFullBox(b, "hdlr", 0, 0)
	b = appendU32(b, 0) // pre_defined
	if video {
		b = append(b, "vide"...)
	} else {
		b = append(b, "soun"...)
	}
	b = appendZeros(b, 12) // reserved
	if video {
		b = append(b, "VideoHandler\x00"...)
	} else {
		b = append(b, "SoundHandler\x00"...)
	}
	endBox(b, hdlr)

	b, minf := beginBox(b, "minf")
	if video {
		var vmhd int
		b, vmhd = beginFullBox(b, "vmhd", 0, 1)
		b = appendZeros(b, 8) // graphicsmode, opcolor
		endBox(b, vmhd)
	} else {
		var smhd int
		b, smhd = beginFullBox(b, "smhd", 0, 0)
		b = appendZeros(b, 4) // balance, reserved
		endBox(b, smhd)
	}
	b, dinf := beginBox(b, "dinf")
	b, dref := beginFullBox(b, "dref", 0, 0)
	b = appendU32(b, 1)
	b, url := beginFullBox(b, "url ", 0, 1) // media in this file
	endBox(b, url)
	endBox(b, dref)
	endBox(b, dinf)

	b, stbl := beginBox(b, "stbl")
	b, stsd := beginFullBox(b, "stsd", 0, 0)
	b = appendU32(b, 1)
	b = appendSampleEntry(b, t)
	endBox(b, stsd)
	for _, typ := range [...]string{"stts", "stsc", "stsz", "stco"} {
		var e int
		b, e = beginFullBox(b, typ, 0, 0)
		if typ == "stsz" {
			b = appendU32(b, 0) // sample_size
		}
		b = appendU32(b, 0) // entry_count / sample_count
		endBox(b, e)
	}
	endBox(b, stbl)
	endBox(b, minf)
	endBox(b, mdia)
	endBox(b, trak)
	return b, tkhdDur, mdhdDur
}

// timescaleOf returns the media timescale of a track type.
func timescaleOf(t TrackType) uint32 {
	if t == TrackTypeVideo {
		return VideoTimescale
	}
	return AudioTimescale
}

// appendSampleEntry appends the sample entry of t with its codec
// configuration box.
func appendSampleEntry(b []byte, t *Track) []byte {
	b, e := beginBox(b, t.Codec)
	b = appendZeros(b, 6) // reserved
	b = appendU16(b, 1)   // data_reference_index
	if t.Type == TrackTypeAudio {
		b = appendZeros(b, 8) // reserved
		b = appendU16(b, t.Channels)
		b = appendU16(b, 16) // samplesize
		b = appendU32(b, 0)  // pre_defined, reserved
		b = appendU32(b, AudioTimescale<<16)
		b = appendDOps(b, t)
		endBox(b, e)
		return b
	}
	b = appendZeros(b, 16) // pre_defined, reserved
	b = appendU16(b, t.Width)
	b = appendU16(b, t.Height)
	b = appendU32(b, 0x00480000) // 72 dpi
	b = appendU32(b, 0x00480000)
	b = appendU32(b, 0)    // reserved
	b = appendU16(b, 1)    // frame_count
	b = appendZeros(b, 32) // compressorname
	b = appendU16(b, 0x0018)
	b = appendU16(b, 0xffff) // pre_defined -1
	switch t.Codec {
	case CodecAVC1:
		var c int
		b, c = beginBox(b, "avcC")
		b = append(b, t.AVCC...)
		endBox(b, c)
	case CodecAV01:
		var c int
		b, c = beginBox(b, "av1C")
		b = append(b, t.AV1C...)
		endBox(b, c)
	case CodecVP09:
		b = appendVPCC(b, t)
	}
	b, pasp := beginBox(b, "pasp") // square pixels
	b = appendU32(b, 1)
	b = appendU32(b, 1)
	endBox(b, pasp)
	endBox(b, e)
	return b
}

// appendDOps appends the Opus Specific Box: version 0, then the fields of
// OpusHead, big-endian. More than two channels get the channel mapping
// table of opus.DefaultHead.
func appendDOps(b []byte, t *Track) []byte {
	b, i := beginBox(b, "dOps")
	b = append(b, 0, byte(t.Channels))
	b = appendU16(b, t.PreSkip)
	rate := t.SampleRate
	if rate == 0 {
		rate = AudioTimescale
	}
	b = appendU32(b, rate)
	b = appendU16(b, uint16(t.OutputGain))
	h := opus.DefaultHead(uint8(t.Channels), rate)
	b = append(b, h.MappingFamily)
	if h.MappingFamily != 0 {
		b = append(b, h.StreamCount, h.CoupledCount)
		b = append(b, h.ChannelMapping...)
	}
	endBox(b, i)
	return b
}

// appendVPCC appends the VP Codec Configuration Box, version 1: profile,
// level, bit depth, chroma subsampling and range from the key frame
// header, colour primaries, transfer and matrix 2 (unspecified) and no
// initialization data. The level is what ffmpeg's mp4 muxer writes.
func appendVPCC(b []byte, t *Track) []byte {
	h := vp9.Header{BitDepth: 8, SubsamplingX: true, SubsamplingY: true}
	if t.VP9 != nil {
		h = *t.VP9
	}
	bitDepth := h.BitDepth
	if bitDepth == 0 {
		bitDepth = 8
	}
	b, i := beginFullBox(b, "vpcC", 1, 0)
	b = append(b, h.Profile, vp9Level(t.Width, t.Height),
		bitDepth<<4|h.ChromaSubsampling()<<1|h.ColorRange&1,
		2, 2, 2) // colour_primaries, transfer_characteristics, matrix_coefficients
	b = appendU16(b, 0) // codecIntializationDataSize
	endBox(b, i)
	return b
}

// vp9Level returns the VP9 level (10 * level) of a w x h stream as ffmpeg
// 5.1's get_vp9_level picks it when the frame rate is unknown, as in its
// mp4 muxer: the lowest level whose maximum picture size holds w*h; 0 when
// the size is unknown or too large.
func vp9Level(w, h uint16) uint8 {
	size := int(w) * int(h)
	if size == 0 {
		return 0
	}
	for _, l := range vp9Levels {
		if size <= l.maxPictureSize {
			return l.level
		}
	}
	return 0
}

// vp9Levels lists the VP9 levels by their maximum picture size (the VP9
// level definitions, as in ffmpeg's vpcc.c).
var vp9Levels = [...]struct {
	maxPictureSize int
	level          uint8
}{
	{36864, 10}, {73728, 11}, {122880, 20}, {245760, 21}, {552960, 30}, {983040, 31},
	{2228224, 40}, {8912896, 50}, {35651584, 60},
}
