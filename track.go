package mediarecorder

import "time"

// Kind is MediaStreamTrack.kind: "audio" or "video".
type Kind string

// The track kinds.
const (
	KindAudio Kind = "audio"
	KindVideo Kind = "video"
)

// TrackState is MediaStreamTrack.readyState.
type TrackState string

// The track states.
const (
	TrackLive  TrackState = "live"
	TrackEnded TrackState = "ended"
)

// Codec describes the encoded media that a track carries.
type Codec struct {
	MimeType    string // RTP-style: "audio/opus", "video/VP8", "video/VP9", "video/AV1", "video/H264", "audio/PCM"
	ClockRate   uint32 // e.g. 48000 for Opus, 90000 for video; the sample rate for PCM
	Channels    uint16 // audio only
	SDPFmtpLine string // e.g. "profile-level-id=42e01f;packetization-mode=1"
}

// Sample is one encoded frame (video) or packet (audio).
//
// Video samples are whole frames: VP8/VP9 frames, AV1 temporal units
// (low-overhead OBU format), H.264 access units in Annex B form. Audio
// samples are Opus packets or 16-bit little-endian interleaved PCM.
type Sample struct {
	Data     []byte
	Duration time.Duration // how long it plays; timestamps advance by it
}

// TimedSample is a Sample placed on its track's timeline, as a Track hands
// it to a Sink.
type TimedSample struct {
	Sample
	// Timestamp is when the sample starts to play, on a clock shared by the
	// tracks that are to be played in sync (for SampleTrack: the process's
	// monotonic clock when its first sample was written, then advanced by
	// each sample's Duration). Recorders only use differences.
	Timestamp time.Duration
	// KeyFrame is true for video frames that decode on their own, and for
	// every audio sample.
	KeyFrame bool
}

// Track is one MediaStreamTrack: a source of encoded samples.
// Several recorders may record the same track at once; each sees every sample.
//
// Implementations outside this package (RTP, files) usually keep a Fanout
// in an unexported field and forward Subscribe to it (embedding it would
// export End and Publish, letting callers end the track behind its back).
type Track interface {
	ID() string
	Kind() Kind
	Codec() Codec
	ReadyState() TrackState
	// Subscribe adds a sink that receives every sample the track produces
	// from now on, and TrackEnded when the track ends (at once if it has
	// already ended). The returned function removes the sink; after it
	// returns, the sink receives nothing more.
	Subscribe(s Sink) (unsubscribe func())
	// RequestKeyFrame asks the source for a key frame as soon as it can
	// (an RTCP PLI on WebRTC). It never blocks.
	RequestKeyFrame()
}

// Sink receives a track's samples; recorders implement it.
type Sink interface {
	// WriteSample is called for each sample, in order. It must not block
	// and must not keep s.Data after it returns (copy what it keeps).
	WriteSample(s TimedSample)
	// TrackEnded is called once when the track ends.
	TrackEnded()
}

// RoomWaiter is implemented by sinks that can tell a producer to wait:
// WaitRoom blocks while the sink holds a large backlog. Producers that must
// not lose samples (a file read faster than real time) call it through
// SampleTrack.WriteSampleWait; live producers never wait.
type RoomWaiter interface {
	WaitRoom()
}
