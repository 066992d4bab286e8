package mediarecorder

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/h264"
)

// tlStep is one sample given to the timeline (or, with pause, the pause
// command: the H.264 order is flushed). Times are in ms.
type tlStep struct {
	pause bool
	track int     // index into the case's tracks
	ts    float64 // stamp on the stream clock
	epoch uint64
	floor float64 // the pause before epoch (read for an epoch's first sample)
	dur   float64
	poc   int64 // H.264 tracks: picture order count (resets when reset)
	reset bool
}

// tlTrack is a track of a timeline case: video or not, and whether its
// frames go through an h264Order of the given depth.
type tlTrack struct {
	video bool
	h264  bool
	depth int
}

// runTimeline places steps as writeSample does (place, note, the H.264
// order, wrote) and returns what each track writes, "at" for a plain
// track and "dts>pts" for an H.264 one, in ms, space separated, tracks
// separated by " | ".
func runTimeline(tracks []tlTrack, steps []tlStep) string {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	tl := newTimeline()
	times := make([]trackTimes, len(tracks))
	orders := make([]*h264Order, len(tracks))
	out := make([][]string, len(tracks))
	emit := func(i int, fs []orderedFrame) {
		for _, f := range fs {
			out[i] = append(out[i], fmt.Sprintf("%g>%g", msOf(f.dts), msOf(f.pts)))
		}
	}
	for i, tr := range tracks {
		times[i].video = tr.video
		if tr.h264 {
			orders[i] = &h264Order{}
		}
	}
	for _, st := range steps {
		if st.pause {
			for i, o := range orders {
				if o != nil {
					emit(i, o.flush())
				}
			}
			continue
		}
		i := st.track
		s := stamp{ts: ms(st.ts), epoch: st.epoch}
		if !tl.knows(st.epoch) {
			s.floor = ms(st.floor)
		}
		p := place(&tl, &times[i], s)
		tl.note(&times[i], s, p)
		dur := ms(st.dur)
		if o := orders[i]; o != nil {
			emit(i, o.pushOrder(p.at, p.in, dur, st.reset, nil, h264.PictureOrder{POC: st.poc, Reset: st.reset}, true, tracks[i].depth))
		} else {
			out[i] = append(out[i], fmt.Sprintf("%g", msOf(p.at)))
		}
		tl.wrote(&times[i], p.at, dur)
	}
	for i, o := range orders {
		if o != nil {
			emit(i, o.flush())
		}
	}
	var parts []string
	for _, o := range out {
		parts = append(parts, strings.Join(o, " "))
	}
	return strings.Join(parts, " | ")
}

// msOf is d in ms, rounded to 0.1 ms.
func msOf(d time.Duration) float64 {
	return float64((d+50*time.Microsecond)/(100*time.Microsecond)) / 10
}

// frames returns n steps of track 0 every period ms from ts on, in epoch.
func tlFrames(n int, ts, period float64, epoch uint64, floor float64) []tlStep {
	var s []tlStep
	for i := range n {
		s = append(s, tlStep{ts: ts + float64(i)*period, epoch: epoch, floor: floor, dur: period})
	}
	return s
}

func tlSteps(parts ...[]tlStep) []tlStep {
	var s []tlStep
	for _, p := range parts {
		s = append(s, p...)
	}
	return s
}

var tlPause = []tlStep{{pause: true}}

var (
	tlAudio = []tlTrack{{}}
	tlVideo = []tlTrack{{video: true}}
)

// TestPlace is the timeline's case table: pause gaps, late frames across
// a pause, 4 ms browser double frames, the late clamp, minimum spacing,
// and B-frames' presentation and decode order.
func TestPlace(t *testing.T) {
	for _, tt := range []struct {
		name   string
		tracks []tlTrack
		steps  []tlStep
		want   string
	}{
		{"the first sample is media time 0", tlAudio,
			tlFrames(3, 5000, 20, 0, 0),
			"0 20 40"},
		{"a gap in the stamps stays", tlAudio,
			tlSteps(tlFrames(2, 1000, 20, 0, 0), tlFrames(1, 1500, 20, 0, 0)),
			"0 20 500"},
		{"pause gap: the paused time is cut out", tlAudio,
			tlSteps(tlFrames(3, 1000, 20, 0, 0), tlFrames(2, 2000, 20, 1, 1060)),
			"0 20 40 60 80"},
		{"two pauses", tlAudio,
			tlSteps(tlFrames(2, 1000, 20, 0, 0), tlFrames(2, 2000, 20, 1, 1040), tlFrames(2, 3000, 20, 2, 2040)),
			"0 20 40 60 80 100"},
		{"late frames across a pause keep the time before it", tlAudio,
			// Stamped 1040 and 1060, before the pause at 1080, they come
			// after the resume; then the frames captured after it.
			tlSteps(tlFrames(2, 1000, 20, 0, 0), tlFrames(2, 1040, 20, 1, 1080), tlFrames(2, 2000, 20, 1, 1080)),
			"0 20 40 60 80 100"},
		{"a new epoch is never shifted less than the one before", []tlTrack{{}, {}},
			// Track 1's first sample of epoch 2 (a quick second resume) is
			// stamped before track 0's of epoch 1: shifted by epoch 1's
			// 480 ms rather than 450, it does not go after the end.
			[]tlStep{
				{track: 0, ts: 1000, dur: 20}, {track: 1, ts: 1000, dur: 20},
				{track: 0, ts: 1500, epoch: 1, floor: 1020, dur: 20},
				{track: 1, ts: 1490, epoch: 2, floor: 1480, dur: 20},
			},
			"0 20 | 0 20"},
		{"late clamp: nothing before 0", []tlTrack{{}, {}},
			[]tlStep{{track: 0, ts: 1000, dur: 20}, {track: 1, ts: 900, dur: 20}, {track: 1, ts: 920, dur: 20}},
			"0 | 0 20"},
		{"late clamp: at most maxLate before the end", []tlTrack{{}, {}},
			[]tlStep{{track: 0, ts: 1000, dur: 20}, {track: 0, ts: 31000, dur: 20}, {track: 1, ts: 5000, dur: 20}},
			"0 30000 | 20020"},
		{"minimum spacing: a sample does not overlap the one before", tlAudio,
			[]tlStep{{ts: 1000, dur: 20}, {ts: 1010, dur: 20}, {ts: 1050, dur: 20}},
			"0 20 50"},
		{"minimum spacing: a sample stamped alike goes after the one before", tlAudio,
			[]tlStep{{ts: 1000, dur: 20}, {ts: 1000, dur: 20}},
			"0 20"},
		{"4 ms double frame: half a frame period after the one before", tlVideo,
			// 30 fps, then a frame 4 ms after the one before it (its
			// predecessor's duration says 4 ms, as a browser's does).
			tlSteps(tlFrames(3, 1000, 100.0/3, 0, 0), []tlStep{{ts: 1100, dur: 4}, {ts: 1104, dur: 29.3}, {ts: 1133.3, dur: 33.3}}),
			// The second of the pair goes half a period (16.7 ms) after
			// the first, the next frame after the second's end.
			"0 33.3 66.7 100 116.7 146"},
		{"video frame without duration: a typical frame's spacing", tlVideo,
			tlSteps(tlFrames(3, 1000, 40, 0, 0), []tlStep{{ts: 1120, dur: 0}, {ts: 1120, dur: 40}}),
			"0 40 80 120 160"},
		{"the frame period does not count spacings across a pause", tlVideo,
			tlSteps(tlFrames(3, 1000, 40, 0, 0), tlFrames(3, 1300, 10, 1, 1120)),
			// After the resume the period is still 40 ms: 10 ms frames are
			// spaced 20 ms until the average has learnt the new spacing.
			"0 40 80 120 140 158.1"},
		{"B-frames: presentation times are the decode times in picture order", []tlTrack{{video: true, h264: true, depth: 1}},
			// I0 P3 B1 B2 P6 B4 B5 in decoding order.
			[]tlStep{
				{ts: 1000, dur: 40, poc: 0, reset: true}, {ts: 1040, dur: 40, poc: 6}, {ts: 1080, dur: 40, poc: 2},
				{ts: 1120, dur: 40, poc: 4}, {ts: 1160, dur: 40, poc: 12}, {ts: 1200, dur: 40, poc: 8}, {ts: 1240, dur: 40, poc: 10},
			},
			"0>0 40>120 80>40 120>80 160>240 200>160 240>200"},
		{"B-frames across a pause: held frames are timed at the pause", []tlTrack{{video: true, h264: true, depth: 1}},
			tlSteps([]tlStep{
				{ts: 1000, dur: 40, poc: 0, reset: true}, {ts: 1040, dur: 40, poc: 6}, {ts: 1080, dur: 40, poc: 2},
			}, tlPause, []tlStep{
				{ts: 2000, epoch: 1, floor: 1100, dur: 40, poc: 0, reset: true}, {ts: 2040, epoch: 1, dur: 40, poc: 4}, {ts: 2080, epoch: 1, dur: 40, poc: 2},
			}),
			"0>0 40>80 80>40 120>120 160>200 200>160"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := runTimeline(tt.tracks, tt.steps); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
