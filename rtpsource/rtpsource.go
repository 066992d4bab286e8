// Package rtpsource turns RTP packets, and pion WebRTC remote tracks, into
// mediarecorder Tracks: it reorders packets, reassembles whole frames with
// pion's depacketizers, drops frames with holes up to the next key frame
// (asking the sender for one) unless what was lost is known to be
// discardable (a VP8 or VP9 frame stored as no reference, an H.264
// non-reference picture: then it costs only itself; see loss.go), skips
// padding-only packets (bandwidth
// probes), and stamps frames on the mediarecorder.Now clock (from RTCP
// Sender Reports once they arrive, so that the tracks of one sender line
// up).
package rtpsource

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/codec"
	"github.com/gomediarecorder/mediarecorder/internal/id"
)

// Errors returned by NewTrack and WritePacket.
var (
	ErrUnsupportedCodec = errors.New("rtpsource: unsupported codec")
	ErrClockRate        = errors.New("rtpsource: clock rate must not be zero")
	ErrTrackEnded       = errors.New("rtpsource: track has ended")
	ErrNilPacket        = errors.New("rtpsource: nil packet")
)

// DefaultJitterWindow is how long a frame waits for late or reordered
// packets when Options.JitterWindow is zero.
const DefaultJitterWindow = 150 * time.Millisecond

// Options configure a Track.
type Options struct {
	// JitterWindow is how long a frame waits for late or reordered
	// packets (default 150 ms).
	JitterWindow time.Duration
	// OnKeyFrameRequest asks the sender for a key frame (e.g. sends an
	// RTCP PLI). It is called by RequestKeyFrame, and whenever a video
	// track waits for a key frame (after a lost packet, or a frame that
	// does not depacketize) at most once per JitterWindow (or 100 ms, if
	// longer) of packet arrival time, until the key frame comes. It is
	// never called with the track's lock held; it must not block.
	OnKeyFrameRequest func()
	// Session puts the tracks of one sender on one timeline: tracks that
	// share a Session map RTCP Sender Report times to the local clock the
	// same way. Nil gives the track a Session of its own.
	Session *Session
}

// Stats counts what a Track did with its input.
type Stats struct {
	Packets          int // RTP packets written
	Frames           int // frames (or audio packets) published
	Dropped          int // frames dropped: incomplete, or waiting for a key frame
	Lost             int // RTP packets never received (sequence number holes)
	KeyFrameRequests int // calls of Options.OnKeyFrameRequest
	Padding          int // padding-only packets (bandwidth probes): no frame, no loss
	// NonReferenceLost counts the frames lost (whole, or broken and
	// counted in Dropped) that no later frame references: they cost only
	// themselves, the frames after them were published (see loss.go). A
	// run of H.264 frames lost whole, which the track cannot count, counts
	// once.
	NonReferenceLost int
}

// Track is a mediarecorder.Track fed by RTP packets (WritePacket) and
// RTCP (WriteRTCP).
type Track struct {
	// The Track composes the jobs of the package, one type each: a
	// reorderWindow (reorder.go) holds the packets of the current SSRC in
	// sequence order, an assembler (assemble.go) cuts them into frames and
	// marks losses, the lossState (loss.go) decides what a loss costs, the
	// keyGate (keyframe.go) holds video back until a key frame and asks
	// for one, an rtpClock (clock.go) stamps the frames on the local
	// clock, through the Session's mapping of RTCP Sender Reports
	// (session.go), and the output (output.go) publishes them on a
	// timeline kept across SSRC changes. The Track routes packets through
	// them under its lock, and counts.

	id    string
	kind  mediarecorder.Kind
	codec mediarecorder.Codec
	row   *codec.Codec // its row in the codec table
	ck    codecKind    // its RTP payload format
	onKey func()
	sess  *Session

	keyReqs atomic.Int64 // not under mu: RequestKeyFrame may come from a sink

	mu    sync.Mutex
	ended bool
	stats Stats

	// Per-SSRC state.
	started bool
	ssrc    uint32
	win     reorderWindow
	asm     assembler
	clk     rtpClock

	gate keyGate // video: frames held back until a key frame, requests for one

	out output // the published timeline, kept across SSRC changes

	loss lossState // what a loss costs (loss.go)
}

// NewTrack returns a live track carrying codec, whose MimeType is one of
// "audio/opus", "video/VP8", "video/VP9", "video/AV1", "video/H264" (any
// case) and whose ClockRate is the RTP clock rate.
func NewTrack(codec mediarecorder.Codec, opt Options) (*Track, error) {
	row, ck, ok := rtpCodecOf(codec.MimeType)
	if !ok {
		return nil, ErrUnsupportedCodec
	}
	if codec.ClockRate == 0 {
		return nil, ErrClockRate
	}
	window := opt.JitterWindow
	if window <= 0 {
		window = DefaultJitterWindow
	}
	sess := opt.Session
	if sess == nil {
		sess = NewSession()
	}
	kind := mediarecorder.Kind(row.Kind)
	t := &Track{
		id:    id.New(),
		kind:  kind,
		codec: codec,
		row:   row,
		ck:    ck,
		onKey: opt.OnKeyFrameRequest,
		sess:  sess,
		win:   newReorderWindow(window),
		asm:   assembler{ck: ck},
		clk:   rtpClock{rate: int64(codec.ClockRate), sess: sess},
		loss:  newLossState(ck),
		gate:  newKeyGate(kind == mediarecorder.KindVideo, window),
	}
	t.out.codec, t.out.params = row, codec
	return t, nil
}

// ID returns the track's identifier.
func (t *Track) ID() string { return t.id }

// Kind returns "audio" or "video".
func (t *Track) Kind() mediarecorder.Kind { return t.kind }

// Codec returns the codec given to NewTrack.
func (t *Track) Codec() mediarecorder.Codec { return t.codec }

// ReadyState returns "live", or "ended" after Stop.
func (t *Track) ReadyState() mediarecorder.TrackState {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return mediarecorder.TrackEnded
	}
	return mediarecorder.TrackLive
}

// Subscribe implements mediarecorder.Track.Subscribe.
func (t *Track) Subscribe(s mediarecorder.Sink) (unsubscribe func()) { return t.out.fan.Subscribe(s) }

// RequestKeyFrame calls Options.OnKeyFrameRequest, if set.
func (t *Track) RequestKeyFrame() {
	if t.onKey == nil {
		return
	}
	t.keyReqs.Add(1)
	t.onKey()
}

// Stats returns the track's counters.
func (t *Track) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.stats
	st.Frames = t.out.frames
	st.KeyFrameRequests = int(t.keyReqs.Load())
	return st
}

// Stop publishes the complete frames still buffered and ends the track.
// Idempotent.
func (t *Track) Stop() {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return
	}
	t.flush()
	t.out.flushHeld()
	t.ended = true
	t.mu.Unlock()
	t.out.fan.End()
}

// WritePacket feeds one RTP packet that arrived at arrival. The track
// keeps nothing of p after it returns. It fails once the track has ended.
func (t *Track) WritePacket(p *rtp.Packet, arrival time.Time) error {
	if p == nil {
		return ErrNilPacket
	}
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return ErrTrackEnded
	}
	t.stats.Packets++
	t.add(p, arrival)
	t.asm.run(&t.win, false, t)
	req := t.gate.due(t.win.latest, t.onKey != nil)
	t.mu.Unlock()
	if req {
		t.RequestKeyFrame()
	}
	return nil
}

// add buffers p.
func (t *Track) add(p *rtp.Packet, arrival time.Time) {
	t.win.arrived(arrival)
	// A padding-only packet (a bandwidth probe, often with the timestamp of
	// the previous frame) fills its sequence number and nothing else.
	pad := p.Padding && len(p.Payload) == 0
	if pad {
		t.stats.Padding++
	}
	if !t.started || p.SSRC != t.ssrc {
		if t.started {
			// A new SSRC: publish what the old one completed, drop the
			// rest, and continue the timeline where it ended.
			t.flush()
			t.out.flushHeld()
		}
		t.started = true
		t.ssrc = p.SSRC
		t.clk.reset(p.Timestamp)
		t.win.started = false
	}
	if !t.win.started {
		t.win.restart(p.SequenceNumber)
		t.asm.restart()
	}
	seq, newest := t.win.unwrap(p.SequenceNumber)
	ts := t.clk.unwrap(p.Timestamp)
	if newest {
		t.clk.advance(ts)
	}
	if !t.clk.anchored() && !pad {
		t.clk.anchor(ts, t.out.notBefore(t.sess.localAt(arrival)))
	}
	t.win.insert(seq, packet{ts: ts, marker: p.Marker && !pad, arrival: arrival, pad: pad}, p.Payload)
}

// flush assembles what it can, treating every hole as a loss, then empties
// the buffer.
func (t *Track) flush() {
	t.asm.run(&t.win, true, t)
	t.win.clear()
}

// lost implements assemblyOutput: n packets lost (loss.go decides what
// that costs).
func (t *Track) lost(n int, span bool) {
	t.stats.Lost += n
	if !t.loss.hole(span) {
		t.gate.wait() // no-op for audio
	}
}

// lostPacket implements assemblyOutput.
func (t *Track) lostPacket(p packet) { t.loss.noteLost(&p) }

// dropped implements assemblyOutput.
func (t *Track) dropped() { t.stats.Dropped++ }

// assembled implements assemblyOutput: it depacketizes the packets
// first..last of w into a frame and publishes it, unless a loss before it
// or its own damage makes it undecodable.
func (t *Track) assembled(w *reorderWindow, first, last, ts int64) {
	data, err := t.asm.depacketize(w, first, last, t.out.buffer())
	var facts frameFacts
	if t.kind == mediarecorder.KindVideo {
		facts = t.loss.facts(w, first, last)
	}
	if err != nil || len(data) == 0 {
		t.out.recycle(data)
		t.stats.Dropped++
		t.gate.wait()
		return
	}
	key := t.row.IsKeyFrame(data)
	nonRef, wait, drop := t.loss.decide(&facts, data, key, t.gate.waiting())
	t.stats.NonReferenceLost += nonRef
	if wait {
		t.gate.wait()
	}
	if drop {
		t.out.recycle(data)
		t.stats.Dropped++
		return
	}
	if !t.gate.pass(key) {
		t.out.recycle(data)
		t.stats.Dropped++
		return
	}
	if t.kind == mediarecorder.KindVideo {
		t.loss.published(&facts, data, key)
	}
	t.out.place(frame{data: data, ts: t.clk.local(ts), key: key})
}

// WriteRTCP takes the RTCP packets received for the track. Sender Reports
// for the current SSRC set the mapping from RTP time to the sender's NTP
// clock; from then on frame timestamps derive from it, the same way for
// every track of the Session. Later reports correct the mapping by at most
// 5 ms each (a jump of a second or more is taken whole). Other packets are
// ignored.
func (t *Track) WriteRTCP(pkts []rtcp.Packet) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range pkts {
		sr, ok := p.(*rtcp.SenderReport)
		if !ok {
			continue
		}
		if t.started && sr.SSRC != t.ssrc {
			continue
		}
		if !t.started {
			// Before any packet: remember it for this SSRC.
			t.started = true
			t.ssrc = sr.SSRC
			t.clk.reset(sr.RTPTime)
			t.clk.anchor(int64(sr.RTPTime), t.sess.localAt(now))
		}
		t.clk.senderReport(sr.RTPTime, sr.NTPTime)
	}
}
