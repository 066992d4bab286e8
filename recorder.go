package mediarecorder

import (
	"context"
	"io"
	"strings"
	"sync"
	"time"
)

// State is the RecordingState of a Recorder.
type State string

// The recording states.
const (
	StateInactive  State = "inactive"
	StateRecording State = "recording"
	StatePaused    State = "paused"
)

// BitrateMode is the BitrateMode of audio encoding.
type BitrateMode string

// The bitrate modes.
const (
	BitrateVariable BitrateMode = "variable"
	BitrateConstant BitrateMode = "constant"
)

// Options are the MediaRecorderOptions. Zero values mean "not present".
type Options struct {
	MimeType                      string
	AudioBitsPerSecond            uint64
	VideoBitsPerSecond            uint64
	BitsPerSecond                 uint64 // overrides both when set, split between the kinds recorded
	AudioBitrateMode              BitrateMode
	VideoKeyFrameIntervalDuration time.Duration // ask the source for a key frame this long after the last one
	VideoKeyFrameIntervalCount    uint64        // ask the source for a key frame after this many frames
}

// Recorder is a MediaRecorder: it records a Stream into blobs of a
// container format (WebM, Matroska or Ogg) and reports them with events.
//
// Methods are safe to call from any goroutine. Events are delivered one at
// a time on the recorder's own goroutine, never from inside the method call
// that caused them; handlers may call the recorder's methods.
type Recorder struct {
	stream      *Stream
	opts        Options
	constrained mimeType

	mu          sync.Mutex
	state       State
	mimeType    string
	videoBps    uint64
	audioBps    uint64
	bitrateMode BitrateMode
	rec         *recording // the recording in progress (state != inactive)
	last        *recording // the most recently started recording
	mediaBase   time.Duration
	stats       Stats

	onStart, onStop, onPause, onResume func()
	onData                             func(BlobEvent)
	onError                            func(error)

	evq         []event
	dispatching bool
}

// Stats counts what a recorder could not store, across its recordings.
type Stats struct {
	// Dropped counts samples dropped because the recorder's buffer for a
	// track was full (a slow consumer), up to the next key frame.
	Dropped uint64
	// Skipped counts samples that could not be stored: empty or garbage
	// samples, video before its first key frame (or after a resume),
	// H.264 without SPS/PPS, AV1 without a sequence header.
	Skipped uint64
	// KeyFrameRequests counts the key frames asked of the tracks.
	KeyFrameRequests uint64
}

// New returns an inactive Recorder for stream (the MediaRecorder
// constructor). It fails with a NotSupportedError when opts.MimeType is not
// supported, or when both key-frame interval options are set.
func New(stream *Stream, opts Options) (*Recorder, error) {
	if stream == nil {
		return nil, domErr(NameNotSupported, "no stream")
	}
	// Constructor step 4: "is type supported".
	// The constructor throws whenever isTypeSupported would answer false,
	// so no type that IsTypeSupported rejects gets as far as start().
	if !isTypeSupported(opts.MimeType, false) {
		return nil, domErr(NameNotSupported, "unsupported MIME type "+quote(opts.MimeType))
	}
	if opts.VideoKeyFrameIntervalDuration != 0 && opts.VideoKeyFrameIntervalCount != 0 {
		return nil, domErr(NameNotSupported, "videoKeyFrameIntervalDuration and videoKeyFrameIntervalCount are both set")
	}
	r := &Recorder{stream: stream, opts: opts, state: StateInactive, mimeType: opts.MimeType}
	if opts.MimeType != "" {
		r.constrained, _ = parseMIME(opts.MimeType)
	}
	r.videoBps, r.audioBps = r.constructorBitrates()
	// The mode is kept if supported (both are), else "variable".
	r.bitrateMode = BitrateVariable
	if opts.AudioBitrateMode == BitrateConstant {
		r.bitrateMode = BitrateConstant
	}
	return r, nil
}

func quote(s string) string { return `"` + s + `"` }

// constructorBitrates follows the constructor's bitrate steps: explicit
// values verbatim, defaults otherwise, BitsPerSecond split over both kinds.
func (r *Recorder) constructorBitrates() (video, audio uint64) {
	video, audio = r.opts.VideoBitsPerSecond, r.opts.AudioBitsPerSecond
	if video == 0 {
		video = DefaultVideoBitsPerSecond
	}
	if audio == 0 {
		audio = DefaultAudioBitsPerSecond
	}
	if r.opts.BitsPerSecond != 0 {
		video, audio = splitBitrate(r.opts.BitsPerSecond, true, true)
	}
	return video, audio
}

// Stream returns the recorded stream.
func (r *Recorder) Stream() *Stream { return r.stream }

// MimeType returns the constructor's MimeType until the start event; from
// then until the recording stops, the full type with every recorded codec,
// e.g. "video/webm;codecs=vp8,opus".
func (r *Recorder) MimeType() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mimeType
}

// State returns the recording state.
func (r *Recorder) State() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// AudioBitsPerSecond returns the target audio bitrate.
func (r *Recorder) AudioBitsPerSecond() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.audioBps
}

// VideoBitsPerSecond returns the target video bitrate.
func (r *Recorder) VideoBitsPerSecond() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.videoBps
}

// AudioBitrateMode returns the audio bitrate mode.
func (r *Recorder) AudioBitrateMode() BitrateMode {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bitrateMode
}

// Stats returns what the recorder has dropped, skipped and requested so far.
func (r *Recorder) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Start begins recording (MediaRecorder.start). With timeslice > 0 a
// dataavailable event comes each time at least timeslice of media has been
// gathered; with 0 the whole recording comes in one blob at the end, a
// finished file with its duration and cues.
func (r *Recorder) Start(timeslice time.Duration) error {
	return r.start(timeslice, nil)
}

// StartFile is Start, recording straight into w (typically an *os.File,
// written from its current offset; not opened with O_APPEND) instead of
// memory, with memory use that does not grow with the recording's length.
//
// The file is a valid live stream at all times: whole elements (pages for
// Ogg) reach it at least every second and are fsync'd at least every five
// seconds, so a crash loses at most the last second. When the recording
// stops (Stop, all tracks ended, or an error) the file is finished in
// place: WebM/Matroska get their sizes, Duration, Cues and SeekHead, Ogg its
// final granule and EOS page. The stop event comes after that.
//
// dataavailable events still come, at the timeslice or at RequestData and
// Stop; their blobs are views of the file (Blob.Offset, Size) whose Bytes
// and NewReader read it back when w is an io.ReaderAt. Read after the stop
// event, the blobs concatenated are the finished file. StartFile never
// closes w.
func (r *Recorder) StartFile(w io.WriteSeeker, timeslice time.Duration) error {
	if w == nil {
		return domErr(NameNotSupported, "no file to record into")
	}
	return r.start(timeslice, w)
}

func (r *Recorder) start(timeslice time.Duration, w io.WriteSeeker) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	// start() step 5.
	if r.state != StateInactive {
		return domErr(NameInvalidState, "start() while "+string(r.state))
	}
	// Step 4: the live tracks of the stream's track set.
	var tracks []Track
	for _, t := range r.stream.Tracks() {
		if t.ReadyState() == TrackLive {
			tracks = append(tracks, t)
		}
	}
	// Step 7: an inactive stream.
	if len(tracks) == 0 {
		return domErr(NameNotSupported, "the stream has no live track")
	}
	// Raw tracks are recorded through encoders of this recording's own.
	tracks, encs, err := r.encodeRaw(tracks)
	if err != nil {
		return err
	}
	// Steps 8 and 15: constrain the configuration to the MIME type, and
	// fail for a track that cannot be recorded with it.
	cfg, err := configure(r.constrained, tracks)
	if err != nil {
		return err
	}
	// Step 9: split BitsPerSecond between the kinds being recorded.
	if r.opts.BitsPerSecond != 0 {
		r.videoBps, r.audioBps = splitBitrate(r.opts.BitsPerSecond, cfg.hasKind(KindVideo), cfg.hasKind(KindAudio))
	}
	// Step 12 was checked by New. Step 16: recording, then in parallel.
	rec := newRecording(r, cfg, timeslice, r.last)
	rec.failEncoders(encs)
	if w != nil {
		out, err := newFileOut(w)
		if err != nil {
			return &DOMException{Name: NameUnknown, Message: "cannot record into the file: " + err.Error(), cause: err}
		}
		rec.out, rec.toFile = out, true
	}
	r.state = StateRecording
	r.rec, r.last = rec, rec
	rec.begin()
	return nil
}

// inactivate is the spec's "Inactivate the recorder". r.mu is held.
func (r *Recorder) inactivate() {
	r.mimeType = r.opts.MimeType
	r.state = StateInactive
	if r.opts.BitsPerSecond != 0 {
		r.videoBps, r.audioBps = r.constructorBitrates()
	}
	r.rec = nil
}

// inactivateFor inactivates the recorder if rec is still its recording
// in progress, and reports whether it did.
func (r *Recorder) inactivateFor(rec *recording) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rec != rec {
		return false
	}
	r.inactivate()
	return true
}

// Stop ends the recording (MediaRecorder.stop): the state is "inactive"
// when it returns; then dataavailable delivers the data gathered since the
// last blob, and stop follows. On an inactive recorder it returns an
// InvalidStateError and fires nothing.
func (r *Recorder) Stop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	// stop() step 2 (the founding document raises InvalidStateError here).
	if r.state == StateInactive {
		return domErr(NameInvalidState, "stop() while inactive")
	}
	rec := r.rec
	// Step 3, then step 4's task runs on the recording's goroutine.
	r.inactivate()
	rec.stop(nil)
	return nil
}

// Pause stops gathering data until Resume; the timeline skips the pause.
func (r *Recorder) Pause() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.state {
	case StateInactive: // pause() step 1
		return domErr(NameInvalidState, "pause() while inactive")
	case StatePaused: // step 2
		return nil
	}
	// Step 3: the state now, the event from the recording's task.
	r.state = StatePaused
	r.rec.pause()
	return nil
}

// Resume continues gathering data after Pause; video resumes at a key frame.
func (r *Recorder) Resume() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.state {
	case StateInactive: // resume() step 1
		return domErr(NameInvalidState, "resume() while inactive")
	case StateRecording: // step 2
		return nil
	}
	r.state = StateRecording // step 3
	r.rec.resume()
	return nil
}

// RequestData delivers the data gathered so far in a dataavailable event
// at once, and starts a new blob.
func (r *Recorder) RequestData() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == StateInactive { // requestData() step 1
		return domErr(NameInvalidState, "requestData() while inactive")
	}
	r.rec.command(cmdRequestData, nil)
	return nil
}

// OnStart sets the start event handler.
func (r *Recorder) OnStart(f func()) { r.mu.Lock(); r.onStart = f; r.mu.Unlock() }

// OnStop sets the stop event handler.
func (r *Recorder) OnStop(f func()) { r.mu.Lock(); r.onStop = f; r.mu.Unlock() }

// OnPause sets the pause event handler.
func (r *Recorder) OnPause(f func()) { r.mu.Lock(); r.onPause = f; r.mu.Unlock() }

// OnResume sets the resume event handler.
func (r *Recorder) OnResume(f func()) { r.mu.Lock(); r.onResume = f; r.mu.Unlock() }

// OnDataAvailable sets the dataavailable event handler.
func (r *Recorder) OnDataAvailable(f func(BlobEvent)) { r.mu.Lock(); r.onData = f; r.mu.Unlock() }

// OnError sets the error event handler; err is a *DOMException.
func (r *Recorder) OnError(f func(err error)) { r.mu.Lock(); r.onError = f; r.mu.Unlock() }

// config is a recording's container, codecs and tracks, fixed at Start.
type config struct {
	container container
	docType   string // "webm" or "matroska"
	fullType  string // e.g. "video/webm;codecs=vp8,opus"
	tracks    []Track
	codecs    []codecID
}

func (c config) hasKind(k Kind) bool {
	for _, t := range c.tracks {
		if t.Kind() == k {
			return true
		}
	}
	return false
}

// configure picks the container and codecs for tracks under the constraint
// m (start() steps 8 and 15 and the in-parallel step 1). It does not
// transcode: a track is recordable only in its own codec.
func configure(m mimeType, live []Track) (config, error) {
	var cfg config
	var video, audio Track
	for _, t := range live {
		switch t.Kind() {
		case KindVideo:
			if video != nil {
				return cfg, domErr(NameNotSupported, "more than one live video track")
			}
			video = t
		case KindAudio:
			if audio != nil {
				return cfg, domErr(NameNotSupported, "more than one live audio track")
			}
			audio = t
		}
	}
	ordered := []Track{}
	if video != nil {
		ordered = append(ordered, video)
	}
	if audio != nil {
		ordered = append(ordered, audio)
	}
	essence := m.essence()
	if m.Type == "" {
		// The UA's choice: WebM, or Matroska for a codec WebM cannot hold (H.264).
		essence = "audio/webm"
		if video != nil {
			essence = "video/webm"
			if id := codecFromTrack(video.Codec()); id != codecUnknown && !containerWebM.holds(id) {
				essence = "video/x-matroska"
			}
		}
	}
	cont, allowsVideo := containerOf(essence)
	// Names the caller asked for, by kind.
	asked := map[Kind]string{}
	for _, name := range m.Codecs {
		id := codecFromMIMEName(name)
		if id == codecUnknown {
			return cfg, domErr(NameNotSupported, "unsupported codec "+quote(name))
		}
		asked[id.kind()] = name
	}
	var names []string
	for _, t := range ordered {
		id := codecFromTrack(t.Codec())
		if id == codecUnknown {
			return cfg, domErr(NameNotSupported, "cannot record a track of codec "+quote(t.Codec().MimeType))
		}
		if t.Kind() == KindVideo && !allowsVideo {
			return cfg, domErr(NameNotSupported, essence+" cannot hold the video track")
		}
		if !cont.holds(id) {
			return cfg, domErr(NameNotSupported, essence+" cannot hold "+t.Codec().MimeType)
		}
		name := id.defaultName()
		if a, ok := asked[t.Kind()]; ok {
			if codecFromMIMEName(a) != id {
				return cfg, domErr(NameNotSupported, "the "+string(t.Kind())+" track is "+t.Codec().MimeType+", not "+a+" (no transcoding)")
			}
			name = a
		}
		names = append(names, name)
		cfg.codecs = append(cfg.codecs, id)
	}
	cfg.tracks = ordered
	cfg.container = cont
	cfg.docType = "webm"
	if cont == containerMatroska {
		cfg.docType = "matroska"
	}
	cfg.fullType = essence + ";codecs=" + strings.Join(names, ",")
	return cfg, nil
}

// closedChan is what Done returns before the first Start.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Done returns a channel that is closed once the stop event of the
// recording most recently started has been delivered (its handler, if any,
// has returned): after it, a file given to StartFile is finished and may be
// closed. Before the first Start it returns a closed channel.
func (r *Recorder) Done() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		return closedChan
	}
	return r.last.stopped
}

// Wait waits until Done is closed, or ctx is done, and returns what ended
// the recording: nil after a normal stop (Stop, or every track ended), the
// *DOMException of the error event after an error, or ctx.Err().
func (r *Recorder) Wait(ctx context.Context) error {
	r.mu.Lock()
	rec := r.last
	r.mu.Unlock()
	if rec == nil {
		return nil
	}
	select {
	case <-rec.stopped:
		if rec.endErr == nil {
			return nil
		}
		return rec.endErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Duration returns how much media the recording most recently started
// holds: so far while it runs (the end of the latest sample written), and
// once it has stopped (after Done) the length the finished file says, its
// Duration (WebM, Matroska), mvhd duration (MP4) or final granule (Ogg) —
// which may count the last frame's own length where its source said less.
// Paused time is not counted. It is 0 before the first Start.
func (r *Recorder) Duration() time.Duration {
	r.mu.Lock()
	rec := r.last
	r.mu.Unlock()
	if rec == nil {
		return 0
	}
	return time.Duration(rec.duration.Load())
}

// Pending returns how many samples are buffered, not yet written, in the
// recording in progress (0 when inactive). A producer that must not lose
// samples (a file fed faster than real time) can wait while it is high.
func (r *Recorder) Pending() int {
	r.mu.Lock()
	rec := r.rec
	r.mu.Unlock()
	if rec == nil {
		return 0
	}
	n := 0
	for _, t := range rec.tracks {
		k, _ := t.q.size()
		n += k
	}
	return n
}
