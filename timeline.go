package mediarecorder

import "time"

// The timeline: where each sample of a recording goes in media time.
// place decides it from the sample's stamp and the state below, and
// changes nothing; note and wrote then record what the placement and the
// write taught. The rules (each a row of TestPlace):
//
//   - The first sample placed is media time 0.
//   - Pause gaps: each resume starts an epoch, whose samples are shifted
//     back so that the first of them starts where the media written so far
//     ends (never shifted less than the epoch before): the paused time is
//     cut out.
//   - Late frames across a pause: a sample of a new epoch stamped before
//     the pause (a jitter buffer's late frame) keeps the current epoch's
//     shift, the timeline of the time before the pause.
//   - The late clamp: no sample goes before 0, nor more than maxLate before
//     the end of the media written.
//   - Minimum spacing: a track's samples do not overlap and advance, each
//     at least its predecessor's duration after it.
//   - 4 ms browser double frames: a video frame goes at least half the
//     track's average frame spacing after the one before (a frame that
//     came with no duration, a typical frame's duration).
//
// H.264 frames then go through the track's h264Order, which gives them
// presentation times (B-frames: presentation order differs from decoding
// order); place gives their decode times.

// timeline is a recording's side of the placement.
type timeline struct {
	base     time.Duration            // stream-clock time of media time 0
	baseSet  bool                     // base is set (the first sample was placed)
	offsets  map[uint64]time.Duration // per epoch: how far its samples are shifted back
	curEpoch uint64                   // the latest epoch given an offset
	curOff   time.Duration            // offsets[curEpoch] (most samples are of it)
	mediaEnd time.Duration            // end of the latest sample written
}

func newTimeline() timeline {
	return timeline{offsets: map[uint64]time.Duration{0: 0}}
}

// trackTimes is one track's side of the placement.
type trackTimes struct {
	video     bool
	wrote     bool          // a sample was written: last and lastDur are set
	last      time.Duration // media time of the last sample written
	lastDur   time.Duration // how long the last sample written plays (at least 1 ms)
	typDur    time.Duration // the latest real (>= 2 ms) duration of the track's samples
	period    time.Duration // video: average spacing of the frames as they came
	inPrev    time.Duration // video: the previous frame's stamp as it came
	inEpoch   uint64        // video: inPrev's epoch
	inPrevSet bool          // video: inPrev is set
}

// stamp is what the placement needs to know of a sample.
type stamp struct {
	ts    time.Duration // start time on the stream clock (Now)
	epoch uint64        // resumes before the sample came
	// floor is the stream-clock time of the pause before epoch: samples
	// stamped earlier were captured before it. It is read only for the
	// first sample of an epoch (see timeline.knows).
	floor time.Duration
}

// placement is where a sample goes, and what placing it teaches.
type placement struct {
	at       time.Duration // media time the sample is written at (a video frame's decode time)
	in       time.Duration // media time before the track's spacing rules: where its source put it
	base     time.Duration // the timeline's base (set by the first sample)
	newEpoch bool          // the sample's epoch starts here, shifted back by off
	off      time.Duration
	period   time.Duration // video: the track's average frame spacing counting this frame
}

// knows reports whether samples of epoch e have their shift: only the
// first sample of an epoch needs stamp.floor.
func (tl *timeline) knows(e uint64) bool {
	_, ok := tl.offset(e)
	return ok
}

// offset returns the shift of epoch e's samples, if it has one.
func (tl *timeline) offset(e uint64) (time.Duration, bool) {
	if e == tl.curEpoch {
		return tl.curOff, true
	}
	off, ok := tl.offsets[e]
	return off, ok
}

// place returns where the sample stamped s of track tr goes. It changes
// nothing: a pure function of its arguments.
func place(tl *timeline, tr *trackTimes, s stamp) placement {
	p := placement{base: tl.base, period: tr.period}
	if !tl.baseSet {
		p.base = s.ts
	}
	off, ok := tl.offset(s.epoch)
	if !ok && s.ts < s.floor {
		// Captured before the pause, delivered after the resume: it
		// keeps the timeline of the time before the pause.
		off, ok = tl.curOff, true
	}
	if !ok {
		// A new epoch: the paused time is cut out.
		off = max(s.ts-p.base-tl.mediaEnd, tl.curOff)
		p.newEpoch, p.off = true, off
	}
	ts := max(s.ts-p.base-off, 0, tl.mediaEnd-maxLate)
	p.in = ts
	if gap := tr.minGap(); tr.wrote && ts < tr.last+gap {
		// A track's samples must not overlap (a resume can bring one in
		// before the previous one ended) and must advance.
		ts = tr.last + gap
	}
	p.at = ts
	if tr.video {
		p.period = tr.nextPeriod(s)
	}
	return p
}

// note records what placing s at p taught, whether or not the sample is
// then written.
func (tl *timeline) note(tr *trackTimes, s stamp, p placement) {
	tl.base, tl.baseSet = p.base, true
	if p.newEpoch {
		tl.offsets[s.epoch] = p.off
		tl.curEpoch, tl.curOff = s.epoch, p.off
	}
	if tr.video {
		tr.period = p.period
		tr.inPrev, tr.inEpoch, tr.inPrevSet = s.ts, s.epoch, true
	}
}

// wrote records a sample written at media time at, playing dur.
func (tl *timeline) wrote(tr *trackTimes, at, dur time.Duration) {
	tr.last, tr.lastDur, tr.wrote = at, max(dur, time.Millisecond), true
	if dur >= 2*time.Millisecond {
		tr.typDur = dur
	}
	tl.mediaEnd = max(tl.mediaEnd, at+dur)
}

// minGap is how far after the previous sample the next one must start: the
// previous sample's duration; for a video frame that came with none (a
// source that stamped two frames alike), a typical frame's; and a video
// frame at least half the average frame spacing after the one before (a
// busy browser can capture two frames 4 ms apart), so that players and
// ffmpeg do not see two frames in one frame period.
func (tr *trackTimes) minGap() time.Duration {
	if !tr.video {
		return tr.lastDur
	}
	gap := tr.lastDur
	if gap < 2*time.Millisecond && tr.typDur > 0 {
		gap = tr.typDur
	}
	return max(gap, tr.period/2)
}

// nextPeriod returns the average spacing of a video track's frames once
// the frame stamped s counts (an exponential moving average over the
// stamps as they came, so that frames moved by minGap do not feed back
// into it). Spacings across a pause do not count, and a gap (frames lost
// or skipped) counts as two frame periods at most.
func (tr *trackTimes) nextPeriod(s stamp) time.Duration {
	period := tr.period
	if tr.inPrevSet && s.epoch == tr.inEpoch {
		if d := s.ts - tr.inPrev; d > 0 && d < time.Second {
			if period == 0 {
				period = d
			} else {
				period += (min(d, 2*period) - period) / 8
			}
		}
	}
	return period
}
