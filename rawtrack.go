package mediarecorder

import (
	"image"
	"sync"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/id"
)

// Raw tracks carry media before encoding: PCM (AudioTrack) and pictures
// (VideoTrack), as a browser's microphone and camera tracks do. A recorder
// encodes them to the codec its MIME type asks for (by default Opus and
// VP8, or VP9 where the container needs it) with an encoder registered by
// an encoder package (see RegisterAudioEncoder), one encoder per recording,
// honouring the recorder's bitrate and key-frame options. Raw audio can
// also be recorded as it is, as PCM (codecs=pcm).
//
// Encoding happens in the goroutine that writes the frame, once for each
// recorder recording the track: a producer faster than real time is slowed
// to the encoders' speed and loses nothing.

// rawSink receives a raw track's media: the recorders' encoders.
type rawSink interface {
	writeVideo(f *VideoFrame, ts time.Duration)
	writeAudio(pcm []float32, ts time.Duration)
	waitRoom()
	TrackEnded()
}

// rawTrack is implemented by AudioTrack and VideoTrack.
type rawTrack interface {
	Track
	subscribeRaw(s rawSink) (unsubscribe func())
	audioFormat() (rate, channels int)
}

// rawFanout delivers a raw track's media to its sinks, in order.
type rawFanout struct {
	mu    sync.Mutex // held while delivering: orders writes, guards sinks
	sinks []rawSink
	ended bool
}

func (f *rawFanout) subscribeRaw(s rawSink) func() {
	f.mu.Lock()
	if f.ended {
		f.mu.Unlock()
		s.TrackEnded()
		return func() {}
	}
	f.sinks = append(f.sinks, s)
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, x := range f.sinks {
			if x == s {
				f.sinks = append(f.sinks[:i:i], f.sinks[i+1:]...)
				return
			}
		}
	}
}

// Subscribe implements Track: a raw track's media reach recorders through
// their encoders, so a plain Sink only learns when the track ends.
func (f *rawFanout) Subscribe(s Sink) func() {
	return f.subscribeRaw(endOnly{s})
}

func (f *rawFanout) end() {
	f.mu.Lock()
	if f.ended {
		f.mu.Unlock()
		return
	}
	f.ended = true
	sinks := f.sinks
	f.sinks = nil
	f.mu.Unlock()
	for _, s := range sinks {
		s.TrackEnded()
	}
}

func (f *rawFanout) waitRoom() {
	f.mu.Lock()
	sinks := append([]rawSink(nil), f.sinks...)
	f.mu.Unlock()
	for _, s := range sinks {
		s.waitRoom()
	}
}

// endOnly adapts a Sink to rawSink, passing on only the end.
type endOnly struct{ Sink }

func (endOnly) writeVideo(*VideoFrame, time.Duration) {}
func (endOnly) writeAudio([]float32, time.Duration)   {}
func (endOnly) waitRoom()                             {}

// rawClock stamps writes as SampleTrack does: the first with Now (or the
// time given), each later one where the previous one ended.
type rawClock struct {
	started bool
	next    time.Duration
}

func (c *rawClock) stamp(at time.Duration, explicit bool, dur time.Duration) time.Duration {
	switch {
	case explicit:
		c.started, c.next = true, at
	case !c.started:
		c.started, c.next = true, Now()
	}
	ts := c.next
	c.next += dur
	return ts
}

// VideoTrack is a raw video track: Go code writes pictures (I420 or NV12
// planes, or any image.Image) and recorders encode them. Every frame of a
// track has the size and pixel format of its first frame. Its methods are
// safe for concurrent use.
type VideoTrack struct {
	id string
	rawFanout

	wmu      sync.Mutex // serialises writes
	stopped  bool
	started  bool
	prevTS   time.Duration
	next     time.Duration
	first    bool
	format   PixelFormat
	w, h     int
	conv     []byte
	lastDur  time.Duration
	keyReqs  chan struct{}
	stopOnce sync.Once
}

// NewVideoTrack returns a live raw video track with a random ID.
func NewVideoTrack() *VideoTrack {
	return &VideoTrack{id: id.New(), keyReqs: make(chan struct{}, 1)}
}

// ID returns the track's identifier.
func (t *VideoTrack) ID() string { return t.id }

// Kind returns "video".
func (t *VideoTrack) Kind() Kind { return KindVideo }

// Codec returns MimeType "video/raw": the media is not encoded yet.
func (t *VideoTrack) Codec() Codec { return Codec{MimeType: "video/raw", ClockRate: 90000} }

// ReadyState returns "live", or "ended" after Stop.
func (t *VideoTrack) ReadyState() TrackState {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.stopped {
		return TrackEnded
	}
	return TrackLive
}

// RequestKeyFrame does nothing: the recorders' encoders make key frames.
func (t *VideoTrack) RequestKeyFrame() {}

func (t *VideoTrack) audioFormat() (int, int) { return 0, 0 }

// WriteFrame hands frame f to the recorders recording the track, stamped
// like SampleTrack.WriteSample: the first frame with the current time, each
// later one where the previous ended (its Duration, or the previous
// spacing). It returns an error wrapping ErrBadFrame, and records nothing,
// for a frame with a wrong size or plane length or a format other than the
// first frame's; ErrTrackEnded after Stop. The caller may reuse f's
// memory once it returns.
func (t *VideoTrack) WriteFrame(f VideoFrame) error { return t.write(f, 0, false) }

// WriteFrameAt is WriteFrame for a frame captured at ts (on the Now clock).
func (t *VideoTrack) WriteFrameAt(f VideoFrame, ts time.Duration) error {
	return t.write(f, ts, true)
}

// WriteFrameWait is WriteFrameAt for producers faster than real time: it
// first waits while a recorder holds a large backlog of the track's
// samples, so that nothing is dropped.
func (t *VideoTrack) WriteFrameWait(f VideoFrame, ts time.Duration) error {
	t.rawFanout.waitRoom()
	return t.write(f, ts, true)
}

// WaitRoom blocks while a recorder holds a large backlog of the track's
// samples; producers faster than real time call it before each write.
func (t *VideoTrack) WaitRoom() { t.rawFanout.waitRoom() }

// WriteImage converts img with FrameFromImage and writes it at ts.
func (t *VideoTrack) WriteImage(img image.Image, ts time.Duration) error {
	f, err := FrameFromImage(img)
	if err != nil {
		return err
	}
	return t.write(f, ts, true)
}

func (t *VideoTrack) write(f VideoFrame, at time.Duration, explicit bool) error {
	f, err := f.check()
	if err != nil {
		return err
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.stopped {
		return ErrTrackEnded
	}
	if !t.first {
		t.first, t.format, t.w, t.h = true, f.Format, f.Width, f.Height
	} else if f.Format != t.format || f.Width != t.w || f.Height != t.h {
		return badFrame("format changed mid-stream from %v %dx%d to %v %dx%d", t.format, t.w, t.h, f.Format, f.Width, f.Height)
	}
	ts := at
	switch {
	case !explicit && !t.started:
		ts = Now()
	case !explicit:
		ts = t.next
	}
	// A frame lasts its Duration, or as long as the spacing of the
	// previous two frames.
	switch {
	case f.Duration > 0:
		t.lastDur = f.Duration
	case t.started && ts > t.prevTS:
		t.lastDur = ts - t.prevTS
	case t.lastDur <= 0:
		t.lastDur = time.Second / 30
	}
	t.started, t.prevTS, t.next = true, ts, ts+t.lastDur
	var i420 VideoFrame
	i420, t.conv = f.toI420(t.conv)
	t.rawFanout.mu.Lock()
	defer t.rawFanout.mu.Unlock()
	for _, s := range t.rawFanout.sinks {
		s.writeVideo(&i420, ts)
	}
	return nil
}

// Stop ends the track. Idempotent.
func (t *VideoTrack) Stop() {
	t.wmu.Lock()
	t.stopped = true
	t.wmu.Unlock()
	t.stopOnce.Do(t.rawFanout.end)
}

// SampleFormat is the sample type of AudioTrack's PCM.
type SampleFormat int

// The PCM sample formats.
const (
	SampleInt16   SampleFormat = iota + 1 // signed 16-bit
	SampleFloat32                         // float32, full scale ±1
)

// AudioTrack is a raw audio track: Go code writes interleaved PCM and
// recorders encode it (or store it as PCM). Its methods are safe for
// concurrent use.
type AudioTrack struct {
	id       string
	rate     int
	channels int
	rawFanout

	wmu      sync.Mutex
	stopped  bool
	clock    rawClock
	conv     []float32
	stopOnce sync.Once
}

// The sample rates an AudioTrack takes.
const (
	minAudioRate = 8000
	maxAudioRate = 192000
)

// NewAudioTrack returns a live raw audio track of sampleRate Hz (8000 to
// 192000) and 1 or 2 channels, with a random ID. It returns an error
// wrapping ErrBadFrame for other formats.
func NewAudioTrack(sampleRate, channels int) (*AudioTrack, error) {
	if sampleRate < minAudioRate || sampleRate > maxAudioRate {
		return nil, badFrame("sample rate %d Hz (want %d to %d)", sampleRate, minAudioRate, maxAudioRate)
	}
	if channels != 1 && channels != 2 {
		return nil, badFrame("%d channels (want 1 or 2)", channels)
	}
	return &AudioTrack{id: id.New(), rate: sampleRate, channels: channels}, nil
}

// ID returns the track's identifier.
func (t *AudioTrack) ID() string { return t.id }

// Kind returns "audio".
func (t *AudioTrack) Kind() Kind { return KindAudio }

// Codec returns MimeType "audio/raw" with the track's rate and channels.
func (t *AudioTrack) Codec() Codec {
	return Codec{MimeType: "audio/raw", ClockRate: uint32(t.rate), Channels: uint16(t.channels)}
}

// SampleRate returns the track's sample rate in Hz.
func (t *AudioTrack) SampleRate() int { return t.rate }

// Channels returns 1 or 2.
func (t *AudioTrack) Channels() int { return t.channels }

// ReadyState returns "live", or "ended" after Stop.
func (t *AudioTrack) ReadyState() TrackState {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.stopped {
		return TrackEnded
	}
	return TrackLive
}

// RequestKeyFrame does nothing: every audio packet is a key frame.
func (t *AudioTrack) RequestKeyFrame() {}

func (t *AudioTrack) audioFormat() (int, int) { return t.rate, t.channels }

// WriteInt16 writes interleaved 16-bit PCM, stamped like
// SampleTrack.WriteSample: the first buffer with the current time, each later
// one where the previous ended. Any number of whole sample frames (one
// sample per channel) may be written at once. It returns an error wrapping
// ErrBadFrame when len(pcm) is not a multiple of the channel count, and
// ErrTrackEnded after Stop. The caller may reuse pcm once it returns.
func (t *AudioTrack) WriteInt16(pcm []int16) error { return t.writeInt16(pcm, 0, false) }

// WriteInt16At is WriteInt16 for audio whose first sample was captured at
// ts (on the Now clock).
func (t *AudioTrack) WriteInt16At(pcm []int16, ts time.Duration) error {
	return t.writeInt16(pcm, ts, true)
}

// WriteFloat32 is WriteInt16 for float32 samples (full scale ±1; louder
// samples are clipped).
func (t *AudioTrack) WriteFloat32(pcm []float32) error { return t.writeFloat(pcm, 0, false) }

// WriteFloat32At is WriteFloat32 for audio captured at ts.
func (t *AudioTrack) WriteFloat32At(pcm []float32, ts time.Duration) error {
	return t.writeFloat(pcm, ts, true)
}

// WaitRoom blocks while a recorder holds a large backlog of the track's
// samples; producers faster than real time call it before each write.
func (t *AudioTrack) WaitRoom() { t.rawFanout.waitRoom() }

func (t *AudioTrack) writeInt16(pcm []int16, at time.Duration, explicit bool) error {
	if len(pcm)%t.channels != 0 {
		return badFrame("%d samples is not a whole number of %d-channel frames", len(pcm), t.channels)
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.conv = t.conv[:0]
	for _, v := range pcm {
		t.conv = append(t.conv, float32(v)/32768)
	}
	return t.deliver(t.conv, at, explicit)
}

func (t *AudioTrack) writeFloat(pcm []float32, at time.Duration, explicit bool) error {
	if len(pcm)%t.channels != 0 {
		return badFrame("%d samples is not a whole number of %d-channel frames", len(pcm), t.channels)
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.conv = t.conv[:0]
	for _, v := range pcm {
		switch {
		case v > 1:
			v = 1
		case v < -1:
			v = -1
		case v != v: // NaN
			v = 0
		}
		t.conv = append(t.conv, v)
	}
	return t.deliver(t.conv, at, explicit)
}

// deliver stamps and hands pcm to the sinks. t.wmu is held.
func (t *AudioTrack) deliver(pcm []float32, at time.Duration, explicit bool) error {
	if t.stopped {
		return ErrTrackEnded
	}
	if len(pcm) == 0 {
		return nil
	}
	frames := len(pcm) / t.channels
	dur := time.Duration(int64(frames) * int64(time.Second) / int64(t.rate))
	ts := t.clock.stamp(at, explicit, dur)
	t.rawFanout.mu.Lock()
	defer t.rawFanout.mu.Unlock()
	for _, s := range t.rawFanout.sinks {
		s.writeAudio(pcm, ts)
	}
	return nil
}

// Stop ends the track. Idempotent.
func (t *AudioTrack) Stop() {
	t.wmu.Lock()
	t.stopped = true
	t.wmu.Unlock()
	t.stopOnce.Do(t.rawFanout.end)
}
