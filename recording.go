package mediarecorder

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Interleaving bounds: a sample waits for the other tracks' samples at most
// this much media time or wall time, so that blocks come out in timestamp
// order without unbounded delay.
const (
	maxInterleaveDelay = 1 * time.Second
	maxInterleaveWait  = 500 * time.Millisecond
	// headerWait bounds how long the container header waits for a track's
	// configuration (a video key frame, H.264 SPS/PPS, an AV1 sequence
	// header) before the file is written without that track.
	headerWait = 2 * time.Second
	// maxLate is how far before the latest written sample a late sample may
	// still be placed on the timeline.
	maxLate = 10 * time.Second
)

// testHookWake, when set by a test, runs each time a recording's goroutine
// wakes up (to simulate a slow consumer).
var testHookWake func(*Recorder)

// testHookWrite, when set by a test, can fail a sample's write as a broken
// muxer or disk would.
var testHookWrite func() error

type cmdType int

const (
	cmdPause cmdType = iota
	cmdResume
	cmdRequestData
	cmdStop
)

type command struct {
	typ cmdType
	err error  // cmdStop: the error event to fire first, if any
	seq uint64 // samples with a lower arrival number came before the command
}

// noLimit lets pump write every queued sample.
const noLimit = math.MaxUint64

// recording is one Start-to-stop run of a Recorder. Its goroutine (run)
// gathers samples, muxes them, cuts blobs and queues events, in order.
type recording struct {
	r         *Recorder
	cfg       config
	timeslice time.Duration
	prev      *recording

	gathering atomic.Bool   // false once stopped: sinks drop everything
	paused    atomic.Bool   // sinks drop samples while paused
	epoch     atomic.Uint64 // incremented by each resume
	seq       atomic.Uint64 // numbers samples and commands in arrival order
	batching  atomic.Bool   // run's timer takes the queued samples: sinks need not wake it
	wake      chan struct{}
	done      chan struct{}
	stopped   chan struct{} // closed once the stop event has been delivered (Recorder.Done)
	endErr    error         // what ended the recording (nil for a normal stop); set before stopped closes

	mu         sync.Mutex
	cmds       []command
	pausedAt   time.Duration            // Now() at the latest pause
	epochFloor map[uint64]time.Duration // per resume: Now() at the pause before it

	// Owned by run.
	tracks       []*recTrack
	mux          muxer
	out          output
	toFile       bool
	headerDone   bool
	baseSet      bool
	base         time.Duration // stream-clock time of media time 0
	offsets      map[uint64]time.Duration
	curEpoch     uint64
	mediaEnd     time.Duration // end of the latest sample written
	duration     atomic.Int64  // mediaEnd, for Recorder.Duration on any goroutine
	blobStart    time.Duration // media time where the current blob starts
	blobsCut     int
	stopListener func()
	fatal        error // a write failure: the recording ends with UnknownError
}

// recTrack is one recorded track within a recording.
type recTrack struct {
	rec         *recording
	track       Track
	index       int // position in the container (0-based)
	codec       codecID
	q           *sampleQueue
	unsubscribe func()
	ended       atomic.Bool

	// Owned by run.
	cfg         trackConfig
	configured  bool
	excluded    bool // left out of the file: never configured in time
	needKey     bool
	epoch       uint64
	last        time.Duration
	lastDur     time.Duration // how long the last sample written plays (at least 1 ms)
	typDur      time.Duration // the latest real (>= 2 ms) duration of the track's samples
	period      time.Duration // video: average spacing of the frames as they came
	inPrev      time.Duration // video: the previous frame's timestamp as it came
	inEpoch     uint64
	inPrevSet   bool
	wrote       bool
	lastKey     time.Duration
	framesSince uint64
	lastKeyReq  time.Time
	order       *h264Order // H.264 in Matroska or MP4: presentation times from picture order
}

// WriteSample implements Sink.
func (t *recTrack) WriteSample(s TimedSample) {
	rec := t.rec
	if !rec.gathering.Load() || rec.paused.Load() {
		return
	}
	// The recording's goroutine drains every queue before it sleeps, so
	// only a sample that finds its queue empty needs to wake it, and not
	// even that one while a batch is due (see run); a queue that grows
	// long wakes it at once.
	if ok, n := t.q.push(s, rec.epoch.Load(), rec.seq.Add(1), Now()); ok && (n == 1 && !rec.batching.Load() || n == trickleMax) {
		rec.signal()
	}
}

// WaitRoom implements RoomWaiter: it blocks while this recorder holds
// many unwritten samples of the track, until the recording ends.
func (t *recTrack) WaitRoom() { t.q.waitRoom(t.rec.done) }

// TrackEnded implements Sink.
func (t *recTrack) TrackEnded() {
	t.ended.Store(true)
	t.rec.signal()
}

func newRecording(r *Recorder, cfg config, timeslice time.Duration, prev *recording) *recording {
	rec := &recording{
		r: r, cfg: cfg, timeslice: timeslice, prev: prev,
		out:        &memFile{},
		wake:       make(chan struct{}, 1),
		done:       make(chan struct{}),
		stopped:    make(chan struct{}),
		offsets:    map[uint64]time.Duration{0: 0},
		epochFloor: map[uint64]time.Duration{},
	}
	rec.gathering.Store(true)
	for i, t := range cfg.tracks {
		rt := &recTrack{rec: rec, track: t, index: i, codec: cfg.codecs[i], q: newSampleQueue()}
		rt.needKey = t.Kind() == KindVideo
		rec.tracks = append(rec.tracks, rt)
	}
	return rec
}

// begin subscribes to the tracks and starts the recording's goroutine.
// The recorder's mutex is held.
func (rec *recording) begin() {
	for _, t := range rec.tracks {
		t.unsubscribe = t.track.Subscribe(t)
	}
	rec.stopListener = rec.cfg.trackSetListener(rec)
	go rec.run()
}

// trackSetListener watches the stream's track set: a change ends the
// recording with an InvalidModificationError.
func (c config) trackSetListener(rec *recording) func() {
	return rec.r.stream.listen(func() {
		// The "track added or removed" steps: stop gathering data, then a
		// task inactivates the recorder and fires error, dataavailable, stop.
		if rec.r.inactivateFor(rec) {
			rec.stop(domErr(NameInvalidModification, "a track was added to or removed from the stream"))
		}
	})
}

func (rec *recording) signal() {
	select {
	case rec.wake <- struct{}{}:
	default:
	}
}

func (rec *recording) command(typ cmdType, err error) {
	rec.mu.Lock()
	rec.cmds = append(rec.cmds, command{typ: typ, err: err, seq: rec.seq.Add(1)})
	rec.mu.Unlock()
	rec.signal()
}

// stop ends gathering at once and has run finish the recording.
func (rec *recording) stop(err error) {
	rec.gathering.Store(false)
	rec.command(cmdStop, err)
}

func (rec *recording) pause() {
	rec.mu.Lock()
	rec.pausedAt = Now()
	rec.mu.Unlock()
	rec.paused.Store(true)
	rec.command(cmdPause, nil)
}

func (rec *recording) resume() {
	rec.mu.Lock()
	e := rec.epoch.Add(1)
	// Samples stamped before the pause that arrive after the resume (a
	// jitter buffer's late frames) belong to the time before the gap.
	rec.epochFloor[e] = rec.pausedAt
	rec.mu.Unlock()
	rec.paused.Store(false)
	rec.command(cmdResume, nil)
}

// floor returns the stream-clock time before which samples of epoch e
// were captured before its pause.
func (rec *recording) floor(e uint64) time.Duration {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.epochFloor[e]
}

func (rec *recording) takeCommands() []command {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	c := rec.cmds
	rec.cmds = nil
	return c
}

// liveBatch and trickleMax: see run.
const (
	liveBatch  = 100 * time.Millisecond
	trickleMax = 32
)

// trickle reports whether what is queued can wait for the next batch: no
// command waits, no track has ended, the queues hold fewer than trickleMax
// samples in all, and they are live (stamped no later than now; a file
// played at full speed runs ahead of the clock, and must not wait).
func (rec *recording) trickle() bool {
	rec.mu.Lock()
	cmds := len(rec.cmds)
	rec.mu.Unlock()
	if cmds > 0 {
		return false
	}
	n := 0
	now := Now()
	for _, t := range rec.tracks {
		if t.ended.Load() {
			return false
		}
		k, last, ok := t.q.newest()
		n += k
		if ok && last > now+liveBatch {
			return false
		}
	}
	return n < trickleMax
}

// untilBatch returns how long from now until the next multiple of
// liveBatch of the wall clock: every recording of the process takes its
// batch at the same instants, so that one thread's wake-up serves them all.
func untilBatch(now time.Time) time.Duration {
	return liveBatch - time.Duration(now.UnixNano()%int64(liveBatch))
}

// run is the recording's goroutine.
func (rec *recording) run() {
	defer close(rec.done)
	if rec.prev != nil {
		// The previous recording's stop task comes before this start.
		<-rec.prev.done
		rec.prev = nil
	}
	r := rec.r
	// start() in-parallel step 3: set mimeType, fire start.
	r.queueEvent(event{typ: evStart, before: func() {
		r.mu.Lock()
		if r.rec == rec {
			r.mimeType = rec.cfg.fullType
		}
		r.mu.Unlock()
	}})
	rec.requestKeyFrames()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop() // (Go 1.23 timers: Stop and Reset leave no stale tick)
	// A live trickle of samples (a few queued, stamped about now, no
	// command) is muxed in batches, one wake-up per liveBatch: each
	// wake-up of this goroutine costs more than many samples' muxing.
	// While batching is set the sinks do not wake the goroutine; the
	// timer does. It stays set as long as samples keep coming.
	var lastSeq uint64
	for {
		select {
		case <-rec.wake:
			if rec.trickle() {
				rec.batching.Store(true)
				timer.Reset(untilBatch(time.Now()))
				continue
			}
		case <-timer.C:
		}
		if testHookWake != nil {
			testHookWake(rec.r)
		}
		// Commands apply in arrival order with the samples: each one
		// after the samples that came before it.
		var held bool
		var err error
		cmds := rec.takeCommands()
		for i, c := range cmds {
			if _, err = rec.pump(false, c.seq); err != nil {
				// The samples before a command failed. A Stop among the
				// commands taken has inactivated the recorder already, so
				// the failure path below cannot: the recording ends here
				// (error, dataavailable, stop), or its stop would be lost.
				if slices.ContainsFunc(cmds[i:], func(c command) bool { return c.typ == cmdStop }) {
					rec.gathering.Store(false)
					rec.finish(domErrCause(NameUnknown, err), true)
					return
				}
				break
			}
			switch c.typ {
			case cmdPause:
				if err := rec.flushOrder(); err != nil {
					rec.fail(err)
				}
				r.queueEvent(event{typ: evPause})
			case cmdResume:
				r.queueEvent(event{typ: evResume})
				rec.requestKeyFrames()
			case cmdRequestData:
				rec.cutBlob()
			case cmdStop:
				rec.finish(c.err, false)
				return
			}
		}
		if err == nil {
			held, err = rec.pump(false, noLimit)
		}
		if err == nil {
			err = rec.fatal
		}
		if err != nil && r.inactivateFor(rec) {
			rec.gathering.Store(false)
			rec.finish(domErrCause(NameUnknown, err), true)
			return
		}
		if rec.allEnded() {
			// The "all recorded tracks ended" steps.
			if r.inactivateFor(rec) {
				rec.gathering.Store(false)
				rec.finish(nil, false)
				return
			}
			// Stop() won the race: its command is on its way.
		}
		seq := rec.seq.Load()
		flowing := seq != lastSeq
		lastSeq = seq
		switch {
		case flowing && rec.trickle():
			// A live flow goes on: its next batch.
			rec.batching.Store(true)
			timer.Reset(untilBatch(time.Now()))
		case held:
			// Samples wait for another track's, which will wake us.
			rec.batching.Store(false)
			timer.Reset(50 * time.Millisecond)
		default:
			timer.Stop()
			rec.batching.Store(false)
			// A sample queued while batching was set did not wake us.
			if rec.queued() {
				rec.signal()
			}
		}
	}
}

// queued reports whether any queue holds a sample.
func (rec *recording) queued() bool {
	for _, t := range rec.tracks {
		if n, _ := t.q.size(); n > 0 {
			return true
		}
	}
	return false
}

func (rec *recording) allEnded() bool {
	for _, t := range rec.tracks {
		if !t.ended.Load() {
			return false
		}
		if n, _ := t.q.size(); n > 0 {
			return false
		}
	}
	return true
}

// requestKeyFrames asks every video track for a key frame (at start and
// resume).
func (rec *recording) requestKeyFrames() {
	for _, t := range rec.tracks {
		if t.track.Kind() == KindVideo {
			rec.requestKeyFrame(t)
		}
	}
}

func (rec *recording) requestKeyFrame(t *recTrack) {
	t.lastKeyReq = time.Now()
	t.track.RequestKeyFrame()
	rec.r.mu.Lock()
	rec.r.stats.KeyFrameRequests++
	rec.r.mu.Unlock()
}

func (rec *recording) countSkipped(n uint64) {
	rec.r.mu.Lock()
	rec.r.stats.Skipped += n
	rec.r.mu.Unlock()
}

func (rec *recording) collectDropped() {
	var d uint64
	for _, t := range rec.tracks {
		d += t.q.takeDropped()
	}
	if d > 0 {
		rec.r.mu.Lock()
		rec.r.stats.Dropped += d
		rec.r.mu.Unlock()
	}
}

// active reports whether t still takes part: not left out of the file.
func (t *recTrack) active() bool { return !t.excluded }

// pump moves samples from the queues into the muxer in timestamp order.
// With final, it writes everything (no more samples will come). It reports
// whether samples are held back waiting for another track.
// Only samples numbered below limit are taken.
func (rec *recording) pump(final bool, limit uint64) (held bool, err error) {
	defer rec.collectDropped()
	if !rec.headerDone {
		if !rec.prepareHeader(final) {
			return true, nil
		}
	}
	// A track left out of the file still sends: its samples are skipped,
	// so that its queue drains (and the recording can end).
	for _, t := range rec.tracks {
		if t.excluded {
			for {
				if _, ok := t.q.peek(); !ok {
					break
				}
				t.q.pop()
				rec.countSkipped(1)
			}
		}
	}
	now := Now()
	for {
		// The track whose head is earliest; and whether every active track
		// that may still send has a head (else we may have to wait).
		var best *recTrack
		var bestE *queued
		waiting := false
		var newest time.Duration
		haveNewest := false
		for _, t := range rec.tracks {
			if !t.active() {
				continue
			}
			if l, ok := t.q.last(); ok && (!haveNewest || l > newest) {
				newest, haveNewest = l, true
			}
			e, ok := t.q.peek()
			if ok && e.seq >= limit {
				ok = false
			}
			if !ok {
				if !t.ended.Load() {
					waiting = true
				}
				continue
			}
			if best == nil || e.ts < bestE.ts {
				best, bestE = t, e
			}
		}
		if best == nil {
			return false, nil
		}
		if waiting && !final {
			// Release only what has waited long enough.
			if newest-bestE.ts < maxInterleaveDelay && now-bestE.arrived < maxInterleaveWait {
				return true, nil
			}
		}
		err := rec.writeSample(best, bestE)
		best.q.pop()
		if err != nil {
			return false, err
		}
	}
}

// prepareHeader configures the tracks from their first usable samples and
// writes the container header once every track is configured, or when one
// has waited too long (headerWait, a full queue, or final). It reports
// whether the header is written.
func (rec *recording) prepareHeader(final bool) bool {
	all := true
	overdue := final
	for _, t := range rec.tracks {
		if t.excluded {
			continue
		}
		for !t.configured {
			e, ok := t.q.peek()
			if !ok {
				break
			}
			if t.needKey && !e.key || len(e.data) == 0 {
				t.q.pop()
				rec.countSkipped(1)
				continue
			}
			cfg, err := configureTrack(t.codec, t.track.Codec(), e.data)
			if err != nil {
				t.q.pop()
				rec.countSkipped(1)
				continue
			}
			t.cfg, t.configured = cfg, true
		}
		if !t.configured {
			all = false
			if t.track.Kind() == KindVideo && time.Since(t.lastKeyReq) > 500*time.Millisecond {
				rec.requestKeyFrame(t)
			}
			continue
		}
		if first, ok := t.q.peek(); ok {
			last, _ := t.q.last()
			n, b := t.q.size()
			if last-first.ts >= headerWait || Now()-first.arrived >= headerWait ||
				n >= queueMaxSamples*3/4 || b >= queueMaxBytes*3/4 {
				overdue = true
			}
		}
	}
	if rec.allTracksEnded() {
		overdue = true
	}
	if !all && !overdue {
		return false
	}
	var ready []*recTrack
	var missing []string
	for _, t := range rec.tracks {
		if t.configured {
			ready = append(ready, t)
		} else {
			t.excluded = true
			missing = append(missing, t.track.Codec().MimeType)
		}
	}
	if len(missing) > 0 && rec.cfg.container == containerMP4 && len(ready) > 0 {
		// An MP4 recording's tracks are fixed in its moov: one that never
		// showed its configuration (H.264 SPS/PPS, AV1 sequence header, a
		// VP9 key frame) ends the recording with an error rather than a
		// file silently missing it. What the other tracks gave is kept.
		rec.fail(fmt.Errorf("%s track never sent what its MP4 sample entry needs (a key frame with its parameter sets)", strings.Join(missing, ", ")))
	}
	if len(ready) == 0 {
		if final || rec.allTracksEnded() {
			// Nothing recordable arrived: the recording is empty.
			rec.headerDone = true
			return true
		}
		for _, t := range rec.tracks {
			t.excluded = false
		}
		return false
	}
	// In memory, a timeslice means a live stream (blobs go out before the
	// end); a file is always finished in place.
	m, err := newMuxer(rec.cfg, ready, rec.out, rec.timeslice > 0 && !rec.toFile)
	if err != nil {
		for _, t := range rec.tracks {
			t.excluded = !t.configured
		}
		return false
	}
	rec.mux = m
	rec.headerDone = true
	for i, t := range ready {
		t.index = i
		if _, ok := m.(frameMuxer); ok && t.codec == codecH264 {
			t.order = newH264Order(t.cfg.h264SPS, t.cfg.h264PPS)
		}
	}
	return true
}

func (rec *recording) allTracksEnded() bool {
	for _, t := range rec.tracks {
		if !t.ended.Load() {
			return false
		}
	}
	return true
}

// writeSample places e on the recording's timeline and writes it.
func (rec *recording) writeSample(t *recTrack, e *queued) error {
	if rec.mux == nil || !t.configured {
		rec.countSkipped(1)
		return nil
	}
	isVideo := t.track.Kind() == KindVideo
	if e.epoch != t.epoch {
		// First sample of this track after a resume: video restarts at
		// a key frame.
		t.epoch = e.epoch
		if isVideo {
			t.needKey = true
		}
	}
	if !validSample(t.codec, e.data) {
		rec.countSkipped(1)
		return nil
	}
	if isVideo && t.needKey {
		if !e.key {
			rec.countSkipped(1)
			if time.Since(t.lastKeyReq) > 500*time.Millisecond {
				rec.requestKeyFrame(t)
			}
			return nil
		}
		t.needKey = false
	}
	// Map the stream clock to media time: the first sample written is 0;
	// each resume shifts later samples back by the paused gap (so the
	// timeline stays continuous).
	if !rec.baseSet {
		rec.base, rec.baseSet = e.ts, true
	}
	off, ok := rec.offsets[e.epoch]
	if !ok && e.ts < rec.floor(e.epoch) {
		// Captured before the pause, delivered after the resume: it
		// keeps the timeline of the time before the pause.
		off, ok = rec.offsets[rec.curEpoch], true
	}
	if !ok {
		prev := rec.offsets[rec.curEpoch]
		off = e.ts - rec.base - rec.mediaEnd
		if off < prev {
			off = prev
		}
		rec.offsets[e.epoch] = off
		rec.curEpoch = e.epoch
	}
	ts := e.ts - rec.base - off
	if ts < 0 {
		ts = 0
	}
	if ts < rec.mediaEnd-maxLate {
		ts = rec.mediaEnd - maxLate
	}
	in := ts // before the track's own order is enforced
	if gap := t.minGap(); t.wrote && ts < t.last+gap {
		// A track's samples must not overlap (a resume can bring one
		// in before the previous one ended) and must advance.
		ts = t.last + gap
	}
	if isVideo {
		t.notePeriod(e.ts, e.epoch) // after minGap: the average of the frames before
	}
	dur := e.dur
	if dur <= 0 {
		dur = sampleDuration(t.codec, t.cfg, e.data)
	}
	if testHookWrite != nil {
		if err := testHookWrite(); err != nil {
			return err
		}
	}
	if err := rec.muxSample(t, ts, in, dur, e.key, e.data); err != nil {
		if errSkippable(err) {
			rec.countSkipped(1)
			return nil
		}
		return err
	}
	t.last, t.lastDur, t.wrote = ts, max(dur, time.Millisecond), true
	if dur >= 2*time.Millisecond {
		t.typDur = dur
	}
	if end := ts + dur; end > rec.mediaEnd {
		rec.mediaEnd = end
		rec.duration.Store(int64(end))
	}
	if isVideo {
		rec.keyFrameInterval(t, ts, e.key)
	}
	// The timeslice: a blob each time at least timeslice of media has
	// been gathered (start() in-parallel steps, "If timeslice is not
	// undefined").
	if rec.timeslice > 0 && rec.mediaEnd-rec.blobStart >= rec.timeslice {
		rec.cutBlob()
	}
	return nil
}

// minGap is how far after the previous sample the next one must start: the
// previous sample's duration; for a video frame that came with none (a
// source that stamped two frames alike), a typical frame's; and a video
// frame at least half the average frame spacing after the one before (a
// busy browser can capture two frames 4 ms apart), so that players and
// ffmpeg do not see two frames in one frame period.
func (t *recTrack) minGap() time.Duration {
	if t.track.Kind() != KindVideo {
		return t.lastDur
	}
	gap := t.lastDur
	if gap < 2*time.Millisecond && t.typDur > 0 {
		gap = t.typDur
	}
	return max(gap, t.period/2)
}

// notePeriod updates the average spacing of a video track's frames (an
// exponential moving average over the timestamps as they came, so that
// frames moved by minGap do not feed back into it). Spacings across a
// pause do not count, and a gap (frames lost or skipped) counts as two
// frame periods at most.
func (t *recTrack) notePeriod(ts time.Duration, epoch uint64) {
	if t.inPrevSet && epoch == t.inEpoch {
		if d := ts - t.inPrev; d > 0 && d < time.Second {
			if t.period == 0 {
				t.period = d
			} else {
				t.period += (min(d, 2*t.period) - t.period) / 8
			}
		}
	}
	t.inPrev, t.inEpoch, t.inPrevSet = ts, epoch, true
}

// keyFrameInterval asks for key frames as the key-frame interval options say.
func (rec *recording) keyFrameInterval(t *recTrack, ts time.Duration, key bool) {
	if key {
		t.lastKey, t.framesSince = ts, 0
		return
	}
	t.framesSince++
	o := rec.r.opts
	due := (o.VideoKeyFrameIntervalDuration > 0 && ts-t.lastKey >= o.VideoKeyFrameIntervalDuration) ||
		(o.VideoKeyFrameIntervalCount > 0 && t.framesSince >= o.VideoKeyFrameIntervalCount)
	if due {
		// Ask once per interval: the next request comes after another
		// interval without a key frame.
		rec.requestKeyFrame(t)
		t.lastKey, t.framesSince = ts, 0
	}
}

// cutBlob fires dataavailable with what was written since the last blob.
func (rec *recording) cutBlob() {
	covered := rec.mediaEnd
	if rec.mux != nil {
		if c, ok := rec.mux.flush(); ok {
			covered = c
		}
		if rec.out.pending() > 0 && !rec.toFile {
			// Bytes handed out can no longer be rewritten.
			rec.mux.disableSeeking()
		}
	}
	if err := rec.emit(covered); err != nil {
		rec.fail(err)
	}
}

// emit queues a dataavailable event for what was written since the last
// blob.
func (rec *recording) emit(covered time.Duration) error {
	r := rec.r
	tc := r.mediaTimecode(rec.blobStart)
	b, err := rec.out.take(rec.cfg.fullType)
	r.queueEvent(event{typ: evData, blob: BlobEvent{Data: b, Timecode: tc}})
	rec.blobStart = covered
	rec.blobsCut++
	return err
}

// fail records a fatal error seen on the recording's goroutine; run
// finishes the recording with it.
func (rec *recording) fail(err error) {
	if rec.fatal == nil {
		rec.fatal = err
	}
}

// mediaTimecode returns the BlobEvent timecode (ms) of media time t of the
// current recording: recorder-wide, so it keeps growing across recordings.
func (r *Recorder) mediaTimecode(t time.Duration) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return float64(r.mediaBase+t) / float64(time.Millisecond)
}

// finish ends the recording: it writes what was gathered, closes the
// container, and fires [error,] dataavailable, stop.
func (rec *recording) finish(errEvent error, fatal bool) {
	for _, t := range rec.tracks {
		t.unsubscribe()
	}
	rec.stopListener()
	if !fatal {
		if _, err := rec.pump(true, noLimit); err != nil && errEvent == nil {
			errEvent = domErrCause(NameUnknown, err)
		}
		if err := rec.flushOrder(); err != nil && errEvent == nil {
			errEvent = domErr(NameUnknown, err.Error())
		}
	}
	if rec.mux != nil {
		if err := rec.mux.close(); err != nil && errEvent == nil {
			errEvent = domErrCause(NameUnknown, err)
		}
		// Recorder.Duration: what the finished file says, where the
		// container estimates the last frame's length its own way.
		if m, ok := rec.mux.(interface{ duration() time.Duration }); ok {
			if d := m.duration(); d > 0 {
				rec.duration.Store(int64(d))
			}
		}
	}
	if err := rec.out.finish(); err != nil && errEvent == nil {
		errEvent = domErrCause(NameUnknown, err)
	}
	r := rec.r
	if errEvent != nil {
		r.queueEvent(event{typ: evError, err: errEvent})
	}
	_ = rec.emit(rec.mediaEnd) // an error here was already reported
	r.mu.Lock()
	r.mediaBase += rec.mediaEnd
	r.mu.Unlock()
	// Done and Wait see the stop only once its handler has returned.
	rec.endErr = errEvent
	r.queueEvent(event{typ: evStop, after: func() { close(rec.stopped) }})
}
