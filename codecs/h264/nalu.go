// Package h264 reads the facts a muxer needs from an H.264 (ITU-T H.264 |
// ISO/IEC 14496-10) elementary stream: it splits Annex B byte streams into
// NAL units and access units, converts access units to the length-prefixed
// form of ISOBMFF and Matroska, finds IDR pictures, parses sequence
// parameter sets (picture size, bit depth, frame rate), picture parameter
// sets and slice headers, computes picture order counts (the output order
// of B-frames) and builds the AVCDecoderConfigurationRecord (avcC, ISO/IEC
// 14496-15 section 5.3.3.1).
//
// Nothing here decodes pictures, and nothing panics on bad input.
package h264

import "bytes"

// NAL unit types (nal_unit_type).
const (
	NALUTypeNonIDR      = 1  // coded slice of a non-IDR picture
	NALUTypePartitionA  = 2  // coded slice data partition A
	NALUTypePartitionB  = 3  // coded slice data partition B
	NALUTypePartitionC  = 4  // coded slice data partition C
	NALUTypeIDR         = 5  // coded slice of an IDR picture
	NALUTypeSEI         = 6  // supplemental enhancement information
	NALUTypeSPS         = 7  // sequence parameter set
	NALUTypePPS         = 8  // picture parameter set
	NALUTypeAUD         = 9  // access unit delimiter
	NALUTypeEndOfSeq    = 10 // end of sequence
	NALUTypeEndOfStream = 11 // end of stream
	NALUTypeFiller      = 12 // filler data
	NALUTypeSPSExt      = 13 // sequence parameter set extension
	NALUTypePrefix      = 14 // prefix NAL unit (SVC, MVC)
	NALUTypeSubsetSPS   = 15 // subset sequence parameter set
)

// startCode4 is the 4-byte start code the functions here write.
var startCode4 = [4]byte{0, 0, 0, 1}

// NALUType returns nal_unit_type, the low 5 bits of the first byte of nalu,
// or 0 when nalu is empty.
func NALUType(nalu []byte) uint8 {
	if len(nalu) == 0 {
		return 0
	}
	return nalu[0] & 0x1f
}

// NALRefIDC returns nal_ref_idc, bits 5 and 6 of the first byte of nalu
// (0 for a NAL unit that no other picture refers to, as a non-reference
// B-frame's slices), or 0 when nalu is empty.
func NALRefIDC(nalu []byte) uint8 {
	if len(nalu) == 0 {
		return 0
	}
	return nalu[0] >> 5 & 3
}

// IsAnnexB reports whether b starts with an Annex B start code, 00 00 01 or
// 00 00 00 01.
func IsAnnexB(b []byte) bool {
	return len(b) >= 3 && b[0] == 0 && b[1] == 0 &&
		(b[2] == 1 || len(b) >= 4 && b[2] == 0 && b[3] == 1)
}

// NextNALU returns the first NAL unit of the Annex B byte stream b and the
// rest of b after it. Bytes before the first start code (00 00 01, possibly
// after more zero bytes) are skipped, and the zero bytes that end the NAL
// unit (trailing_zero_8bits and the first byte of a 4-byte start code) are
// trimmed. Empty NAL units are skipped. nalu is nil when b holds no more
// NAL units. The slices alias b.
func NextNALU(b []byte) (nalu, rest []byte) {
	for {
		i := findStartCode(b)
		if i < 0 {
			return nil, nil
		}
		b = b[i+3:]
		end := findStartCode(b)
		if end < 0 {
			end = len(b)
		}
		nalu, rest = trimZeros(b[:end]), b[end:]
		if len(nalu) > 0 {
			return nalu[:len(nalu):len(nalu)], rest
		}
		b = rest
	}
}

// findStartCode returns the index of the first 00 00 01 in b, or -1.
func findStartCode(b []byte) int { return indexZeroZero(b, 1) }

// findEmulation returns the index of the first 00 00 03 in b, or -1.
func findEmulation(b []byte) int { return indexZeroZero(b, 3) }

// indexZeroZero returns the index of the first 00 00 c in b, or -1. c must
// not be 0.
func indexZeroZero(b []byte, c byte) int {
	off := 0
	for {
		i := bytes.IndexByte(b[off:], c)
		if i < 0 {
			return -1
		}
		i += off
		if i >= 2 && b[i-1] == 0 && b[i-2] == 0 {
			return i - 2
		}
		off = i + 1
	}
}

// trimZeros returns b without its trailing zero bytes.
func trimZeros(b []byte) []byte {
	n := len(b)
	for n > 0 && b[n-1] == 0 {
		n--
	}
	return b[:n]
}

// AppendAVCC appends the NAL units of the Annex B access unit au to dst,
// each prefixed with its size as a 4-byte big-endian integer, the form
// ISOBMFF and Matroska store (with lengthSizeMinusOne 3). Access unit
// delimiters are dropped; every other NAL unit (SPS, PPS, SEI, slices) is
// kept. It does not allocate when dst has room.
func AppendAVCC(dst, au []byte) []byte {
	for {
		var nalu []byte
		nalu, au = NextNALU(au)
		if nalu == nil {
			return dst
		}
		if NALUType(nalu) == NALUTypeAUD {
			continue
		}
		n := uint32(len(nalu))
		dst = append(dst, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		dst = append(dst, nalu...)
	}
}

// AVCCLen returns the number of bytes AppendAVCC appends for au.
func AVCCLen(au []byte) int {
	n := 0
	for {
		var nalu []byte
		nalu, au = NextNALU(au)
		if nalu == nil {
			return n
		}
		if NALUType(nalu) != NALUTypeAUD {
			n += 4 + len(nalu)
		}
	}
}

// AppendAnnexB appends the NAL units of avcc, a sample of NAL units each
// prefixed with a 4-byte big-endian size, to dst, each prefixed with the
// start code 00 00 00 01. It returns ok false (and dst as it was) when a
// size runs past the end of avcc.
func AppendAnnexB(dst, avcc []byte) (out []byte, ok bool) {
	orig := len(dst)
	for len(avcc) > 0 {
		if len(avcc) < 4 {
			return dst[:orig], false
		}
		n := uint64(avcc[0])<<24 | uint64(avcc[1])<<16 | uint64(avcc[2])<<8 | uint64(avcc[3])
		avcc = avcc[4:]
		if n > uint64(len(avcc)) {
			return dst[:orig], false
		}
		dst = append(dst, startCode4[:]...)
		dst = append(dst, avcc[:n]...)
		avcc = avcc[n:]
	}
	return dst, true
}

// RemoveEmulationPrevention appends b to dst without its
// emulation_prevention_three_bytes: every 03 that follows 00 00 is dropped,
// turning a NAL unit's payload into its RBSP.
func RemoveEmulationPrevention(dst, b []byte) []byte {
	for {
		i := findEmulation(b)
		if i < 0 {
			return append(dst, b...)
		}
		dst = append(dst, b[:i+2]...)
		b = b[i+3:]
	}
}

// IsKeyFrame reports whether the Annex B access unit au holds a slice of
// an IDR picture. It does not allocate.
func IsKeyFrame(au []byte) bool {
	for {
		var nalu []byte
		nalu, au = NextNALU(au)
		if nalu == nil {
			return false
		}
		if NALUType(nalu) == NALUTypeIDR {
			return true
		}
	}
}

// isVCL reports whether t is the type of a coded slice NAL unit of the
// primary coded picture (types 1 to 5).
func isVCL(t uint8) bool { return t >= NALUTypeNonIDR && t <= NALUTypeIDR }
