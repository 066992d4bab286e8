package mediarecorder

import (
	"fmt"
	"strings"
	"time"
)

// Interleaving and the header: the samples the recording's goroutine
// takes from the tracks' queues go into the muxer in timestamp order
// (pump), once the container header is written (prepareHeader); each is
// checked, placed on the timeline (timeline.go) and written (writeSample).

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

// testHookWrite, when set by a test, can fail a sample's write as a broken
// muxer or disk would.
var testHookWrite func() error

// active reports whether t still takes part: not left out of the file.
func (t *recTrack) active() bool { return !t.excluded }

// pump moves samples from the queues into the muxer in timestamp order.
// With final, it writes everything (no more samples will come). It reports
// whether samples are held back waiting for another track.
// Only samples numbered below limit are taken, and (but for final) below
// a command that came while it ran: run applies the command first.
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
			if ok && (e.seq >= limit || !final && e.seq >= rec.nextCmd.Load()) {
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
	all := rec.configureTracks()
	overdue := final || rec.headerOverdue()
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
	if len(missing) > 0 && muxerFixesTracks(rec.cfg.container) && len(ready) > 0 {
		// The container's tracks are fixed in its header: one that never
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
			t.order = newH264Order(t.cfg.H264SPS, t.cfg.H264PPS)
		}
	}
	return true
}

// configureTracks configures each track not left out from the first of its
// queued samples that allows it, skipping those before; a video track
// still unconfigured is asked for a key frame again. It reports whether
// every such track is configured.
func (rec *recording) configureTracks() bool {
	all := true
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
		}
	}
	return all
}

// headerOverdue reports whether the header can wait no longer for the
// tracks not yet configured: a configured track's samples span headerWait
// of media or have waited that long, its queue is three quarters full, or
// every track has ended.
func (rec *recording) headerOverdue() bool {
	overdue := false
	for _, t := range rec.tracks {
		if t.excluded || !t.configured {
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
	return overdue || rec.allTracksEnded()
}

func (rec *recording) allTracksEnded() bool {
	for _, t := range rec.tracks {
		if !t.ended.Load() {
			return false
		}
	}
	return true
}

// writeSample checks e, places it on the recording's timeline and writes
// it.
func (rec *recording) writeSample(t *recTrack, e *queued) error {
	if rec.mux == nil || !t.configured {
		rec.countSkipped(1)
		return nil
	}
	if !rec.usable(t, e) {
		rec.countSkipped(1)
		return nil
	}
	s := stamp{ts: e.ts, epoch: e.epoch}
	if !rec.tl.knows(e.epoch) {
		s.floor = rec.floor(e.epoch)
	}
	p := place(&rec.tl, &t.times, s)
	rec.tl.note(&t.times, s, p)
	dur := e.dur
	if dur <= 0 {
		dur = sampleDuration(t.codec, t.cfg, e.data)
	}
	if testHookWrite != nil {
		if err := testHookWrite(); err != nil {
			return err
		}
	}
	if err := rec.muxSample(t, p.at, p.in, dur, e.key, e.data); err != nil {
		if errSkippable(err) {
			rec.countSkipped(1)
			return nil
		}
		return err
	}
	end := rec.tl.mediaEnd
	rec.tl.wrote(&t.times, p.at, dur)
	if rec.tl.mediaEnd != end {
		rec.duration.Store(int64(rec.tl.mediaEnd))
	}
	if t.times.video {
		rec.keyFrameInterval(t, p.at, e.key)
	}
	// The timeslice: a blob each time at least timeslice of media has
	// been gathered (start() in-parallel steps, "If timeslice is not
	// undefined").
	if rec.timeslice > 0 && rec.tl.mediaEnd-rec.blobStart >= rec.timeslice {
		rec.cutBlob()
	}
	return nil
}

// usable reports whether e can be written: its data is valid for the
// codec, and a video track that must restart at a key frame (at the start
// and after a resume) has one; a key frame is asked for while it waits.
func (rec *recording) usable(t *recTrack, e *queued) bool {
	if e.epoch != t.epoch {
		// First sample of this track after a resume: video restarts at
		// a key frame.
		t.epoch = e.epoch
		if t.times.video {
			t.needKey = true
		}
	}
	if !validSample(t.codec, e.data) {
		return false
	}
	if t.times.video && t.needKey {
		if !e.key {
			if time.Since(t.lastKeyReq) > 500*time.Millisecond {
				rec.requestKeyFrame(t)
			}
			return false
		}
		t.needKey = false
	}
	return true
}

// keyFrameInterval asks for key frames as the key-frame interval options say.
func (rec *recording) keyFrameInterval(t *recTrack, ts time.Duration, key bool) {
	if key {
		t.lastKey, t.framesSince = ts, 0
		return
	}
	t.framesSince++
	every, frames := rec.link.keyFrameInterval()
	due := (every > 0 && ts-t.lastKey >= every) || (frames > 0 && t.framesSince >= frames)
	if due {
		// Ask once per interval: the next request comes after another
		// interval without a key frame.
		rec.requestKeyFrame(t)
		t.lastKey, t.framesSince = ts, 0
	}
}
