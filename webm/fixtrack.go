package webm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/av1"
	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/codecs/vp8"
	"github.com/gomediarecorder/mediarecorder/codecs/vp9"
	"github.com/gomediarecorder/mediarecorder/internal/ebml"
)

// Fix checks every track entry before copying it (checkTrack): an entry a
// player could not use — an unknown CodecID, a CodecPrivate that does not
// parse, no picture size, elements that overflow their parent — is rebuilt
// from what the entry still says and what the track's first frames show,
// or, when that is not enough, dropped with its blocks. A rebuilt entry is
// written from its fields (Raw dropped).

// Codec IDs Fix knows how to check, with their track type.
var knownCodecs = map[string]TrackType{
	CodecIDVP8: TrackTypeVideo, CodecIDVP9: TrackTypeVideo, CodecIDAV1: TrackTypeVideo,
	CodecIDH264: TrackTypeVideo, "V_MPEGH/ISO/HEVC": TrackTypeVideo,
	CodecIDOpus: TrackTypeAudio, CodecIDVorbis: TrackTypeAudio, CodecIDPCM: TrackTypeAudio,
	"A_PCM/INT/BIG": TrackTypeAudio, "A_PCM/FLOAT/IEEE": TrackTypeAudio, "A_AAC": TrackTypeAudio,
	"A_FLAC": TrackTypeAudio,
}

// maxPicture is the largest picture side Fix believes (VP8 and VP9 carry
// 14 and 16 bits; no browser records more than 8K).
const maxPicture = 16384

// firstFrames is what Fix saw of a track before writing the header: its
// first frame and its first key frame.
type firstFrames struct {
	seen       bool // a frame of the track was seen
	first, key []byte
}

// trackNeedsFrames reports whether checking t needs the track's first
// frames: its entry is damaged or misses what the frames can tell.
func trackNeedsFrames(t *TrackEntry) bool {
	if !wellFormed(t.Raw) {
		return true
	}
	typ, known := knownCodecs[t.CodecID]
	if !known || typ != t.Type {
		return true
	}
	switch t.CodecID {
	case CodecIDVP8, CodecIDVP9, CodecIDAV1:
		return !goodPicture(t) || (t.CodecID == CodecIDAV1 && len(t.CodecPrivate) > 0 && !goodAV1C(t.CodecPrivate))
	case CodecIDH264:
		return (len(t.CodecPrivate) > 0 && !goodAVCC(t.CodecPrivate)) || !goodPicture(t)
	case CodecIDOpus:
		h, err := opus.ParseHead(t.CodecPrivate)
		return err != nil || t.Channels != h.Channels || !goodRate(t.SamplingFrequency)
	}
	return false
}

// checkTrack returns t fit to be written, rebuilt if need be (ok), or a
// reason to drop it. note says what was changed ("" for nothing).
func checkTrack(t TrackEntry, ff firstFrames) (out TrackEntry, note string, ok bool) {
	var notes []string
	changed := !wellFormed(t.Raw)
	if changed {
		notes = append(notes, "malformed entry")
	}
	typ, known := knownCodecs[t.CodecID]
	if !known {
		id := sniffCodec(&t, ff)
		if id == "" {
			return t, fmt.Sprintf("track %d dropped: unknown CodecID %q, and its frames say nothing", t.Number, t.CodecID), false
		}
		notes = append(notes, fmt.Sprintf("CodecID %q is %s", t.CodecID, id))
		t.CodecID, changed = id, true
		typ = knownCodecs[id]
	}
	if t.Type != typ {
		notes = append(notes, fmt.Sprintf("TrackType %d is %d", t.Type, typ))
		t.Type, changed = typ, true
	}
	var why string
	switch t.CodecID {
	case CodecIDVP8, CodecIDVP9, CodecIDAV1, CodecIDH264:
		why = checkVideo(&t, ff, &notes, &changed)
	case CodecIDOpus:
		why = checkOpus(&t, ff, &notes, &changed)
	case CodecIDPCM, "A_PCM/INT/BIG", "A_PCM/FLOAT/IEEE":
		if t.Channels == 0 || !goodRate(t.SamplingFrequency) || t.BitDepth == 0 || t.BitDepth%8 != 0 || t.BitDepth > 64 {
			why = "PCM without its channels, rate or bit depth"
		}
	case CodecIDVorbis, "A_FLAC", "A_AAC":
		if (t.CodecID != "A_AAC" && len(t.CodecPrivate) == 0) || t.Channels == 0 || !goodRate(t.SamplingFrequency) {
			why = "no codec setup, channels or rate"
		}
	}
	if why != "" {
		return t, fmt.Sprintf("track %d (%s) dropped: %s", t.Number, t.CodecID, why), false
	}
	if t.DefaultDuration < 0 || t.DefaultDuration > time.Hour {
		notes = append(notes, "DefaultDuration dropped")
		t.DefaultDuration, changed = 0, true
	}
	if !changed {
		return t, "", true
	}
	t.Raw = nil
	return t, fmt.Sprintf("track %d (%s) entry rebuilt: %s", t.Number, t.CodecID, joinNotes(notes)), true
}

func joinNotes(n []string) string {
	var b bytes.Buffer
	for i, s := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s)
	}
	return b.String()
}

func goodRate(f float64) bool { return f >= 1000 && f <= 768000 }

func goodPicture(t *TrackEntry) bool {
	return t.PixelWidth > 0 && t.PixelHeight > 0 && t.PixelWidth <= maxPicture && t.PixelHeight <= maxPicture
}

// sniffCodec names the codec of a track whose CodecID is unknown, from
// its CodecPrivate and first key frame; "" when they do not tell.
func sniffCodec(t *TrackEntry, ff firstFrames) string {
	if bytes.HasPrefix(t.CodecPrivate, []byte("OpusHead")) {
		return CodecIDOpus
	}
	if t.Type == TrackTypeAudio {
		return ""
	}
	if goodAVCC(t.CodecPrivate) {
		return CodecIDH264
	}
	k := ff.key
	switch {
	case k == nil:
		return ""
	case vp8.IsKeyFrame(k):
		return CodecIDVP8
	case vp9.IsKeyFrame(k):
		if h, err := vp9.ParseHeader(k); err == nil && h.Width > 0 {
			return CodecIDVP9
		}
	}
	if _, _, ok := av1.FindSequenceHeader(k); ok {
		return CodecIDAV1
	}
	if _, _, ok := avcParameterSets(k); ok {
		return CodecIDH264
	}
	return ""
}

// checkVideo checks a video track's picture size and codec setup.
func checkVideo(t *TrackEntry, ff firstFrames, notes *[]string, changed *bool) string {
	w, h := 0, 0 // the size the key frame says
	k := ff.key
	switch t.CodecID {
	case CodecIDVP8:
		if fh, err := vp8.ParseFrameHeader(k); err == nil && fh.KeyFrame {
			w, h = int(fh.Width), int(fh.Height)
		}
	case CodecIDVP9:
		if vh, err := vp9.ParseHeader(k); err == nil && vh.KeyFrame {
			w, h = int(vh.Width), int(vh.Height)
		}
	case CodecIDAV1:
		raw, seq, ok := av1.FindSequenceHeader(k)
		if ok {
			w, h = int(seq.MaxFrameWidth), int(seq.MaxFrameHeight)
		}
		if len(t.CodecPrivate) > 0 && !goodAV1C(t.CodecPrivate) {
			if !ok {
				return "a damaged CodecPrivate and no sequence header in the first key frame"
			}
			t.CodecPrivate, *changed = av1.CodecConfigurationRecord(seq, raw), true
			*notes = append(*notes, "CodecPrivate rebuilt from the sequence header")
		}
	case CodecIDH264:
		sps, pps, ok := avcParameterSets(k)
		annexB := h264.IsAnnexB(k)
		switch {
		case len(t.CodecPrivate) == 0 && annexB:
			// Chromium's way: no avcC, parameter sets in the stream.
		case len(t.CodecPrivate) == 0 || goodAVCC(t.CodecPrivate):
		case annexB:
			t.CodecPrivate, *changed = nil, true
			*notes = append(*notes, "damaged CodecPrivate dropped: the stream carries its SPS/PPS")
		case ok:
			c, err := h264.AVCDecoderConfigurationRecord(sps, pps)
			if err != nil {
				return "no usable CodecPrivate (avcC): " + err.Error()
			}
			t.CodecPrivate, *changed = c, true
			*notes = append(*notes, "CodecPrivate rebuilt from the SPS/PPS of the first key frame")
		default:
			return "no usable CodecPrivate (avcC) and no SPS/PPS in the first key frame"
		}
		if s, ok := avcSPS(t.CodecPrivate); ok {
			w, h = s.Width, s.Height
		} else if len(sps) > 0 {
			if s, err := h264.ParseSPS(sps[0]); err == nil {
				w, h = s.Width, s.Height
			}
		}
	}
	if goodPicture(t) {
		return ""
	}
	if w <= 0 || h <= 0 || w > maxPicture || h > maxPicture {
		return fmt.Sprintf("picture size %dx%d, and no key frame that says it", t.PixelWidth, t.PixelHeight)
	}
	*notes = append(*notes, fmt.Sprintf("picture size %dx%d is %dx%d", t.PixelWidth, t.PixelHeight, w, h))
	t.PixelWidth, t.PixelHeight, *changed = uint32(w), uint32(h), true
	return ""
}

// checkOpus checks an Opus track's OpusHead and channel count, and
// rebuilds the head when it does not parse.
func checkOpus(t *TrackEntry, ff firstFrames, notes *[]string, changed *bool) string {
	head, err := opus.ParseHead(t.CodecPrivate)
	if err != nil {
		ch := t.Channels
		if ch == 0 || ch > 2 {
			// The first packet's stereo flag.
			if len(ff.first) == 0 {
				return "a damaged OpusHead, and no packet to tell the channels"
			}
			ch = 1
			if opus.ParseTOC(ff.first[0]).Stereo {
				ch = 2
			}
		}
		head = opus.DefaultHead(ch, 48000)
		head.PreSkip = 0
		if d := t.CodecDelay; d > 0 && d < 100*time.Millisecond {
			head.PreSkip = uint16(opus.DurationToSamples(d))
		}
		b, err := head.MarshalBinary()
		if err != nil {
			return "a damaged OpusHead: " + err.Error()
		}
		t.CodecPrivate, *changed = b, true
		*notes = append(*notes, "OpusHead rebuilt")
	}
	if t.Channels != head.Channels {
		*notes = append(*notes, fmt.Sprintf("Channels %d is %d", t.Channels, head.Channels))
		t.Channels, *changed = head.Channels, true
	}
	if !goodRate(t.SamplingFrequency) { // Firefox writes its input rate: fine
		*notes = append(*notes, fmt.Sprintf("SamplingFrequency %g is 48000", t.SamplingFrequency))
		t.SamplingFrequency, *changed = 48000, true
	}
	return ""
}

// goodAV1C reports whether b looks like an AV1CodecConfigurationRecord.
func goodAV1C(b []byte) bool {
	if len(b) < 4 || b[0] != 0x81 {
		return false
	}
	if len(b) == 4 {
		return true
	}
	_, _, ok := av1.FindSequenceHeader(b[4:])
	return ok
}

// goodAVCC reports whether b is an avcC record whose first SPS parses and
// that has a PPS.
func goodAVCC(b []byte) bool {
	_, ok := avcSPS(b)
	return ok
}

// avcSPS parses an avcC record's first SPS, checking the record's layout.
func avcSPS(b []byte) (h264.SPS, bool) {
	if len(b) < 7 || b[0] != 1 || b[4]&3 == 2 {
		return h264.SPS{}, false
	}
	var first []byte
	p := 5
	for set := 0; set < 2; set++ {
		if p >= len(b) {
			return h264.SPS{}, false
		}
		n := int(b[p])
		if set == 0 {
			n &= 0x1f
		}
		p++
		if n == 0 {
			return h264.SPS{}, false
		}
		for i := 0; i < n; i++ {
			if p+2 > len(b) {
				return h264.SPS{}, false
			}
			l := int(binary.BigEndian.Uint16(b[p:]))
			p += 2
			if l == 0 || p+l > len(b) {
				return h264.SPS{}, false
			}
			if set == 0 && first == nil {
				first = b[p : p+l]
			}
			p += l
		}
	}
	s, err := h264.ParseSPS(first)
	if err != nil || s.Width <= 0 || s.Height <= 0 {
		return h264.SPS{}, false
	}
	return s, true
}

// avcParameterSets finds the SPS (that parse) and PPS in a key frame,
// Annex B or of 4-byte length-prefixed NAL units (avcC's usual form).
func avcParameterSets(frame []byte) (sps, pps [][]byte, ok bool) {
	add := func(nalu []byte) {
		switch h264.NALUType(nalu) {
		case h264.NALUTypeSPS:
			if _, err := h264.ParseSPS(nalu); err == nil {
				sps = append(sps, nalu)
			}
		case h264.NALUTypePPS:
			pps = append(pps, nalu)
		}
	}
	if h264.IsAnnexB(frame) {
		for nalu, rest := h264.NextNALU(frame); nalu != nil; nalu, rest = h264.NextNALU(rest) {
			add(nalu)
		}
	} else {
		for len(frame) >= 4 {
			n := binary.BigEndian.Uint32(frame)
			if n == 0 || uint64(n) > uint64(len(frame)-4) {
				break
			}
			add(frame[4 : 4+n])
			frame = frame[4+n:]
		}
	}
	return sps, pps, len(sps) > 0 && len(pps) > 0
}

// wellFormed reports whether a TrackEntry body (Raw) is a sequence of
// elements that each fit exactly, as are the children of its Video and
// Audio elements. An empty Raw (an entry built from fields) is.
func wellFormed(raw []byte) bool {
	return fits(raw, func(id uint32, body []byte) bool {
		if id == idVideo || id == idAudio {
			return fits(body, nil)
		}
		return true
	})
}

// fits reports whether b is a sequence of whole elements of known size,
// each passing check (when not nil).
func fits(b []byte, check func(id uint32, body []byte) bool) bool {
	for len(b) > 0 {
		id, size, hl, err := ebml.ReadElementHeader(b)
		if err != nil || size == ebml.UnknownSize || size > uint64(len(b)-hl) {
			return false
		}
		body := b[hl : hl+int(size)]
		if check != nil && !check(id, body) {
			return false
		}
		b = b[hl+int(size):]
	}
	return true
}
