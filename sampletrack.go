package mediarecorder

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/id"

	"github.com/gomediarecorder/mediarecorder/internal/codec"
)

// ErrTrackEnded is returned by SampleTrack.WriteSample once the track has ended.
var ErrTrackEnded = errors.New("mediarecorder: track has ended")

// clockOrigin is the origin of the clock that SampleTracks stamp their
// first sample with (Now), so that tracks fed at the same moment start
// together. It is read through a pointer so that a test can move it into
// a testing/synctest bubble, whose clock starts in 2000 (useBubbleClock).
var clockOrigin atomic.Pointer[time.Time]

func init() {
	origin := time.Now()
	clockOrigin.Store(&origin)
}

// Now returns the current time on the clock that SampleTrack stamps
// samples with. Producers that know their samples' times (files, RTP) pass
// Now()+offset to WriteSampleAt, so that their tracks line up with each
// other and with tracks fed by WriteSample.
func Now() time.Duration { return time.Since(*clockOrigin.Load()) }

// SampleTrack is a Track that Go code feeds by hand, like pion's
// TrackLocalStaticSample: each WriteSample is one frame or packet.
//
// Timestamps: the first sample is stamped with the time it was written;
// each later one starts where the previous one ended (its Duration).
type SampleTrack struct {
	id    string
	kind  Kind
	codec Codec
	id2   codecID

	fan Fanout // not embedded: End would end the track behind its back

	mu        sync.Mutex
	ended     bool
	started   bool
	next      time.Duration // timestamp of the next sample
	keyReqs   chan struct{}
	onKeyReq  func()
	keyDetect codec.KeyFrameDetector // AV1: remembers the sequence header
}

// NewSampleTrack returns a live track carrying codec. Its Kind comes from
// the MIME type's prefix ("audio/" or "video/"); its ID is random.
func NewSampleTrack(codec Codec) *SampleTrack {
	k := KindVideo
	if strings.HasPrefix(strings.ToLower(codec.MimeType), "audio/") {
		k = KindAudio
	}
	return &SampleTrack{
		id:      id.New(),
		kind:    k,
		codec:   codec,
		id2:     codecFromTrack(codec),
		keyReqs: make(chan struct{}, 1),
	}
}

// ID returns the track's identifier.
func (t *SampleTrack) ID() string { return t.id }

// Kind returns "audio" or "video".
func (t *SampleTrack) Kind() Kind { return t.kind }

// Codec returns the codec given to NewSampleTrack.
func (t *SampleTrack) Codec() Codec { return t.codec }

// ReadyState returns "live", or "ended" after Stop.
func (t *SampleTrack) ReadyState() TrackState {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return TrackEnded
	}
	return TrackLive
}

// WriteSample hands one sample to every recorder recording the track. It
// never blocks on a slow recorder (recorders buffer, and drop what they
// cannot hold up to the next key frame). The caller may reuse s.Data once it
// returns. It fails once the track has ended.
func (t *SampleTrack) WriteSample(s Sample) error {
	return t.write(s, 0, false)
}

// WriteSampleAt is WriteSample for a sample whose start time ts (on the
// Now clock) the producer knows; later WriteSample calls continue from its
// end. Times should not go backwards; a gap stays a gap in the recording.
func (t *SampleTrack) WriteSampleAt(s Sample, ts time.Duration) error {
	return t.write(s, ts, true)
}

func (t *SampleTrack) write(s Sample, at time.Duration, explicit bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return ErrTrackEnded
	}
	switch {
	case explicit:
		t.started = true
		t.next = at
	case !t.started:
		t.started = true
		t.next = Now()
	}
	if s.Duration <= 0 {
		// Audio durations follow from the data when the caller gave none.
		s.Duration = t.id2.Duration(s.Data, t.codec.ClockRate, uint8(max(1, min(int(t.codec.Channels), 255))))
	}
	ts := TimedSample{Sample: s, Timestamp: t.next}
	if s.Duration > 0 {
		t.next += s.Duration
	}
	ts.KeyFrame = t.keyDetect.IsKeyFrame(t.id2.Codec, s.Data)
	// Publish under t.mu keeps samples in order across concurrent writers.
	t.fan.Publish(ts)
	return nil
}

// WriteSampleWait is WriteSample for producers faster than real time that
// must not lose samples (files, tests): it first waits while a recorder has
// a large backlog of this track's samples, so nothing is dropped. (WaitRoom
// does the waiting; call it before WriteSampleAt for the same effect.)
func (t *SampleTrack) WriteSampleWait(s Sample) error {
	t.fan.WaitRoom()
	return t.WriteSample(s)
}

// Stop ends the track: its readyState becomes "ended" and the recorders
// recording it are told. Idempotent.
func (t *SampleTrack) Stop() {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return
	}
	t.ended = true
	t.mu.Unlock()
	t.fan.End()
}

// Subscribe implements Track.Subscribe.
func (t *SampleTrack) Subscribe(s Sink) (unsubscribe func()) { return t.fan.Subscribe(s) }

// WaitRoom blocks until every recorder recording the track has room for
// more samples (see WriteSampleWait). Live producers never call it.
func (t *SampleTrack) WaitRoom() { t.fan.WaitRoom() }

// RequestKeyFrame records a request for a key frame: it calls the function
// set with OnKeyFrameRequest, if any, and signals KeyFrameRequests.
func (t *SampleTrack) RequestKeyFrame() {
	t.mu.Lock()
	f := t.onKeyReq
	t.mu.Unlock()
	select {
	case t.keyReqs <- struct{}{}:
	default: // a request is already pending
	}
	if f != nil {
		f()
	}
}

// KeyFrameRequests returns a channel that receives a value when a recorder
// asks for a key frame (requests that arrive while one is pending merge).
// A producer that can make key frames should make one soon after.
func (t *SampleTrack) KeyFrameRequests() <-chan struct{} { return t.keyReqs }

// OnKeyFrameRequest sets a function called (on the requester's goroutine;
// it must not block) each time a key frame is requested.
func (t *SampleTrack) OnKeyFrameRequest(f func()) {
	t.mu.Lock()
	t.onKeyReq = f
	t.mu.Unlock()
}
