package rtpsource

import "time"

// How later Sender Reports correct a track's timeline (rtpClock.senderReport).
const (
	maxSRStep = 5 * time.Millisecond
	srResync  = time.Second
)

// rtpClock places the RTP timestamps of one SSRC on the mediarecorder.Now
// clock. It unwraps the 32-bit timestamps to a 64-bit timeline (relative
// to the newest packet's), anchors that timeline at a local time (the
// first packet's arrival), and once an RTCP Sender Report comes maps it
// through the sender's NTP clock instead, which its Session maps to the
// local clock the same way for every track of the sender: that lines the
// tracks up. Not safe for concurrent use (the Track's lock guards it).
type rtpClock struct {
	rate int64    // RTP clock rate (Hz), > 0
	sess *Session // the NTP-to-local mapping shared with the sender's other tracks

	newest int64 // unwrapped timestamp of the newest packet

	anchorSet bool
	anchorRTP int64         // RTP time ...
	anchorLoc time.Duration // ... at this local time

	srSet bool
	srRTP int64         // RTP time ...
	srNTP uint64        // ... at this NTP time, of the newest Sender Report
	srAdj time.Duration // correction still to be slewed away (senderReport)
}

// reset starts the timeline of a new SSRC whose newest timestamp is ts:
// no anchor, no Sender Report.
func (c *rtpClock) reset(ts uint32) {
	c.newest = int64(ts)
	c.anchorSet = false
	c.srSet = false
	c.srAdj = 0
}

// unwrap returns RTP timestamp ts on the 64-bit timeline: the value
// nearest to the newest timestamp (within 2^31 ticks either way).
func (c *rtpClock) unwrap(ts uint32) int64 {
	return c.newest + int64(int32(ts-uint32(c.newest)))
}

// advance makes ts (unwrapped) the newest timestamp: the caller's packet
// is the newest in sequence order.
func (c *rtpClock) advance(ts int64) { c.newest = ts }

// anchored reports whether the timeline has an anchor.
func (c *rtpClock) anchored() bool { return c.anchorSet }

// anchor puts RTP time ts (unwrapped) at local time loc.
func (c *rtpClock) anchor(ts int64, loc time.Duration) {
	c.anchorSet = true
	c.anchorRTP = ts
	c.anchorLoc = loc
}

// local returns the local-clock time of RTP time ts (unwrapped): through
// the newest Sender Report once there is one, else through the anchor.
func (c *rtpClock) local(ts int64) time.Duration {
	if c.srSet {
		ntp := c.sess.ntpToLocal(c.srNTP, func() time.Duration { return c.anchorTime(c.srRTP) })
		return ntp + c.dur(ts-c.srRTP) + c.srAdj
	}
	return c.anchorTime(ts)
}

// anchorTime returns the local time of RTP time ts through the anchor.
func (c *rtpClock) anchorTime(ts int64) time.Duration {
	return c.anchorLoc + c.dur(ts-c.anchorRTP)
}

// dur converts d RTP ticks to a duration, exactly for whole seconds.
func (c *rtpClock) dur(d int64) time.Duration {
	r := c.rate
	return time.Duration(d/r)*time.Second + time.Duration((d%r)*int64(time.Second)/r)
}

// senderReport takes a Sender Report of this SSRC pairing RTP time rtpTime
// with NTP time ntp. The first one fixes the Session's mapping, if no
// other track of the Session did, from the anchor; from then on local
// times derive from the reports. A later report moves the timeline by at
// most maxSRStep: a sender's reports jitter by tens of milliseconds under
// load (it pairs its NTP and RTP times late), while its clocks drift apart
// by a fraction of that. A jump of srResync or more is a new clock and is
// taken at once.
func (c *rtpClock) senderReport(rtpTime uint32, ntp uint64) {
	rtpTS := c.unwrap(rtpTime)
	// Fix the session's mapping now, while the anchor is fresh.
	act := c.sess.ntpToLocal(ntp, func() time.Duration { return c.anchorTime(rtpTS) })
	if c.srSet {
		pred := c.local(rtpTS)
		step := act - pred
		if step > -srResync && step < srResync {
			step = min(max(step, -maxSRStep), maxSRStep)
		}
		c.srAdj = pred + step - act
	}
	c.srSet = true
	c.srRTP = rtpTS
	c.srNTP = ntp
}
