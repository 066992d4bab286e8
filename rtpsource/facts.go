package rtpsource

import (
	"github.com/gomediarecorder/mediarecorder/codecs/h264"
)

// What the packets of a frame tell about the chain of references, for the
// loss rule (loss.go): the picture IDs and temporal layers of VP8 and VP9
// payload descriptors, H.264's nal_ref_idc and frame_num. Nothing here
// depacketizes a whole frame: the descriptors and the first bytes of a
// slice are enough.

// h264PacketRefIdc returns nal_ref_idc of the coded slices in an H.264
// RTP payload (single NAL unit, STAP-A, FU-A), and false if it holds none.
func h264PacketRefIdc(payload []byte) (uint8, bool) {
	if len(payload) == 0 {
		return 0, false
	}
	switch payload[0] & 0x1f {
	case 1, 5:
		return h264.NALRefIDC(payload), true
	case 7, 8: // a parameter set: the frame is a key frame
		return 3, true
	case 24: // STAP-A
		var nri uint8
		found := false
		for b := payload[1:]; len(b) > 2; {
			n := int(b[0])<<8 | int(b[1])
			if n == 0 || n > len(b)-2 {
				break
			}
			switch b[2] & 0x1f {
			case 1, 5:
				nri = max(nri, h264.NALRefIDC(b[2:]))
				found = true
			case 7, 8:
				nri, found = 3, true
			}
			b = b[2+n:]
		}
		return nri, found
	case 28: // FU-A: the indicator carries nal_ref_idc
		if len(payload) < 2 {
			return 0, false
		}
		if t := payload[1] & 0x1f; t == 1 || t == 5 {
			return h264.NALRefIDC(payload), true
		}
	}
	return 0, false
}

// vp8PictureID returns the picture ID of a VP8 payload descriptor and its
// width in bits (7 or 15).
func vp8PictureID(p []byte) (uint16, uint8, bool) {
	if len(p) < 2 || p[0]&0x80 == 0 || p[1]&0x80 == 0 { // X; I
		return 0, 0, false
	}
	return pictureID(p[2:])
}

// pictureID reads the picture ID field that starts p (VP8 and VP9 payload
// descriptors: M bit, then 7 or 15 bits).
func pictureID(p []byte) (uint16, uint8, bool) {
	switch {
	case len(p) < 1:
		return 0, 0, false
	case p[0]&0x80 == 0:
		return uint16(p[0]), 7, true
	case len(p) < 2:
		return 0, 0, false
	}
	return uint16(p[0]&0x7f)<<8 | uint16(p[1]), 15, true
}

// vp8Layers returns TID, Y and TL0PICIDX of a VP8 payload descriptor,
// and whether it carries both TID and TL0PICIDX.
func vp8Layers(p []byte) (tid uint8, sync bool, tl0 uint8, ok bool) {
	if len(p) < 2 || p[0]&0x80 == 0 || p[1]&0x60 != 0x60 { // X; L and T
		return 0, false, 0, false
	}
	i := 2
	if p[1]&0x80 != 0 { // I
		if len(p) <= i {
			return 0, false, 0, false
		}
		i++
		if p[i-1]&0x80 != 0 { // M: 15-bit picture ID
			i++
		}
	}
	if len(p) < i+2 {
		return 0, false, 0, false
	}
	return p[i+1] >> 6, p[i+1]&0x20 != 0, p[i], true
}

// vp9PictureID returns the picture ID of a VP9 payload descriptor and its
// width in bits (7 or 15).
func vp9PictureID(p []byte) (uint16, uint8, bool) {
	if len(p) < 1 || p[0]&0x80 == 0 { // I
		return 0, 0, false
	}
	return pictureID(p[1:])
}

// frameFacts is what the track reads from a complete frame about the
// chain of references.
type frameFacts struct {
	picID    int32 // -1 if none
	picBits  uint8
	nBit     bool // VP8: N set
	hasTL    bool // VP8: TID and TL0PICIDX present
	tid      uint8
	sync     bool // VP8: Y, the frame depends on base-layer frames only
	tl0      uint8
	refIdc   int // H.264: nal_ref_idc of its slices; -1 if none found
	frameNum int64
}

// facts reads the frame in packets first..last of w.
func (l *lossState) facts(w *reorderWindow, first, last int64) frameFacts {
	f := frameFacts{picID: -1, refIdc: -1, frameNum: -1}
	fp, _ := w.get(first)
	p := fp.payload
	switch l.ck {
	case codecVP8:
		if id, b, ok := vp8PictureID(p); ok {
			f.picID, f.picBits = int32(id), b
		}
		f.nBit = len(p) > 0 && p[0]&0x20 != 0
		f.tid, f.sync, f.tl0, f.hasTL = vp8Layers(p)
	case codecVP9:
		if id, b, ok := vp9PictureID(p); ok {
			f.picID, f.picBits = int32(id), b
		}
	case codecH264:
		for s := first; s <= last && f.refIdc < 0; s++ {
			p, _ := w.get(s)
			l.h264Facts(&f, p.payload)
		}
	}
	return f
}

// h264Facts reads the SPS and the first slice of an H.264 RTP payload.
func (l *lossState) h264Facts(f *frameFacts, payload []byte) {
	nal := func(n []byte) {
		if len(n) == 0 || f.refIdc >= 0 {
			return
		}
		switch n[0] & 0x1f {
		case 7:
			if sps, err := h264.ParseSPS(n); err == nil {
				l.sps, l.spsOK = sps, true
			}
		case 1, 5:
			f.refIdc = int(h264.NALRefIDC(n))
			if l.spsOK {
				if fn, ok := h264.SliceFrameNum(n, &l.sps); ok {
					f.frameNum = int64(fn)
				}
			}
		}
	}
	if len(payload) < 2 {
		return
	}
	switch payload[0] & 0x1f {
	case 24:
		for b := payload[1:]; len(b) > 2; {
			n := int(b[0])<<8 | int(b[1])
			if n == 0 || n > len(b)-2 {
				break
			}
			nal(b[2 : 2+n])
			b = b[2+n:]
		}
	case 28:
		if payload[1]&0x80 != 0 { // start of the fragmented NAL unit
			var hdr [maxFUHeader]byte
			n := copy(hdr[1:], payload[2:])
			hdr[0] = payload[0]&0xe0 | payload[1]&0x1f
			nal(hdr[:1+n])
		}
	default:
		nal(payload)
	}
}

// maxFUHeader bounds the bytes of a fragmented NAL unit h264Facts reads:
// enough for an SPS-less slice header's frame_num.
const maxFUHeader = 32
