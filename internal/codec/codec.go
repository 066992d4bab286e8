// Package codec is the table of the codecs the module records and reads:
// one row per codec (a [Codec], in a file of its own) with what the codec is
// called where — RTP MIME type, MIME codecs parameter, Matroska CodecID, MP4
// sample entry, IVF FourCC — and how its frames look: key frames,
// validation, the container configuration learnt from the first samples,
// the conversion for Matroska and ISO BMFF, durations.
//
// The root package, the sources and the command look codecs up here
// instead of switching on names; adding a codec is adding a row.
package codec

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/av1"
	"github.com/gomediarecorder/mediarecorder/codecs/vp9"
)

// Kind is a codec's media kind; the values are those of mediarecorder.Kind.
type Kind string

// The kinds of media.
const (
	Audio Kind = "audio"
	Video Kind = "video"
)

// ErrNotConfigurable is returned by [Codec.Configure] when the sample does
// not carry what a container header needs (a key frame header, SPS/PPS, a
// sequence header), or the codec is not one the module records.
var ErrNotConfigurable = errors.New("codec: sample does not configure the track")

// Params is what a track's producer says about its codec: the fields of
// mediarecorder.Codec that configuration reads.
type Params struct {
	ClockRate   uint32 // RTP clock rate; PCM: the sample rate
	Channels    uint16
	SDPFmtpLine string // H.264 sprop-parameter-sets, Opus stereo=1
}

// Config is what a container header needs to know about a track, learnt
// from its first usable sample.
type Config struct {
	Width, Height uint32
	CodecPrivate  []byte // Matroska's CodecPrivate: avcC, av1C, VP9 features, OpusHead
	Channels      uint8
	SampleRate    uint32
	H264SPS       [][]byte
	H264PPS       [][]byte
	VP9           vp9.Header // VP9: the first key frame's header (MP4's vpcC)
}

// Codec is one row of the table. The exported fields are names and facts;
// the behaviour is behind the methods. A row whose Recordable is false is
// known by name only (probe output, skipped tracks).
type Codec struct {
	// Name is the short lower-case name tools print: "vp8", "h264", "opus".
	Name string
	// Kind is the media kind.
	Kind Kind
	// MIMEName is the codecs-parameter entry a recorder writes when the
	// caller named none ("avc1" for H.264); "" when it records none.
	MIMEName string
	// SyncExposed: the codec is in the MediaStream Recording spec's "list
	// of synchronously exposed codecs" (vp8, vp9, h264, opus).
	SyncExposed bool
	// RTPMimeType is the type tracks carry (mediarecorder.Codec.MimeType,
	// RTP's media type/encoding name), in its usual spelling: "video/VP8".
	RTPMimeType string
	// ClockRate is the RTP clock rate; 0 when it is the sample rate.
	ClockRate uint32
	// MatroskaID is the Matroska/WebM TrackEntry CodecID.
	MatroskaID string
	// MP4Entry is the ISO BMFF sample entry type; "" when MP4 holds none.
	MP4Entry string
	// IVFFourCC is the IVF header's FourCC; "" when IVF holds none.
	IVFFourCC string
	// WebM: WebM's codec list holds it (Matroska holds every recordable row).
	WebM bool
	// Ogg: an Ogg recording holds it.
	Ogg bool
	// Reorders: frames may come in decoding order, not presentation order
	// (H.264 B-frames); a container must take timestamps out of order.
	Reorders bool
	// BitDepth is the bits per audio sample when the codec fixes it (PCM).
	BitDepth uint8
	// SeekPreRoll is the Matroska SeekPreRoll: how much must be decoded
	// before a seek target for the output to be right (Opus: 80 ms).
	SeekPreRoll time.Duration

	mimeNames    []string // more codecs-parameter entries naming it exactly, lower case
	mimePrefixes []string // codecs-parameter prefixes naming a profile: "avc1."
	rtpAliases   []string // more RTP MIME types
	mp4Aliases   []string // more sample entry types
	ivfAliases   []string // more FourCCs

	valid       func(data []byte) bool
	keyFrame    func(data []byte, av1Seq **av1.SequenceHeader) bool
	configure   func(p Params, data []byte) (Config, error)
	toContainer func(dst, data []byte) ([]byte, error)
	duration    func(data []byte, sampleRate uint32, channels uint8) time.Duration
}

// Table is every row, in the order a recorder prefers them within a kind.
var Table = []*Codec{VP8, VP9, AV1, H264, Opus, PCM, Vorbis, AAC}

// Recordable reports whether the module records the codec (it can
// configure a container track from its samples).
func (c *Codec) Recordable() bool { return c != nil && c.configure != nil }

// Valid reports whether data is well-formed enough to store: its headers
// parse and their sizes fit. A sample that fails would break decoding.
func (c *Codec) Valid(data []byte) bool {
	if c == nil || c.valid == nil || len(data) == 0 {
		return false
	}
	return c.valid(data)
}

// IsKeyFrame reports whether data starts a key frame, from data alone (an
// AV1 temporal unit needs its own sequence header: see KeyFrameDetector).
// Every non-empty audio sample is a key frame.
func (c *Codec) IsKeyFrame(data []byte) bool {
	if c == nil || c.keyFrame == nil {
		return false
	}
	return c.keyFrame(data, nil)
}

// KeyFrameDetector tells key frames of one stream: AV1 frame headers need
// the stream's sequence header, which it remembers. The zero value is
// ready; it is not safe for concurrent use.
type KeyFrameDetector struct {
	av1Seq *av1.SequenceHeader
}

// IsKeyFrame reports whether data, the next sample of the stream, starts
// a key frame of codec c.
func (d *KeyFrameDetector) IsKeyFrame(c *Codec, data []byte) bool {
	if c == nil || c.keyFrame == nil {
		return false
	}
	return c.keyFrame(data, &d.av1Seq)
}

// Configure reads a track's container configuration from a first sample;
// ErrNotConfigurable when the sample does not carry it.
func (c *Codec) Configure(p Params, data []byte) (Config, error) {
	if c == nil || c.configure == nil {
		return Config{}, ErrNotConfigurable
	}
	return c.configure(p, data)
}

// ContainerFrame returns data as Matroska and ISO BMFF store it: H.264
// length-prefixed instead of Annex B, AV1 without temporal delimiters,
// built in *scratch (grown as needed); other codecs' data as it is.
func (c *Codec) ContainerFrame(scratch *[]byte, data []byte) ([]byte, error) {
	if c == nil || c.toContainer == nil {
		return data, nil
	}
	out, err := c.toContainer((*scratch)[:0], data)
	*scratch = out
	return out, err
}

// Duration is a sample's duration from its content (PCM: and the track's
// sample rate and channels), 0 when the codec does not say (video: a
// frame's duration is the distance to the next).
func (c *Codec) Duration(data []byte, sampleRate uint32, channels uint8) time.Duration {
	if c == nil || c.duration == nil {
		return 0
	}
	return c.duration(data, sampleRate, channels)
}

// ByMIMEName returns the row a codecs-parameter entry names (case
// insensitive: "vp8", "vp09.00.10.08", "avc1.42E01F", "opus"), or nil.
func ByMIMEName(name string) *Codec {
	n := strings.ToLower(name)
	return find(func(c *Codec) bool {
		return named(n, c.MIMEName, c.mimeNames) ||
			slices.ContainsFunc(c.mimePrefixes, func(p string) bool { return strings.HasPrefix(n, p) })
	})
}

// ByRTPMimeType returns the row of a track's MIME type ("video/VP8",
// "audio/opus"; case insensitive), or nil.
func ByRTPMimeType(mime string) *Codec {
	return find(func(c *Codec) bool {
		return mime != "" && (strings.EqualFold(mime, c.RTPMimeType) ||
			slices.ContainsFunc(c.rtpAliases, func(a string) bool { return strings.EqualFold(mime, a) }))
	})
}

// ByMatroskaID returns the row of a Matroska CodecID ("V_VP8"), or nil.
func ByMatroskaID(id string) *Codec {
	return find(func(c *Codec) bool { return named(id, c.MatroskaID, nil) })
}

// ByMP4Entry returns the row of an ISO BMFF sample entry type ("avc1",
// "avc3", "Opus"), or nil.
func ByMP4Entry(entry string) *Codec {
	return find(func(c *Codec) bool { return named(entry, c.MP4Entry, c.mp4Aliases) })
}

// ByIVFFourCC returns the row of an IVF FourCC ("VP80", "av01"), or nil.
func ByIVFFourCC(fourcc string) *Codec {
	return find(func(c *Codec) bool { return named(fourcc, c.IVFFourCC, c.ivfAliases) })
}

// find returns the first row that matches, or nil.
func find(match func(c *Codec) bool) *Codec {
	for _, c := range Table {
		if match(c) {
			return c
		}
	}
	return nil
}

// named reports whether s, not empty, is name or one of aliases.
func named(s, name string, aliases []string) bool {
	return s != "" && (s == name || slices.Contains(aliases, s))
}

// audioKeyFrame: every audio sample is a key frame.
func audioKeyFrame(data []byte, _ **av1.SequenceHeader) bool { return len(data) > 0 }
