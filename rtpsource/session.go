package rtpsource

import (
	"sync"
	"time"

	"github.com/gomediarecorder/mediarecorder"
)

// Session maps the NTP times of RTCP Sender Reports to the
// mediarecorder.Now clock, the same way for every track that shares it.
// Give one Session to the tracks of one PeerConnection or sender.
// The zero value is not usable; call NewSession.
type Session struct {
	mu      sync.Mutex
	wall    time.Time     // a wall-clock reading ...
	local   time.Duration // ... and mediarecorder.Now() at that moment
	mapped  bool
	ntpBase uint64        // NTP time of the first Sender Report ...
	locBase time.Duration // ... on the local clock
}

// NewSession returns a Session for the tracks of one sender.
func NewSession() *Session {
	return &Session{wall: time.Now(), local: mediarecorder.Now()}
}

// localAt converts an arrival time to the mediarecorder.Now clock.
func (s *Session) localAt(t time.Time) time.Duration {
	return s.local + t.Sub(s.wall)
}

// ntpToLocal maps an NTP time to the local clock, fixing the mapping with
// guess (the local time the caller believes ntp is) on first use.
func (s *Session) ntpToLocal(ntp uint64, guess func() time.Duration) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.mapped {
		s.mapped = true
		s.ntpBase = ntp
		s.locBase = guess()
	}
	return s.locBase + ntpDiff(ntp, s.ntpBase)
}

// ntpDiff returns a-b for 32.32 fixed-point NTP times.
func ntpDiff(a, b uint64) time.Duration {
	d := int64(a - b)
	secs := d >> 32
	frac := d & 0xffffffff
	return time.Duration(secs)*time.Second + time.Duration((frac*int64(time.Second))>>32)
}
