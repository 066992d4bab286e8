package filesource

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gomediarecorder/mediarecorder"
)

// progressEvery is the shortest interval between progress calls.
const progressEvery = 100 * time.Millisecond

// player is one file being played.
type player struct {
	f        *File
	cur      sample // the file's next sample, when has
	has      bool
	eof      bool          // the file is read; its tracks stop at end (realtime) or now
	end      time.Duration // media time at the end of the samples fed
	realtime bool
}

// at is the media time of the player's next event: its next sample, or
// the end of its media once it is read.
func (p *player) at() time.Duration {
	if p.has {
		return p.cur.pts
	}
	return p.end
}

// Play feeds the samples of the tracks of files, all files merged in
// timestamp order on one goroutine (the caller's), so that tracks of
// different files start together and stay in sync: a sample of media time
// t is written at base+t on the mediarecorder.Now clock, base being the
// time Play starts. Files opened with Options.Realtime are paced: each
// sample waits until its time comes, and their tracks end when their
// media does. Otherwise samples go as fast as the recorders take them
// (Play waits while a recorder's backlog is large, so nothing is dropped).
//
// Each file's tracks are stopped at the file's end. Play returns nil when
// every file is done; ctx.Err() when ctx is cancelled first; or the first
// read error, an *Error naming the file, once the samples before it are
// fed. In both failure cases every track of every file is stopped, so that
// recorders finish. progress, if not nil, is called (on Play's goroutine)
// at most every 100 ms and once at the end, with the media time fed so far.
//
// A File plays once; Play fails with ErrPlayed for a File given to it
// before, and with ErrClosed for a closed one.
func Play(ctx context.Context, files []*File, progress func(time.Duration)) error {
	ps := make([]*player, 0, len(files))
	for i, f := range files {
		if f == nil {
			return fmt.Errorf("filesource: nil File at index %d", i)
		}
		for _, g := range files[:i] {
			if g == f {
				return &Error{Path: f.path, Offset: -1, Err: ErrPlayed}
			}
		}
	}
	for i, f := range files {
		f.mu.Lock()
		var err error
		switch {
		case f.closed:
			err = ErrClosed
		case f.played:
			err = ErrPlayed
		}
		f.played = true
		f.mu.Unlock()
		if err != nil {
			for _, g := range files[:i] {
				g.mu.Lock()
				g.played = false
				g.mu.Unlock()
			}
			return &Error{Path: f.path, Offset: -1, Err: err}
		}
		ps = append(ps, &player{f: f, realtime: f.opt.Realtime})
	}
	stopAll := func() {
		for _, p := range ps {
			p.f.stopTracks()
		}
	}

	done := ctx.Done()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	var fed time.Duration // media time fed so far
	var fedN int          // samples fed so far
	var lastProgress time.Duration
	report := func(now time.Duration, final bool) {
		if progress == nil {
			return
		}
		if final || now-lastProgress >= progressEvery {
			lastProgress = now
			progress(max(fed, 0))
		}
	}

	// Read each file's first sample.
	for _, p := range ps {
		if err := p.advance(); err != nil {
			stopAll()
			report(0, true)
			return err
		}
	}
	base := mediarecorder.Now()
	for {
		// The player whose next event comes first; ties go to the file
		// listed first.
		var p *player
		for _, q := range ps {
			if (q.has || q.eof) && (p == nil || q.at() < p.at()) {
				p = q
			}
		}
		if p == nil {
			report(0, true)
			return nil
		}
		if done != nil {
			select {
			case <-done:
				stopAll()
				report(0, true)
				return ctx.Err()
			default:
			}
		}
		if p.realtime {
			if wait := base + p.at() - mediarecorder.Now(); wait > 0 {
				if timer == nil {
					timer = time.NewTimer(wait)
				} else {
					timer.Reset(wait)
				}
				select {
				case <-done:
					stopAll()
					report(0, true)
					return ctx.Err()
				case <-timer.C:
				}
			}
		}
		if !p.has {
			// The file is read: its tracks end.
			p.f.stopTracks()
			p.eof = false
			continue
		}
		s := p.cur
		if p.f.raw != nil {
			// Raw media: the recorders encode it as it is written.
			p.f.waitRaw(s.track)
			_ = p.f.writeRaw(s, base+s.pts)
		} else {
			t := p.f.tracks[s.track]
			t.WaitRoom()
			// ErrTrackEnded: the track was stopped by its user; its
			// samples go nowhere.
			_ = t.WriteSampleAt(mediarecorder.Sample{Data: s.data, Duration: s.dur}, base+s.pts)
		}
		if e := s.pts + s.dur; e > p.end {
			p.end = e
		}
		fed = max(fed, p.end)
		// At full speed the clock is read every 16 samples: a read per
		// sample costs more than the sample's own feeding.
		if fedN++; progress != nil && (p.realtime || fedN%16 == 0) {
			report(mediarecorder.Now(), false)
		}
		if err := p.advance(); err != nil {
			stopAll()
			report(0, true)
			return err
		}
	}
}

// advance reads the player's next sample. At the end of the file it
// marks the player read; a read error comes back as an *Error.
func (p *player) advance() error {
	p.has = false
	p.f.mu.Lock()
	closed := p.f.closed
	p.f.mu.Unlock()
	if closed {
		return &Error{Path: p.f.path, Offset: -1, Err: ErrClosed}
	}
	s, err := p.f.src.next()
	if err == nil {
		p.cur, p.has = s, true
		return nil
	}
	if err == io.EOF {
		p.eof = true
		return nil
	}
	return p.f.wrap(err)
}
