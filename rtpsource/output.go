package rtpsource

import (
	"time"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/codec"
)

// frame is a reassembled frame waiting to be published.
type frame struct {
	data []byte
	ts   time.Duration
	key  bool
	dur  time.Duration
}

// output publishes a track's frames to its sinks on one timeline, which
// continues across SSRC changes: timestamps never go back; an audio frame
// lasts what its packet says (the codec table's Duration; 20 ms if it says
// nothing); a video
// frame is held until the next one, whose timestamp ends it (a step of
// none or over a second takes the previous duration; 1/30 s before
// there is one). Sinks copy what they keep, so a published frame's buffer
// is handed back (buffer) to assemble the next frame in. Not safe for
// concurrent use (the Track's lock guards it), but for fan.
type output struct {
	fan    mediarecorder.Fanout // not embedded: End would end the track behind its back
	codec  *codec.Codec         // the track's row in the codec table
	params mediarecorder.Codec  // the track's codec parameters

	frames  int           // published
	lastOut time.Duration // timestamp of the newest published frame
	lastEnd time.Duration // where it ends
	haveOut bool
	held    frame // video: the newest frame, published when the next one comes
	hasHeld bool
	spare   []byte // a frame buffer to assemble the next frame in
	lastDur time.Duration
}

// buffer returns an empty buffer to assemble a frame in: give it back
// (recycle) if the frame is not published.
func (o *output) buffer() []byte {
	b := o.spare[:0]
	o.spare = nil
	return b
}

// recycle takes back a buffer from buffer whose frame is not published.
func (o *output) recycle(b []byte) { o.spare = b[:0] }

// notBefore returns loc, or the end of the newest published frame if that
// is later: where a new SSRC's timeline may start.
func (o *output) notBefore(loc time.Duration) time.Duration {
	if o.haveOut && loc < o.lastEnd {
		return o.lastEnd
	}
	return loc
}

// place puts f on the timeline, after the frames before it, and publishes
// it (video: when the next frame comes, or flushHeld).
func (o *output) place(f frame) {
	if o.haveOut && f.ts < o.lastOut {
		f.ts = o.lastOut
	}
	if o.hasHeld && f.ts < o.held.ts {
		f.ts = o.held.ts
	}
	if o.codec.Kind == codec.Audio {
		d := o.codec.Duration(f.data, o.params.ClockRate, uint8(o.params.Channels))
		if d <= 0 {
			d = 20 * time.Millisecond
		}
		f.dur = d
		o.publish(f)
		return
	}
	if o.hasHeld {
		d := f.ts - o.held.ts
		if d <= 0 || d > time.Second {
			d = o.lastDur
		}
		o.held.dur = d
		o.lastDur = d
		o.flushHeld()
	}
	o.held, o.hasHeld = f, true
}

// flushHeld publishes the held video frame, if any.
func (o *output) flushHeld() {
	if o.hasHeld {
		o.hasHeld = false
		o.publish(o.held)
		o.held = frame{}
	}
}

// publish hands f to the sinks; its buffer is then free to assemble the
// next frame in.
func (o *output) publish(f frame) {
	if f.dur <= 0 {
		f.dur = o.lastDur
		if f.dur <= 0 {
			f.dur = time.Second / 30
		}
	}
	o.fan.Publish(mediarecorder.TimedSample{
		Sample:    mediarecorder.Sample{Data: f.data, Duration: f.dur},
		Timestamp: f.ts,
		KeyFrame:  f.key,
	})
	if o.spare == nil {
		o.spare = f.data[:0]
	}
	o.frames++
	o.lastOut = f.ts
	o.lastEnd = f.ts + f.dur
	o.haveOut = true
}
