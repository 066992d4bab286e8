package rtpsource

import "time"

// minKeyInterval is the shortest time between two automatic key-frame
// requests, when the jitter window is shorter.
const minKeyInterval = 100 * time.Millisecond

// keyGate holds a video track's frames back until a key frame after a
// loss it cannot repair (or at the start), and paces its requests for one:
// a request is due when a frame is held back, at most once per interval of
// packet arrival time (a request held back by the limit stays due). An
// audio track's gate is always open. Not safe for concurrent use (the
// Track's lock guards it).
type keyGate struct {
	video    bool
	interval time.Duration // between two automatic requests

	need   bool      // drop frames until a key frame
	wanted bool      // a request is due (rate-limited)
	reqAt  time.Time // arrival time of the last automatic request
	reqSet bool
}

// newKeyGate returns the gate of a video or audio track whose jitter
// window is window: a video track waits for a key frame from the start.
func newKeyGate(video bool, window time.Duration) keyGate {
	return keyGate{video: video, interval: max(window, minKeyInterval), need: video}
}

// wait makes a video track drop frames until a key frame, and asks the
// sender for one.
func (g *keyGate) wait() {
	if !g.video {
		return
	}
	g.need = true
	g.wanted = true
}

// waiting reports whether frames are dropped until a key frame.
func (g *keyGate) waiting() bool { return g.need }

// pass reports whether a complete frame (a key frame or not) may be
// published, opening the gate at a key frame. A frame held back makes a
// request due again.
func (g *keyGate) pass(key bool) bool {
	if !g.need {
		return true
	}
	if !key {
		g.wanted = true // ask again, rate-limited, until it comes
		return false
	}
	g.need = false
	return true
}

// due reports whether to ask the sender for a key frame now (latest is
// the newest packet arrival; canAsk: there is someone to ask): a request
// is wanted, the gate still waits, and the last automatic request is at
// least the interval ago.
func (g *keyGate) due(latest time.Time, canAsk bool) bool {
	if !g.wanted {
		return false
	}
	if !g.need || !canAsk {
		g.wanted = false
		return false
	}
	if g.reqSet && latest.Sub(g.reqAt) < g.interval {
		return false
	}
	g.wanted = false
	g.reqSet = true
	g.reqAt = latest
	return true
}
