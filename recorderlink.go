package mediarecorder

import "time"

// recorderLink is a recording's way back into its Recorder: the events it
// fires, the state changes it asks for, the statistics it counts and the
// options it reads all go through it, and nothing else of the recording
// touches the Recorder's fields.
type recorderLink struct {
	r *Recorder
}

// fire queues an event for the recorder's handlers.
func (l recorderLink) fire(ev event) { l.r.queueEvent(ev) }

// started fires start, having set the recorder's mimeType to the
// recording's type first (if rec is still its recording).
func (l recorderLink) started(rec *recording, mimeType string) {
	r := l.r
	r.queueEvent(event{typ: evStart, before: func() {
		r.mu.Lock()
		if r.rec == rec {
			r.mimeType = mimeType
		}
		r.mu.Unlock()
	}})
}

// inactivate makes the recorder inactive if rec is still its recording,
// and reports whether it did (see Recorder.inactivateFor).
func (l recorderLink) inactivate(rec *recording) bool { return l.r.inactivateFor(rec) }

// count adds d to the recorder's statistics.
func (l recorderLink) count(d Stats) {
	r := l.r
	r.mu.Lock()
	r.stats.Dropped += d.Dropped
	r.stats.Skipped += d.Skipped
	r.stats.KeyFrameRequests += d.KeyFrameRequests
	r.mu.Unlock()
}

// keyFrameInterval returns the key-frame interval options.
func (l recorderLink) keyFrameInterval() (every time.Duration, frames uint64) {
	return l.r.opts.VideoKeyFrameIntervalDuration, l.r.opts.VideoKeyFrameIntervalCount
}

// timecode returns the BlobEvent timecode of media time t of the current
// recording (see Recorder.mediaTimecode).
func (l recorderLink) timecode(t time.Duration) float64 { return l.r.mediaTimecode(t) }

// ended adds a finished recording's length to the recorder's media time.
func (l recorderLink) ended(length time.Duration) {
	l.r.mu.Lock()
	l.r.mediaBase += length
	l.r.mu.Unlock()
}

// listenTracks calls f when the stream's track set changes, until the
// returned function is called.
func (l recorderLink) listenTracks(f func()) (stop func()) { return l.r.stream.listen(f) }

// mediaTimecode returns the BlobEvent timecode (ms) of media time t of the
// current recording: recorder-wide, so it keeps growing across recordings.
func (r *Recorder) mediaTimecode(t time.Duration) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return float64(r.mediaBase+t) / float64(time.Millisecond)
}
