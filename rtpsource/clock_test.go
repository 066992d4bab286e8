package rtpsource

import (
	"testing"
	"time"
)

// ntpAt returns the 32.32 NTP time d after NTP time 0 + base seconds.
func ntpAt(base uint32, d time.Duration) uint64 {
	return uint64(base)<<32 + uint64(d)*(1<<32)/uint64(time.Second)
}

func TestNTPDiff(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b uint64
		want time.Duration
	}{
		{"equal", 5 << 32, 5 << 32, 0},
		{"one second", 6 << 32, 5 << 32, time.Second},
		{"minus one second", 5 << 32, 6 << 32, -time.Second},
		{"half second", 5<<32 | 1<<31, 5 << 32, 500 * time.Millisecond},
		{"minus half second", 5 << 32, 5<<32 | 1<<31, -500 * time.Millisecond},
		{"across the era wrap", 1 << 32, 0xffffffff << 32, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ntpDiff(tc.a, tc.b); got != tc.want {
				t.Errorf("ntpDiff(%#x, %#x) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

// TestSessionMapping: the first use fixes the mapping from the caller's
// guess; later uses (of any track) follow the NTP clock, whatever they
// guess.
func TestSessionMapping(t *testing.T) {
	s := &Session{}
	base := ntpAt(1000, 0)
	if got := s.ntpToLocal(base, func() time.Duration { return 7 * time.Second }); got != 7*time.Second {
		t.Fatalf("first mapping: %v, want 7s", got)
	}
	for _, tc := range []struct {
		ntp  uint64
		want time.Duration
	}{
		{ntpAt(1000, 250*time.Millisecond), 7250 * time.Millisecond},
		{ntpAt(999, 0), 6 * time.Second},
		{ntpAt(1010, 0), 17 * time.Second},
	} {
		got := s.ntpToLocal(tc.ntp, func() time.Duration { t.Fatal("guess used after the mapping was fixed"); return 0 })
		if got != tc.want {
			t.Errorf("ntpToLocal(%#x) = %v, want %v", tc.ntp, got, tc.want)
		}
	}
}

func TestSessionLocalAt(t *testing.T) {
	wall := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := &Session{wall: wall, local: 10 * time.Second}
	if got := s.localAt(wall.Add(1500 * time.Millisecond)); got != 11500*time.Millisecond {
		t.Errorf("localAt: %v, want 11.5s", got)
	}
	if got := s.localAt(wall.Add(-time.Second)); got != 9*time.Second {
		t.Errorf("localAt before the reading: %v, want 9s", got)
	}
}

func TestRTPClockUnwrap(t *testing.T) {
	for _, tc := range []struct {
		name   string
		newest int64
		ts     uint32
		want   int64
	}{
		{"same", 1000, 1000, 1000},
		{"forward", 1000, 4000, 4000},
		{"backward (reordered)", 4000, 1000, 1000},
		{"forward over the wrap", 0xfffffff0, 0x10, 0x100000010},
		{"backward over the wrap", 0x100000010, 0xfffffff0, 0xfffffff0},
		{"second wrap", 0x1fffffff0, 0x20, 0x200000020},
		{"half range forward", 0, 0x7fffffff, 0x7fffffff},
		{"beyond half range is backward", 0x80000000, 0, 0},
		{"before zero", 0x10, 0xfffffff0, -0x10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := rtpClock{newest: tc.newest}
			if got := c.unwrap(tc.ts); got != tc.want {
				t.Errorf("unwrap(%#x) after %#x = %#x, want %#x", tc.ts, tc.newest, got, tc.want)
			}
		})
	}
}

func TestRTPClockDur(t *testing.T) {
	for _, tc := range []struct {
		rate, ticks int64
		want        time.Duration
	}{
		{90000, 90000, time.Second},
		{90000, 3000, time.Second / 30},
		{90000, -3000, -time.Second / 30},
		{48000, 960, 20 * time.Millisecond},
		{48000, 48000 * 3600 * 24 * 365, 365 * 24 * time.Hour}, // no overflow
		{90000, 1, 11111 * time.Nanosecond},
	} {
		c := rtpClock{rate: tc.rate}
		if got := c.dur(tc.ticks); got != tc.want {
			t.Errorf("dur(%d) at %d Hz = %v, want %v", tc.ticks, tc.rate, got, tc.want)
		}
	}
}

// TestRTPClockAnchor: before any Sender Report, RTP time runs from the
// anchor; reset drops the anchor and the reports.
func TestRTPClockAnchor(t *testing.T) {
	c := rtpClock{rate: 90000, sess: &Session{}}
	c.reset(1000)
	if c.anchored() {
		t.Fatal("anchored after reset")
	}
	c.anchor(1000, 5*time.Second)
	for _, tc := range []struct {
		ts   int64
		want time.Duration
	}{
		{1000, 5 * time.Second},
		{1000 + 90000, 6 * time.Second},
		{1000 - 45000, 4500 * time.Millisecond},
	} {
		if got := c.local(tc.ts); got != tc.want {
			t.Errorf("local(%d) = %v, want %v", tc.ts, got, tc.want)
		}
	}
	c.senderReport(1000, ntpAt(100, 0))
	c.reset(7)
	if c.anchored() || c.srSet || c.srAdj != 0 || c.newest != 7 {
		t.Errorf("reset left %+v", c)
	}
}

// TestRTPClockSenderReports: the first report keeps the anchored timeline
// (it fixes the Session's mapping from it); later ones move it by at most
// maxSRStep each, unless they jump by srResync or more.
func TestRTPClockSenderReports(t *testing.T) {
	const rate = 90000
	sec := func(s float64) int64 { return int64(s * rate) }
	type report struct {
		rtp uint32
		ntp time.Duration // after NTP second 1000
	}
	for _, tc := range []struct {
		name    string
		reports []report
		at      int64         // RTP time to convert ...
		want    time.Duration // ... to this local time
	}{
		{"no report", nil, sec(1), 11 * time.Second},
		{"first report keeps the anchor", []report{{uint32(sec(0.5)), 0}}, sec(1), 11 * time.Second},
		{"consistent report", []report{{0, 0}, {uint32(sec(2)), 2 * time.Second}}, sec(3), 13 * time.Second},
		{"late by 3 ms: taken whole", []report{{0, 0}, {uint32(sec(2)), 2*time.Second + 3*time.Millisecond}}, sec(3), 13*time.Second + 3*time.Millisecond},
		{"late by 40 ms: 5 ms of it", []report{{0, 0}, {uint32(sec(2)), 2*time.Second + 40*time.Millisecond}}, sec(3), 13*time.Second + 5*time.Millisecond},
		{"early by 40 ms: 5 ms of it", []report{{0, 0}, {uint32(sec(2)), 2*time.Second - 40*time.Millisecond}}, sec(3), 13*time.Second - 5*time.Millisecond},
		{"slewed over reports", []report{{0, 0}, {uint32(sec(1)), time.Second + 40*time.Millisecond}, {uint32(sec(2)), 2*time.Second + 40*time.Millisecond}, {uint32(sec(3)), 3*time.Second + 40*time.Millisecond}}, sec(3), 13*time.Second + 15*time.Millisecond},
		{"a jump of 2 s is a new clock", []report{{0, 0}, {uint32(sec(2)), 4 * time.Second}}, sec(3), 15 * time.Second},
		{"a jump back of 2 s too", []report{{0, 0}, {uint32(sec(4)), 2 * time.Second}}, sec(5), 13 * time.Second},
		// The first report is 1 s before RTP time 0, across the wrap.
		{"reports over the RTP wrap", []report{{0xffffffff - uint32(sec(1)) + 1, 0}, {uint32(sec(1)), 2 * time.Second}}, sec(2), 12 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := rtpClock{rate: rate, sess: &Session{}}
			c.reset(0)
			c.anchor(0, 10*time.Second)
			for _, r := range tc.reports {
				c.senderReport(r.rtp, ntpAt(1000, r.ntp))
			}
			// NTP fractions of a millisecond round to the nanosecond.
			if got := c.local(tc.at); got < tc.want-time.Nanosecond || got > tc.want+time.Nanosecond {
				t.Errorf("local(%d) = %v, want %v", tc.at, got, tc.want)
			}
		})
	}
}

// TestRTPClockCrossTrack: two tracks of one sender whose first packets
// arrived with different delays line up once their Sender Reports come:
// the RTP times that the sender paired with the same NTP time map to the
// same local time.
func TestRTPClockCrossTrack(t *testing.T) {
	sess := &Session{}
	audio := rtpClock{rate: 48000, sess: sess}
	video := rtpClock{rate: 90000, sess: sess}
	audio.reset(5000)
	video.reset(70000)
	audio.anchor(5000, 10*time.Second)                      // arrived on time
	video.anchor(70000, 10*time.Second+80*time.Millisecond) // 80 ms late (a key frame paced out)
	// Both sampled at NTP 1000 s: audio at RTP 5000, video at RTP 70000.
	audio.senderReport(5000, ntpAt(1000, 0))
	video.senderReport(70000, ntpAt(1000, 0))
	for _, d := range []time.Duration{0, time.Second, 90 * time.Second} {
		a := audio.local(5000 + int64(d)*48000/int64(time.Second))
		v := video.local(70000 + int64(d)*90000/int64(time.Second))
		if a != v {
			t.Errorf("%v in: audio at %v, video at %v", d, a, v)
		}
		if a != 10*time.Second+d {
			t.Errorf("%v in: audio at %v, want %v (the first report's anchor)", d, a, 10*time.Second+d)
		}
	}
}
