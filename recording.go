package mediarecorder

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A recording's lifecycle and commands: the tracks' samples come into its
// queues (recTrack, a Sink), Pause, Resume, RequestData and Stop come as
// commands, and its goroutine (run) applies both in arrival order, cuts
// blobs and ends the recording (finish). Writing the samples is in
// interleave.go, placing them on the timeline in timeline.go; the
// Recorder is reached through recorderLink only.

// testHookWake, when set by a test, runs each time a recording's goroutine
// wakes up (to simulate a slow consumer).
var testHookWake func(*Recorder)

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
	link      recorderLink
	cfg       config
	timeslice time.Duration
	prev      *recording

	gathering atomic.Bool   // false once stopped: sinks drop everything
	paused    atomic.Bool   // sinks drop samples while paused
	epoch     atomic.Uint64 // incremented by each resume
	seq       atomic.Uint64 // numbers samples and commands in arrival order
	nextCmd   atomic.Uint64 // seq of the oldest command not yet taken (noLimit: none)
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
	tl           timeline      // where samples go in media time
	duration     atomic.Int64  // tl.mediaEnd, for Recorder.Duration on any goroutine
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
	times       trackTimes // the track's place on the timeline
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
		link: recorderLink{r}, cfg: cfg, timeslice: timeslice, prev: prev,
		out:        &memFile{},
		wake:       make(chan struct{}, 1),
		done:       make(chan struct{}),
		stopped:    make(chan struct{}),
		tl:         newTimeline(),
		epochFloor: map[uint64]time.Duration{},
	}
	rec.gathering.Store(true)
	rec.nextCmd.Store(noLimit)
	for i, t := range cfg.tracks {
		rt := &recTrack{rec: rec, track: t, index: i, codec: cfg.codecs[i], q: newSampleQueue()}
		rt.needKey = t.Kind() == KindVideo
		rt.times.video = rt.needKey
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
	return rec.link.listenTracks(func() {
		// The "track added or removed" steps: stop gathering data, then a
		// task inactivates the recorder and fires error, dataavailable, stop.
		if rec.link.inactivate(rec) {
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
	c := command{typ: typ, err: err, seq: rec.seq.Add(1)}
	if len(rec.cmds) == 0 {
		// pump stops before the samples that came after it.
		rec.nextCmd.Store(c.seq)
	}
	rec.cmds = append(rec.cmds, c)
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
	rec.nextCmd.Store(noLimit)
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
	l := rec.link
	// start() in-parallel step 3: set mimeType, fire start.
	l.started(rec, rec.cfg.fullType)
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
			testHookWake(l.r)
		}
		held, ended := rec.step()
		if ended {
			return
		}
		seq := rec.seq.Load()
		rec.schedule(timer, seq != lastSeq, held)
		lastSeq = seq
	}
}

// step is one wake-up's work: the commands, each after the samples that
// came before it, then the samples queued since. A write failure or the
// end of every track ends the recording. It reports whether samples wait
// for another track's, and whether the recording has ended.
func (rec *recording) step() (held, ended bool) {
	ended, err := rec.applyCommands()
	if ended {
		return false, true
	}
	if err == nil {
		held, err = rec.pump(false, noLimit)
	}
	if err == nil {
		err = rec.fatal
	}
	l := rec.link
	if err != nil && l.inactivate(rec) {
		rec.gathering.Store(false)
		rec.finish(domErrCause(NameUnknown, err), true)
		return false, true
	}
	if rec.allEnded() {
		// The "all recorded tracks ended" steps.
		if l.inactivate(rec) {
			rec.gathering.Store(false)
			rec.finish(nil, false)
			return false, true
		}
		// Stop() won the race: its command is on its way.
	}
	return held, false
}

// applyCommands applies the commands that came, in arrival order with the
// samples: each one after the samples that came before it. It reports
// whether the recording has ended (a Stop), and the failure of writing the
// samples before a command (the commands from that one on are dropped,
// as the recording fails).
func (rec *recording) applyCommands() (ended bool, err error) {
	l := rec.link
	cmds := rec.takeCommands()
	for i, c := range cmds {
		if _, err = rec.pump(false, c.seq); err != nil {
			// The samples before a command failed. A Stop among the
			// commands taken has inactivated the recorder already, so
			// the failure path of step cannot: the recording ends here
			// (error, dataavailable, stop), or its stop would be lost.
			if slices.ContainsFunc(cmds[i:], func(c command) bool { return c.typ == cmdStop }) {
				rec.gathering.Store(false)
				rec.finish(domErrCause(NameUnknown, err), true)
				return true, nil
			}
			return false, err
		}
		switch c.typ {
		case cmdPause:
			if err := rec.flushOrder(); err != nil {
				rec.fail(err)
			}
			l.fire(event{typ: evPause})
		case cmdResume:
			l.fire(event{typ: evResume})
			rec.requestKeyFrames()
		case cmdRequestData:
			rec.cutBlob()
		case cmdStop:
			rec.finish(c.err, false)
			return true, nil
		}
	}
	return false, nil
}

// schedule sets when the goroutine wakes up next without being woken: at
// the next batch while a live flow goes on, soon while samples wait for
// another track's, else not at all.
func (rec *recording) schedule(timer *time.Timer, flowing, held bool) {
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
	rec.link.count(Stats{KeyFrameRequests: 1})
}

func (rec *recording) countSkipped(n uint64) {
	rec.link.count(Stats{Skipped: n})
}

func (rec *recording) collectDropped() {
	var d uint64
	for _, t := range rec.tracks {
		d += t.q.takeDropped()
	}
	if d > 0 {
		rec.link.count(Stats{Dropped: d})
	}
}

// cutBlob fires dataavailable with what was written since the last blob.
func (rec *recording) cutBlob() {
	covered := rec.tl.mediaEnd
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
	tc := rec.link.timecode(rec.blobStart)
	b, err := rec.out.take(rec.cfg.fullType)
	rec.link.fire(event{typ: evData, blob: BlobEvent{Data: b, Timecode: tc}})
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
	l := rec.link
	if errEvent != nil {
		l.fire(event{typ: evError, err: errEvent})
	}
	_ = rec.emit(rec.tl.mediaEnd) // an error here was already reported
	l.ended(rec.tl.mediaEnd)
	// Done and Wait see the stop only once its handler has returned.
	rec.endErr = errEvent
	l.fire(event{typ: evStop, after: func() { close(rec.stopped) }})
}
