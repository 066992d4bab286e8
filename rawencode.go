package mediarecorder

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// encodingTrack is what a recording records in place of a raw track: the
// raw media encoded, for this recording only, to the codec it chose. It
// is an ordinary Track to the recording (which asks it for key frames at
// the start, after each resume and at the key-frame interval); the
// encoder is made with the first frame and closed when the recording
// unsubscribes.
type encodingTrack struct {
	raw   rawTrack
	id    codecID
	codec Codec
	bps   uint64
	mode  BitrateMode
	// Key-frame interval options, applied here exactly, frame by frame.
	keyEvery    time.Duration
	keyEveryN   uint64
	fail        atomic.Pointer[func(error)] // ends the recording on an encoder error
	rec         atomic.Pointer[recording]
	keyReq      atomic.Bool
	lastKeyWall atomic.Int64 // UnixNano when the latest key frame was published

	Fanout

	mu      sync.Mutex // held while encoding
	closed  bool
	failed  bool
	venc    VideoEncoder
	aenc    AudioEncoder
	vw, vh  int
	lastKey time.Duration
	since   uint64
	keySeen bool
	epoch   uint64 // the recording's resume count at the latest frame
	// audio
	rs      *resampler
	pending []float32     // resampled audio waiting for a whole frame
	nextTS  time.Duration // timestamp of pending[0]
	delay   time.Duration // the encoder's delay
	tsSet   bool
	pcmBuf  []byte
}

// noEncoderErr is the error for a raw track that no registered encoder
// can take: it says what to import, or which build tag to use.
func noEncoderErr(k Kind, name string) error {
	switch {
	case k == KindVideo && (name == "video" || codecFromMIMEName(name) == codecVP8 || codecFromMIMEName(name) == codecVP9):
		return domErr(NameNotSupported, fmt.Sprintf("no %s encoder for the raw video track: build with -tags libvpx and import github.com/gomediarecorder/mediarecorder/encode/vpx", name))
	case k == KindAudio && (name == "audio" || codecFromMIMEName(name) == codecOpus):
		return domErr(NameNotSupported, fmt.Sprintf("no %s encoder for the raw audio track: import github.com/gomediarecorder/mediarecorder/encode/opus", name))
	}
	return domErr(NameNotSupported, fmt.Sprintf("no encoder for the raw %s track to %s (available: %s)", k, name, strings.Join(Encoders(), ", ")))
}

// chooseRawCodec picks what a raw track of kind k becomes in essence
// (empty when the UA chooses) given the codec the MIME type asks for, if any.
func chooseRawCodec(k Kind, essence, asked string) (codecID, error) {
	if asked != "" {
		id := codecFromMIMEName(asked)
		if !canEncode(k, id) {
			return id, noEncoderErr(k, asked)
		}
		return id, nil
	}
	cont := containerWebM
	if essence != "" {
		cont, _ = containerOf(essence)
	}
	for _, id := range codecsOf(k) {
		if cont.holds(id) && canEncode(k, id) {
			return id, nil
		}
	}
	if k == KindVideo {
		return codecUnknown, noEncoderErr(k, "video")
	}
	return codecUnknown, noEncoderErr(k, "audio")
}

// encodeRaw replaces the raw tracks among tracks by encodingTracks for a
// new recording, with the recorder's bitrates for the kinds recorded.
// r.mu is held.
func (r *Recorder) encodeRaw(tracks []Track) ([]Track, []*encodingTrack, error) {
	var hasVideo, hasAudio, anyRaw bool
	for _, t := range tracks {
		_, raw := t.(rawTrack)
		anyRaw = anyRaw || raw
		hasVideo = hasVideo || t.Kind() == KindVideo
		hasAudio = hasAudio || t.Kind() == KindAudio
	}
	if !anyRaw {
		return tracks, nil, nil
	}
	videoBps, audioBps := r.videoBps, r.audioBps
	if r.opts.BitsPerSecond != 0 {
		videoBps, audioBps = splitBitrate(r.opts.BitsPerSecond, hasVideo, hasAudio)
	}
	essence := ""
	if r.constrained.Type != "" {
		essence = r.constrained.essence()
	}
	asked := map[Kind]string{}
	for _, name := range r.constrained.Codecs {
		asked[codecFromMIMEName(name).kind()] = name
	}
	out := make([]Track, len(tracks))
	var encs []*encodingTrack
	for i, t := range tracks {
		raw, ok := t.(rawTrack)
		if !ok {
			out[i] = t
			continue
		}
		id, err := chooseRawCodec(t.Kind(), essence, asked[t.Kind()])
		if err != nil {
			return nil, nil, err
		}
		e := &encodingTrack{raw: raw, id: id, mode: r.bitrateMode,
			keyEvery: r.opts.VideoKeyFrameIntervalDuration, keyEveryN: r.opts.VideoKeyFrameIntervalCount}
		if t.Kind() == KindVideo {
			e.bps = videoBps
			e.codec = Codec{MimeType: id.RTPMimeType, ClockRate: id.ClockRate}
		} else {
			rate, ch := raw.audioFormat()
			e.bps = audioBps
			e.codec = Codec{MimeType: id.RTPMimeType, ClockRate: id.ClockRate, Channels: uint16(ch)}
			if e.codec.ClockRate == 0 { // PCM: the sample rate
				e.codec.ClockRate = uint32(rate)
			}
		}
		out[i] = e
		encs = append(encs, e)
	}
	return out, encs, nil
}

// ID returns the raw track's ID.
func (e *encodingTrack) ID() string { return e.raw.ID() }

// Kind returns the raw track's kind.
func (e *encodingTrack) Kind() Kind { return e.raw.Kind() }

// Codec returns the codec the track is encoded to.
func (e *encodingTrack) Codec() Codec { return e.codec }

// ReadyState returns the raw track's state.
func (e *encodingTrack) ReadyState() TrackState { return e.raw.ReadyState() }

// keyFrameGrace: a request for a key frame within this time of the
// latest one is taken as made before the requester saw it (the recording
// asks at its start, when the encoder's first key frame is on its way). A
// requester that lost the key frame asks again later (the recording
// does, every 500 ms).
const keyFrameGrace = 100 * time.Millisecond

// RequestKeyFrame makes the next frame a key frame, unless one was made
// just now.
func (e *encodingTrack) RequestKeyFrame() {
	if time.Now().UnixNano()-e.lastKeyWall.Load() < int64(keyFrameGrace) {
		return
	}
	e.keyReq.Store(true)
}

// Subscribe attaches s (the recording) and starts taking the raw track's
// media; unsubscribing detaches it and closes the encoder.
func (e *encodingTrack) Subscribe(s Sink) func() {
	unsub := e.Fanout.Subscribe(s)
	rawUnsub := e.raw.subscribeRaw(e)
	return func() {
		rawUnsub()
		unsub()
		e.close()
	}
}

func (e *encodingTrack) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	if e.venc != nil {
		_ = e.venc.Close()
		e.venc = nil
	}
	if e.aenc != nil {
		_ = e.aenc.Close()
		e.aenc = nil
	}
}

// failWith stops encoding and ends the recording with err.
func (e *encodingTrack) failWith(err error) {
	e.failed = true
	if f := e.fail.Load(); f != nil {
		// Not from here: the writer holds the raw track's lock, which the
		// recorder may be waiting for.
		go (*f)(err)
	}
}

func (e *encodingTrack) waitRoom() { e.Fanout.WaitRoom() }

// TrackEnded implements rawSink: the raw track ended.
func (e *encodingTrack) TrackEnded() {
	e.mu.Lock()
	e.flushAudio()
	e.mu.Unlock()
	e.Fanout.End()
}

// writeVideo implements rawSink.
func (e *encodingTrack) writeVideo(f *VideoFrame, ts time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || e.failed || e.Kind() != KindVideo {
		return
	}
	rec := e.rec.Load()
	if rec != nil && (rec.paused.Load() || !rec.gathering.Load()) {
		return // the recording drops it: save the work
	}
	if e.venc == nil {
		newEnc := videoEncoderFor(e.id)
		if newEnc == nil {
			e.failWith(noEncoderErr(KindVideo, e.id.defaultName()))
			return
		}
		rate := 30.0
		if f.Duration > 0 {
			rate = float64(time.Second) / float64(f.Duration)
		}
		enc, err := newEnc(VideoEncoderConfig{Codec: e.id.defaultName(), Width: f.Width, Height: f.Height, BitsPerSecond: e.bps, FrameRate: rate})
		if err != nil {
			e.failWith(fmt.Errorf("%s encoder: %w", e.id.defaultName(), err))
			return
		}
		e.venc, e.vw, e.vh = enc, f.Width, f.Height
	}
	force := e.keyReq.Swap(false) || !e.keySeen
	if rec != nil {
		// A key frame at the start and after every resume.
		if ep := rec.epoch.Load(); ep != e.epoch {
			e.epoch, force = ep, true
		}
	}
	if e.keySeen && ((e.keyEvery > 0 && ts-e.lastKey >= e.keyEvery) || (e.keyEveryN > 0 && e.since >= e.keyEveryN)) {
		force = true
	}
	out, err := e.venc.Encode(f, ts, force)
	if err != nil {
		e.failWith(fmt.Errorf("%s encoder: %w", e.id.defaultName(), err))
		return
	}
	for _, s := range out {
		if s.KeyFrame {
			e.keySeen, e.lastKey, e.since = true, s.Timestamp, 0
			e.lastKeyWall.Store(time.Now().UnixNano())
		}
		e.since++
		if s.Duration <= 0 {
			s.Duration = f.Duration
		}
		e.Fanout.Publish(s)
	}
}

// writeAudio implements rawSink.
func (e *encodingTrack) writeAudio(pcm []float32, ts time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || e.failed || e.Kind() != KindAudio {
		return
	}
	if rec := e.rec.Load(); rec != nil && (rec.paused.Load() || !rec.gathering.Load()) {
		// The recording drops it: save the work, and start afresh (on the
		// producer's clock) after the resume.
		e.pending, e.tsSet = e.pending[:0], false
		return
	}
	rate, ch := e.raw.audioFormat()
	if e.id == codecPCM {
		e.pcmBuf = e.pcmBuf[:0]
		for _, v := range pcm {
			e.pcmBuf = binary.LittleEndian.AppendUint16(e.pcmBuf, uint16(int16(max(-32768, min(32767, v*32768)))))
		}
		d := time.Duration(int64(len(pcm)/ch) * int64(time.Second) / int64(rate))
		e.Fanout.Publish(TimedSample{Sample: Sample{Data: e.pcmBuf, Duration: d}, Timestamp: ts, KeyFrame: true})
		return
	}
	if e.aenc == nil {
		newEnc := audioEncoderFor(e.id)
		if newEnc == nil {
			e.failWith(noEncoderErr(KindAudio, e.id.defaultName()))
			return
		}
		enc, err := newEnc(AudioEncoderConfig{Codec: e.id.defaultName(), SampleRate: rate, Channels: ch, BitsPerSecond: e.bps, BitrateMode: e.mode})
		if err != nil {
			e.failWith(fmt.Errorf("%s encoder: %w", e.id.defaultName(), err))
			return
		}
		e.aenc = enc
		if l, ok := enc.(interface{ Lookahead() int }); ok {
			e.delay = time.Duration(int64(l.Lookahead()) * int64(time.Second) / int64(enc.SampleRate()))
		}
		if enc.SampleRate() != rate {
			e.rs = newResampler(rate, enc.SampleRate(), ch)
		}
	}
	encRate := e.aenc.SampleRate()
	buffered := time.Duration(int64(len(e.pending)/ch) * int64(time.Second) / int64(encRate))
	// Follow the producer's clock when it jumps (a gap, a resume) by more
	// than a packet; small jitter is ignored.
	if !e.tsSet || absDur(ts-(e.nextTS+buffered)) > 60*time.Millisecond {
		e.nextTS, e.tsSet = ts-buffered, true
	}
	if e.rs != nil {
		pcm = e.rs.process(pcm)
	}
	e.pending = append(e.pending, pcm...)
	e.encodeFrames(false)
}

// encodeFrames encodes each whole frame pending (and, with final, the rest
// padded with silence). e.mu is held.
func (e *encodingTrack) encodeFrames(final bool) {
	_, ch := e.raw.audioFormat()
	n := e.aenc.FrameSize() * ch
	if final && len(e.pending) > 0 && len(e.pending) < n {
		e.pending = append(e.pending, make([]float32, n-len(e.pending))...)
	}
	frameDur := time.Duration(int64(e.aenc.FrameSize()) * int64(time.Second) / int64(e.aenc.SampleRate()))
	done := 0
	for len(e.pending)-done >= n {
		pkt, err := e.aenc.Encode(e.pending[done : done+n])
		if err != nil {
			e.failWith(fmt.Errorf("%s encoder: %w", e.id.defaultName(), err))
			return
		}
		done += n
		// An encoder's delay (Opus: its lookahead) comes first in its
		// output: placing each packet that much earlier keeps the sound
		// where it was captured.
		e.Fanout.Publish(TimedSample{Sample: Sample{Data: pkt, Duration: frameDur}, Timestamp: e.nextTS - e.delay, KeyFrame: true})
		e.nextTS += frameDur
	}
	e.pending = e.pending[:copy(e.pending, e.pending[done:])]
}

// flushAudio encodes what is pending when the track ends. e.mu is held.
func (e *encodingTrack) flushAudio() {
	if e.aenc != nil && !e.closed && !e.failed {
		e.encodeFrames(true)
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// failEncoders attaches the encoders to rec: an encoder error ends it with
// an UnknownError, as a browser's MediaRecorder does when its encoder
// fails, and the encoders follow its pause and resume.
func (rec *recording) failEncoders(encs []*encodingTrack) {
	f := func(err error) {
		if rec.link.inactivate(rec) {
			rec.stop(domErr(NameUnknown, err.Error()))
		}
	}
	for _, e := range encs {
		e.fail.Store(&f)
		e.rec.Store(rec)
	}
}
