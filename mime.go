package mediarecorder

import (
	"errors"
	"strings"

	"github.com/gomediarecorder/mediarecorder/internal/codec"
)

// errBadMIME is returned by parseMIME for strings that are not a valid MIME
// type (RFC 2045 / WHATWG MIME Sniffing "valid MIME type string").
var errBadMIME = errors.New("mediarecorder: invalid MIME type")

// mimeType is a parsed MediaRecorder MIME type such as
// `video/webm; codecs="vp8, opus"`.
type mimeType struct {
	Type, Subtype string   // lower case
	Codecs        []string // the codecs parameter's entries, trimmed, in order; nil when absent
	HasCodecs     bool     // a codecs parameter was present
}

// essence returns "type/subtype".
func (m mimeType) essence() string { return m.Type + "/" + m.Subtype }

// isTokenChar reports whether c may appear in an RFC 2045 token.
func isTokenChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !strings.ContainsRune("()<>@,;:\\\"/[]?=", rune(c))
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// isHTTPSpace reports whether c is HTTP whitespace.
func isHTTPSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func trimHTTPSpace(s string) string {
	for len(s) > 0 && isHTTPSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isHTTPSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// parseMIME parses s. Type and subtype are case-insensitive; the codecs
// parameter may be a token (`codecs=vp8,opus`, as browsers accept) or a quoted
// string (`codecs="vp8, opus"`). Other parameters are checked for syntax and
// ignored.
func parseMIME(s string) (mimeType, error) {
	var m mimeType
	s = trimHTTPSpace(s)
	slash := strings.IndexByte(s, '/')
	if slash < 0 {
		return m, errBadMIME
	}
	m.Type = strings.ToLower(s[:slash])
	rest := s[slash+1:]
	semi := strings.IndexByte(rest, ';')
	sub := rest
	if semi >= 0 {
		sub, rest = rest[:semi], rest[semi:]
	} else {
		rest = ""
	}
	m.Subtype = strings.ToLower(trimHTTPSpace(sub))
	if !isToken(m.Type) || !isToken(m.Subtype) {
		return mimeType{}, errBadMIME
	}
	for rest != "" {
		// rest starts with ';'
		rest = trimHTTPSpace(rest[1:])
		if rest == "" {
			break
		}
		eq := strings.IndexAny(rest, "=;")
		if eq < 0 || rest[eq] == ';' {
			return mimeType{}, errBadMIME // parameter without a value
		}
		name := strings.ToLower(trimHTTPSpace(rest[:eq]))
		if !isToken(name) {
			return mimeType{}, errBadMIME
		}
		rest = rest[eq+1:]
		var value string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			closed := false
			for i < len(rest) {
				c := rest[i]
				if c == '\\' && i+1 < len(rest) {
					b.WriteByte(rest[i+1])
					i += 2
					continue
				}
				if c == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(c)
				i++
			}
			if !closed {
				return mimeType{}, errBadMIME
			}
			value = b.String()
			rest = trimHTTPSpace(rest[i:])
			if rest != "" && rest[0] != ';' {
				return mimeType{}, errBadMIME
			}
		} else {
			end := strings.IndexByte(rest, ';')
			if end < 0 {
				value, rest = trimHTTPSpace(rest), ""
			} else {
				value, rest = trimHTTPSpace(rest[:end]), rest[end:]
			}
			for i := 0; i < len(value); i++ {
				// Browsers accept "codecs=vp8,opus": allow commas and
				// spaces inside an unquoted value, nothing else outside token chars.
				if c := value[i]; !isTokenChar(c) && c != ',' && c != ' ' {
					return mimeType{}, errBadMIME
				}
			}
		}
		if name == "codecs" {
			if m.HasCodecs {
				return mimeType{}, errBadMIME // the parameter given twice
			}
			m.HasCodecs = true
			m.Codecs = []string{}
			for c := range strings.SplitSeq(value, ",") {
				c = trimHTTPSpace(c)
				if c == "" {
					return mimeType{}, errBadMIME
				}
				m.Codecs = append(m.Codecs, c)
			}
		}
	}
	return m, nil
}

// codecID names a codec the recorder can store: a recordable row of the
// codec table (internal/codec), whose names, facts and functions it has;
// codecUnknown (no row) for anything else.
type codecID struct{ *codec.Codec }

// The codecs the recorder stores, and none.
var (
	codecUnknown = codecID{}
	codecVP8     = codecID{codec.VP8}
	codecVP9     = codecID{codec.VP9}
	codecAV1     = codecID{codec.AV1}
	codecH264    = codecID{codec.H264}
	codecOpus    = codecID{codec.Opus}
	codecPCM     = codecID{codec.PCM}
)

// recordable returns the row c if the recorder stores its codec.
func recordable(c *codec.Codec) codecID {
	if !c.Recordable() {
		return codecUnknown
	}
	return codecID{c}
}

// kind returns the media kind the codec belongs to.
func (c codecID) kind() Kind {
	if c.Codec == nil {
		return ""
	}
	return Kind(c.Kind)
}

// defaultName is the codecs entry the recorder writes when the caller named none.
func (c codecID) defaultName() string {
	if c.Codec == nil {
		return ""
	}
	return c.MIMEName
}

// inSyncList reports whether the codec is in the spec's "list of
// synchronously exposed codecs" (vp8, vp9, h264, opus).
func (c codecID) inSyncList() bool { return c.Codec != nil && c.SyncExposed }

// codecFromMIMEName maps a codecs-parameter entry (case-insensitive) to a codec:
// vp8, vp9/vp09.*, av1/av01.*, h264/avc1.*/avc3.*, opus, pcm.
func codecFromMIMEName(name string) codecID { return recordable(codec.ByMIMEName(name)) }

// codecFromTrack maps a track's RTP-style Codec.MimeType to a codec.
func codecFromTrack(c Codec) codecID { return recordable(codec.ByRTPMimeType(c.MimeType)) }

// codecsOf returns the codecs of kind k the recorder stores, in the order
// it prefers them.
func codecsOf(k Kind) []codecID {
	var out []codecID
	for _, c := range codec.Table {
		if id := recordable(c); id.kind() == k {
			out = append(out, id)
		}
	}
	return out
}

// container is a recording container format.
type container int

const (
	containerNone container = iota
	containerWebM
	containerMatroska
	containerOgg
	containerMP4
)

// containerOf returns the container for a type/subtype, and which kinds the
// type allows ("audio/*" types hold no video).
func containerOf(essence string) (c container, video bool) {
	switch essence {
	case "video/webm":
		return containerWebM, true
	case "audio/webm":
		return containerWebM, false
	case "video/x-matroska":
		return containerMatroska, true
	case "audio/x-matroska":
		return containerMatroska, false
	case "audio/ogg":
		return containerOgg, false
	case "video/mp4":
		return containerMP4, true
	case "audio/mp4":
		return containerMP4, false
	}
	return containerNone, false
}

// holds reports whether the container can store the codec.
func (c container) holds(id codecID) bool {
	if id.Codec == nil {
		return false
	}
	switch c {
	case containerWebM:
		return id.WebM
	case containerMatroska:
		return true
	case containerOgg:
		return id.Ogg
	case containerMP4:
		return id.MP4Entry != ""
	}
	return false
}

// isTypeSupported is the spec's "is type supported" algorithm
// (MediaStream Recording, isTypeSupported()), step by step.
func isTypeSupported(typ string, deferNewerCodecsCheck bool) bool {
	// 1. An empty string leaves the choice to the UA.
	if typ == "" {
		return true
	}
	// 2. Not a valid MIME type string.
	m, err := parseMIME(typ)
	if err != nil {
		return false
	}
	// 3-4. Unsupported media type/subtype or container.
	cont, allowsVideo := containerOf(m.essence())
	if cont == containerNone {
		return false
	}
	// 5. More than one audio codec or more than one video codec.
	var nAudio, nVideo int
	for _, name := range m.Codecs {
		id := codecFromMIMEName(name)
		switch id.kind() {
		case KindAudio:
			nAudio++
		case KindVideo:
			nVideo++
		}
	}
	if nAudio > 1 || nVideo > 1 {
		return false
	}
	newer := false
	for _, name := range m.Codecs {
		id := codecFromMIMEName(name)
		if id == codecUnknown {
			// 6. Unsupported codecs in the synchronously exposed list
			// cannot be unknown to us: every one is supported. Anything
			// else we do not know is a "newer codec".
			newer = true
			continue
		}
		// 7. The combination of type and container (a video codec in an
		// audio-only type is a mismatch of type and codec, judged here
		// for codecs the list exposes, below for the others).
		if id.kind() == KindVideo && !allowsVideo && id.inSyncList() {
			return false
		}
		if !id.inSyncList() {
			newer = true
		}
	}
	// 8. Newer codecs may be checked later (at start).
	if newer && deferNewerCodecsCheck {
		return true
	}
	// 9. The full combination of type, codecs and container.
	for _, name := range m.Codecs {
		id := codecFromMIMEName(name)
		if id == codecUnknown || !cont.holds(id) || (id.kind() == KindVideo && !allowsVideo) {
			return false
		}
	}
	return true
}

// IsTypeSupported reports whether a Recorder can record media of the given
// MIME type, e.g. "video/webm;codecs=vp8,opus" or `audio/ogg; codecs="opus"`.
// The empty string is supported: the recorder then picks the type.
//
// Supported: video/webm and audio/webm (vp8, vp9, av1, opus, pcm),
// video/x-matroska and audio/x-matroska (those and h264), audio/ogg (opus),
// video/mp4 and audio/mp4 (fragmented MP4: h264, vp9, av1, opus).
// Codec names: vp8, vp9 or vp09.*, av1 or av01.*, h264 or avc1.*, opus, pcm.
// At most one audio and one video codec.
//
// The answer is about encoded tracks, which every build records as they
// are. Raw tracks (AudioTrack, VideoTrack) also need an encoder for the
// codec, registered by an encoder package (Encoders lists them); without
// one, Start fails with a NotSupportedError naming what to import or the
// build tag to use.
func IsTypeSupported(mimeType string) bool { return isTypeSupported(mimeType, false) }
