// Package mp4 writes fragmented MP4 files (ISO/IEC 14496-12 ISO base media
// file format, with the codec bindings of ISO/IEC 14496-15 for H.264, "AV1
// Codec ISO Media File Format Binding", "VP Codec ISO Media File Format
// Binding" and "Encapsulation of Opus in ISO Base Media File Format") as a
// stream, and probes MP4 files.
//
// The output starts with an init segment (ftyp and a moov whose sample
// tables are empty and whose mvex lists every track), then one movie
// fragment (moof + mdat) after another. A fragment starts at every video
// key frame and at least every Options.MaxFragmentDuration; each holds one
// traf per track that has samples in it. The bytes handed to the
// destination are a valid live stream at every fragment boundary, so Flush
// can cut a recording into chunks that a player can join.
//
// When Options.Seekable is set, the writer also finishes the file: Close
// appends an mfra index and patches the durations of mvhd, mehd, tkhd and
// mdhd in place.
//
// Timestamps are time.Duration values. They are converted to a track's
// timescale (90000 for video, 48000 for Opus) in exactly one place, the
// function toUnits, which rounds to the nearest unit; sample durations are
// the differences of converted timestamps, so rounding never accumulates.
//
// Probe reads an MP4 file or stream (fragmented or not) and reports its
// tracks, duration, fragments, index and problems. Fix finishes a
// fragmented MP4 that was cut off (a crashed recording): whole fragments
// kept, durations and the mfra index rebuilt.
package mp4

import (
	"errors"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/vp9"
)

// Errors returned by NewWriter, WriteSample, Flush, Close and Probe.
var (
	// ErrClosed is returned by WriteSample and Flush after Close.
	ErrClosed = errors.New("mp4: writer closed")
	// ErrTrack means a track is invalid (NewWriter: a zero or repeated ID,
	// an unknown type or codec, missing codec configuration) or not one of
	// the writer's tracks (WriteSample).
	ErrTrack = errors.New("mp4: invalid track")
	// ErrTimestamp means a sample's timestamp is negative or earlier than
	// the previous sample of the same track, or its duration is negative.
	ErrTimestamp = errors.New("mp4: timestamp out of order")
	// ErrNotSeekable means Options.Seekable is set but the destination is
	// not an io.WriteSeeker or cannot seek.
	ErrNotSeekable = errors.New("mp4: destination is not seekable")
	// ErrNotMP4 means Probe found no box structure at the start of its
	// input.
	ErrNotMP4 = errors.New("mp4: not an MP4 file")
)

// TrackType is the kind of a track: video or audio.
type TrackType uint8

// Track types.
const (
	TrackTypeVideo TrackType = 1
	TrackTypeAudio TrackType = 2
)

// String returns "video", "audio" or "unknown".
func (t TrackType) String() string {
	switch t {
	case TrackTypeVideo:
		return "video"
	case TrackTypeAudio:
		return "audio"
	}
	return "unknown"
}

// Sample entry codes (Track.Codec).
const (
	CodecAVC1 = "avc1" // H.264, AVCC holds the avcC record
	CodecAV01 = "av01" // AV1, AV1C holds the av1C record
	CodecVP09 = "vp09" // VP9, VP9 holds a key frame's header
	CodecOpus = "Opus" // Opus, Channels etc. give dOps
)

// Timescales of the media the writer produces, in units per second.
const (
	VideoTimescale = 90000
	AudioTimescale = 48000 // Opus always runs at 48 kHz
	movieTimescale = 1000  // mvhd, tkhd, mehd and fragment durations
)

// Track describes one track of a Writer.
type Track struct {
	ID   uint32 // 1-based, unique
	Type TrackType
	// Codec is the sample entry type: "avc1", "av01", "vp09" or "Opus".
	Codec string
	// Width and Height are the picture size of a video track. When zero
	// they are taken from AVCC's first SPS, AV1C's sequence header or VP9.
	Width, Height uint16
	// AVCC is the AVCDecoderConfigurationRecord of an avc1 track
	// (h264.AVCDecoderConfigurationRecord). Samples hold NAL units with
	// 4-byte big-endian lengths.
	AVCC []byte
	// AV1C is the AV1CodecConfigurationRecord of an av01 track
	// (av1.CodecConfigurationRecord). Samples hold the OBUs of a temporal
	// unit without temporal delimiters.
	AV1C []byte
	// VP9 is the header of a key frame of a vp09 track; it gives vpcC's
	// profile, bit depth, chroma subsampling and range. Nil means profile
	// 0, 8 bits, 4:2:0, studio range.
	VP9 *vp9.Header
	// Opus: the fields of dOps. Channels is the output channel count (1 to
	// 255; more than 2 use the channel mapping of opus.DefaultHead);
	// SampleRate is the informative input sample rate (0: 48000); PreSkip
	// is in 48 kHz samples; OutputGain is Q7.8 dB. The timescale is 48000.
	Channels   uint16
	SampleRate uint32
	PreSkip    uint16
	OutputGain int16
}

// Options configures a Writer.
type Options struct {
	// Tracks lists the tracks, in the order their trak and traf boxes are
	// written.
	Tracks []Track
	// Seekable makes Close finish the file: durations in mvhd, mehd (in
	// mvex, reserved up front), tkhd and mdhd, and an mfra index (a tfra
	// per track with one entry per fragment that starts with a sync
	// sample, and mfro) at the end. The destination must be an
	// io.WriteSeeker; writing starts at its current position.
	Seekable bool
	// MaxFragmentDuration is the longest time span of a fragment; a
	// fragment is also cut at every video key frame. The default is 5 s,
	// or 1 s when there is no video track.
	MaxFragmentDuration time.Duration
}

// DefaultMaxFragmentDuration and DefaultAudioFragmentDuration are the
// defaults of Options.MaxFragmentDuration with and without video.
const (
	DefaultMaxFragmentDuration   = 5 * time.Second
	DefaultAudioFragmentDuration = time.Second
)

// MaxFragmentSize is the most sample data a fragment buffers: a sample
// that would take a fragment past it is written in the next one.
const MaxFragmentSize = 16 << 20

// toUnits converts d to units of timescale, rounded to the nearest unit.
// It is the only place where the writer turns a time.Duration into media
// time.
func toUnits(d time.Duration, timescale uint32) int64 {
	s := int64(timescale)
	sec, frac := int64(d)/int64(time.Second), int64(d)%int64(time.Second)
	return sec*s + (frac*s+int64(time.Second)/2)/int64(time.Second)
}

// fromUnits converts u units of timescale to a time.Duration, rounded to
// the nearest nanosecond.
func fromUnits(u int64, timescale uint32) time.Duration {
	if timescale == 0 {
		return 0
	}
	s := int64(timescale)
	sec, frac := u/s, u%s
	return time.Duration(sec)*time.Second + time.Duration((frac*int64(time.Second)+s/2)/s)
}
