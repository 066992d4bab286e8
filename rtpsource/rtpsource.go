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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/codecs/av1"
	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/codecs/vp8"
	"github.com/gomediarecorder/mediarecorder/codecs/vp9"
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

// minKeyInterval is the shortest time between two automatic key-frame
// requests, when the jitter window is shorter.
const minKeyInterval = 100 * time.Millisecond

// maxBuffered bounds the packets held while waiting for a missing one.
const maxBuffered = 4096

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

type codecKind int

const (
	codecOpus codecKind = iota
	codecVP8
	codecVP9
	codecAV1
	codecH264
)

// packet is one buffered RTP packet.
type packet struct {
	ts      int64 // unwrapped RTP timestamp
	marker  bool
	payload []byte
	arrival time.Time
	pad     bool // padding only: fills its sequence number, carries nothing
}

// frame is a reassembled frame waiting to be published.
type frame struct {
	data []byte
	ts   time.Duration
	key  bool
	dur  time.Duration
}

// Track is a mediarecorder.Track fed by RTP packets (WritePacket) and
// RTCP (WriteRTCP).
type Track struct {
	fan mediarecorder.Fanout // not embedded: End would end the track behind its back

	id     string
	kind   mediarecorder.Kind
	codec  mediarecorder.Codec
	ck     codecKind
	window time.Duration
	onKey  func()
	sess   *Session

	keyReqs atomic.Int64 // not under mu: RequestKeyFrame may come from a sink

	mu    sync.Mutex
	ended bool
	stats Stats

	// Per-SSRC state.
	started   bool
	seqInit   bool
	assembled bool // a frame of this SSRC was assembled or dropped
	ssrc      uint32
	highSeq   int64 // highest unwrapped sequence number seen
	lastTS    int64 // unwrapped RTP timestamp of the newest packet
	next      int64 // next sequence number to assemble
	buf       map[int64]packet
	free      [][]byte  // payload buffers of packets gone, for reuse
	latest    time.Time // newest arrival time seen
	resync    bool      // after a loss: skip to the next frame start
	badTS     int64     // timestamp of a frame broken by a loss
	hasBadTS  bool
	needKey   bool      // video: drop frames until a key frame
	keyWanted bool      // a key-frame request is due (rate-limited)
	keyReqAt  time.Time // arrival time of the last automatic request
	keyReqSet bool
	anchorSet bool
	anchorRTP int64         // RTP time ...
	anchorLoc time.Duration // ... at this local time
	srSet     bool
	srRTP     int64
	srNTP     uint64
	srAdj     time.Duration // correction still to be slewed away (see WriteRTCP)

	// Timeline, kept across SSRC changes.
	lastOut time.Duration // timestamp of the newest published frame
	lastEnd time.Duration // where it ends
	haveOut bool
	held    frame // video: the newest frame, published when the next one comes
	hasHeld bool
	spare   []byte // a frame buffer to assemble the next frame in
	lastDur time.Duration

	loss lossState // what a loss costs (loss.go)

	// Depacketizers, reset for each frame (kept here: no allocation).
	opusDP codecs.OpusPacket
	vp8DP  codecs.VP8Packet
	vp9DP  codecs.VP9Packet
	av1DP  codecs.AV1Depacketizer
	h264DP codecs.H264Packet
}

// NewTrack returns a live track carrying codec, whose MimeType is one of
// "audio/opus", "video/VP8", "video/VP9", "video/AV1", "video/H264" (any
// case) and whose ClockRate is the RTP clock rate.
func NewTrack(codec mediarecorder.Codec, opt Options) (*Track, error) {
	var ck codecKind
	switch strings.ToLower(codec.MimeType) {
	case "audio/opus":
		ck = codecOpus
	case "video/vp8":
		ck = codecVP8
	case "video/vp9":
		ck = codecVP9
	case "video/av1":
		ck = codecAV1
	case "video/h264":
		ck = codecH264
	default:
		return nil, ErrUnsupportedCodec
	}
	if codec.ClockRate == 0 {
		return nil, ErrClockRate
	}
	t := &Track{
		id:     id.New(),
		kind:   mediarecorder.KindVideo,
		codec:  codec,
		ck:     ck,
		window: opt.JitterWindow,
		onKey:  opt.OnKeyFrameRequest,
		sess:   opt.Session,
		buf:    make(map[int64]packet),
	}
	t.loss.picID, t.loss.prevRef = -1, -1
	if ck == codecOpus {
		t.kind = mediarecorder.KindAudio
	}
	if t.window <= 0 {
		t.window = DefaultJitterWindow
	}
	if t.sess == nil {
		t.sess = NewSession()
	}
	t.needKey = t.kind == mediarecorder.KindVideo
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
func (t *Track) Subscribe(s mediarecorder.Sink) (unsubscribe func()) { return t.fan.Subscribe(s) }

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
	t.publishHeld()
	t.ended = true
	t.mu.Unlock()
	t.fan.End()
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
	t.assemble(false)
	req := t.keyRequestDue()
	t.mu.Unlock()
	if req {
		t.RequestKeyFrame()
	}
	return nil
}

// waitKey makes a video track drop frames until a key frame, and asks the
// sender for one.
func (t *Track) waitKey() {
	if t.kind != mediarecorder.KindVideo {
		return
	}
	t.needKey = true
	t.keyWanted = true
}

// keyRequestDue reports whether to call OnKeyFrameRequest now: a request
// is wanted, the track still waits for a key frame, and the last automatic
// request is at least the jitter window (or minKeyInterval) of arrival
// time ago. A request held back by the rate limit stays due.
func (t *Track) keyRequestDue() bool {
	if !t.keyWanted {
		return false
	}
	if !t.needKey || t.onKey == nil {
		t.keyWanted = false
		return false
	}
	if t.keyReqSet && t.latest.Sub(t.keyReqAt) < max(t.window, minKeyInterval) {
		return false
	}
	t.keyWanted = false
	t.keyReqSet = true
	t.keyReqAt = t.latest
	return true
}

// add buffers p.
func (t *Track) add(p *rtp.Packet, arrival time.Time) {
	if arrival.After(t.latest) || t.latest.IsZero() {
		t.latest = arrival
	}
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
			t.publishHeld()
		}
		t.started = true
		t.ssrc = p.SSRC
		t.lastTS = int64(p.Timestamp)
		t.anchorSet = false
		t.srSet = false
		t.srAdj = 0
		t.seqInit = false
	}
	if !t.seqInit {
		t.seqInit = true
		t.highSeq = int64(p.SequenceNumber)
		t.next = t.highSeq
		t.clear()
		t.resync = true // the stream may start in the middle of a frame
		t.hasBadTS = false
		t.assembled = false
	}
	seq := t.highSeq + int64(int16(p.SequenceNumber-uint16(t.highSeq)))
	ts := t.lastTS + int64(int32(p.Timestamp-uint32(t.lastTS)))
	if seq > t.highSeq {
		t.highSeq = seq
		t.lastTS = ts
	}
	if !t.anchorSet && !pad {
		t.anchorSet = true
		t.anchorRTP = ts
		loc := t.sess.localAt(arrival)
		if t.haveOut && loc < t.lastEnd {
			loc = t.lastEnd
		}
		t.anchorLoc = loc
	}
	if seq < t.next {
		if t.assembled || t.next-seq > maxBuffered {
			return // too late
		}
		// Nothing assembled yet: the stream starts earlier than thought.
		t.next = seq
	}
	if _, dup := t.buf[seq]; dup {
		return
	}
	if pad {
		t.buf[seq] = packet{ts: ts, arrival: arrival, pad: true}
		return
	}
	var b []byte
	if n := len(t.free); n > 0 {
		b, t.free = t.free[n-1], t.free[:n-1]
	}
	t.buf[seq] = packet{
		ts:      ts,
		marker:  p.Marker,
		payload: append(b[:0], p.Payload...),
		arrival: arrival,
	}
}

// maxFree bounds the payload buffers kept for reuse.
const maxFree = 64

// drop removes packet seq from the buffer, keeping its payload buffer.
func (t *Track) drop(seq int64) {
	if p, ok := t.buf[seq]; ok {
		if p.payload != nil && len(t.free) < maxFree {
			t.free = append(t.free, p.payload[:0])
		}
		delete(t.buf, seq)
	}
}

func (t *Track) clear() {
	for k := range t.buf {
		t.drop(k)
	}
}

// flush assembles what it can, treating every hole as a loss, then empties
// the buffer.
func (t *Track) flush() {
	t.assemble(true)
	t.clear()
}

// assemble publishes the frames that are complete. A hole that has waited
// longer than the jitter window (or any hole, when force is set) is a
// loss.
func (t *Track) assemble(force bool) {
	if !t.assembled && !force && !t.expired() {
		// Wait for packets sent before the first one to arrive.
		return
	}
	for len(t.buf) > 0 {
		// Padding between frames: no frame, no hole, no change of state.
		if p, ok := t.buf[t.next]; ok && p.pad {
			t.loss.consTS, t.loss.consSet = p.ts, true
			t.drop(t.next)
			t.next++
			continue
		}
		// Skip what belongs to a frame broken by a loss, up to a frame start.
		if p, ok := t.buf[t.next]; ok && t.resync {
			if (t.hasBadTS && p.ts == t.badTS) || !t.frameStart(&p) {
				t.noteLost(&p)
				t.loss.consTS, t.loss.consSet = p.ts, true
				t.drop(t.next)
				t.next++
				continue
			}
			t.resync = false
			t.hasBadTS = false
		}
		end, complete := t.frameEnd()
		if complete {
			t.emit(t.next, end)
			t.next = end + 1
			continue
		}
		// A hole at end+1 (or the frame's end has not arrived yet).
		if !force && !t.expired() {
			return
		}
		hole := end + 1
		nextSeq := int64(-1)
		for s := range t.buf {
			if s > hole && (nextSeq < 0 || s < nextSeq) {
				nextSeq = s
			}
		}
		if nextSeq < 0 && !force && len(t.buf) < maxBuffered {
			// Nothing after the hole has arrived: the rest of the frame
			// is late, not lost (a sender that stalled, a key frame
			// paced out over time). Wait for it or for what follows it.
			return
		}
		if end >= t.next {
			// The packets before the hole are an incomplete frame.
			t.badTS = t.buf[t.next].ts
			t.hasBadTS = true
			t.loss.consTS, t.loss.consSet = t.badTS, true
			t.lossAt(t.badTS, true) // the hole is inside this frame, so far
			for s := t.next; s <= end; s++ {
				p := t.buf[s]
				t.noteLost(&p)
				t.drop(s)
			}
			t.loss.consTS, t.loss.consSet = t.badTS, true
			t.stats.Dropped++
			t.assembled = true
		}
		if nextSeq < 0 {
			// Nothing after the hole: keep waiting for it.
			t.next = hole
			t.resync = true
			return
		}
		t.stats.Lost += int(nextSeq - hole)
		t.lossAt(t.buf[nextSeq].ts, true)
		t.next = nextSeq
		t.resync = true
	}
}

// expired reports whether the oldest buffered packet has waited longer
// than the jitter window, or the buffer is full.
func (t *Track) expired() bool {
	if len(t.buf) >= maxBuffered {
		return true
	}
	for _, p := range t.buf {
		if t.latest.Sub(p.arrival) >= t.window {
			return true
		}
	}
	return false
}

// frameEnd finds the frame that starts at t.next: it returns the sequence
// number of its last packet and true when the frame is complete, or the
// last sequence number present before a hole and false. Padding packets
// inside the frame's run belong to it (emit skips them).
func (t *Track) frameEnd() (int64, bool) {
	first, ok := t.buf[t.next]
	if !ok {
		return t.next - 1, false
	}
	if t.ck == codecOpus {
		return t.next, true
	}
	s := t.next
	for {
		p := t.buf[s]
		if p.marker && !p.pad {
			return s, true
		}
		n, ok := t.buf[s+1]
		if !ok {
			return s, false
		}
		if !n.pad && n.ts != first.ts {
			// The sender set no marker bit; the timestamp change ends it.
			return s, true
		}
		s++
	}
}

// frameStart reports whether p is the first packet of a frame.
func (t *Track) frameStart(p *packet) bool {
	if len(p.payload) == 0 {
		return false
	}
	switch t.ck {
	case codecVP8:
		return (&codecs.VP8Packet{}).IsPartitionHead(p.payload)
	case codecVP9:
		return (&codecs.VP9Packet{}).IsPartitionHead(p.payload)
	case codecAV1:
		return p.payload[0]&0x80 == 0 // Z = 0: no OBU continues from before
	case codecH264:
		return (&codecs.H264Packet{}).IsPartitionHead(p.payload)
	}
	return true
}

// emit depacketizes the packets first..last into a frame and publishes it.
func (t *Track) emit(first, last int64) {
	t.assembled = true
	ts := t.buf[first].ts
	var d rtp.Depacketizer
	switch t.ck {
	case codecOpus:
		t.opusDP = codecs.OpusPacket{}
		d = &t.opusDP
	case codecVP8:
		t.vp8DP = codecs.VP8Packet{}
		d = &t.vp8DP
	case codecVP9:
		t.vp9DP = codecs.VP9Packet{}
		d = &t.vp9DP
	case codecAV1:
		t.av1DP = codecs.AV1Depacketizer{}
		d = &t.av1DP
	case codecH264:
		t.h264DP = codecs.H264Packet{}
		d = &t.h264DP
	}
	var err error
	data := t.spare[:0]
	t.spare = nil
	for s := first; s <= last && err == nil; s++ {
		if p := t.buf[s]; !p.pad {
			var b []byte
			b, err = d.Unmarshal(p.payload)
			data = append(data, b...)
		}
	}
	var facts frameFacts
	if t.kind == mediarecorder.KindVideo {
		facts = t.facts(first, last)
	}
	for s := first; s <= last; s++ {
		t.drop(s)
	}
	t.loss.consTS, t.loss.consSet = ts, true
	if err != nil || len(data) == 0 {
		t.spare = data[:0]
		t.stats.Dropped++
		t.waitKey()
		return
	}
	key := t.isKeyFrame(data)
	if t.loss.pending && !t.needKey && !key {
		if t.survives(&facts, data) {
			n := len(t.loss.lost)
			if facts.picID >= 0 && t.loss.picID >= 0 {
				mod := int32(1) << facts.picBits
				n = int((facts.picID - t.loss.picID - 1 + mod) % mod)
			}
			t.stats.NonReferenceLost += max(n, 1)
		} else if t.survivesBase(&facts, data) {
			t.stats.NonReferenceLost++
			t.loss.broken = 1
		} else {
			t.waitKey()
		}
	}
	if t.ck == codecVP8 && (key || !t.needKey) && t.layerDropped(&facts, key) {
		t.clearLoss()
		t.spare = data[:0]
		t.stats.Dropped++
		return
	}
	t.clearLoss() // decided, or waiting for a key frame anyway
	if t.needKey {
		if !key {
			t.spare = data[:0]
			t.stats.Dropped++
			t.keyWanted = true // ask again, rate-limited, until it comes
			return
		}
		t.needKey = false
	}
	if t.kind == mediarecorder.KindVideo {
		t.published(&facts, data, key)
	}
	f := frame{data: data, ts: t.localTime(ts), key: key}
	if t.haveOut && f.ts < t.lastOut {
		f.ts = t.lastOut
	}
	if t.hasHeld && f.ts < t.held.ts {
		f.ts = t.held.ts
	}
	if t.ck == codecOpus {
		d, err := opus.PacketDuration(data)
		if err != nil || d <= 0 {
			d = 20 * time.Millisecond
		}
		f.dur = d
		t.publish(f)
		return
	}
	if t.hasHeld {
		d := f.ts - t.held.ts
		if d <= 0 || d > time.Second {
			d = t.lastDur
		}
		t.held.dur = d
		t.lastDur = d
		t.publishHeld()
	}
	t.held, t.hasHeld = f, true
}

// publishHeld publishes the held video frame, if any.
func (t *Track) publishHeld() {
	if t.hasHeld {
		t.hasHeld = false
		t.publish(t.held)
		t.held = frame{}
	}
}

// publish hands f to the sinks, which copy what they keep: f's buffer is
// then free to assemble the next frame in. A video frame's duration runs
// to the next frame's timestamp.
func (t *Track) publish(f frame) {
	if f.dur <= 0 {
		f.dur = t.lastDur
		if f.dur <= 0 {
			f.dur = time.Second / 30
		}
	}
	t.fan.Publish(mediarecorder.TimedSample{
		Sample:    mediarecorder.Sample{Data: f.data, Duration: f.dur},
		Timestamp: f.ts,
		KeyFrame:  f.key,
	})
	if t.spare == nil {
		t.spare = f.data[:0]
	}
	t.stats.Frames++
	t.lastOut = f.ts
	t.lastEnd = f.ts + f.dur
	t.haveOut = true
}

// localTime returns the local-clock time of RTP time ts of the current SSRC.
func (t *Track) localTime(ts int64) time.Duration {
	if t.srSet {
		ntp := t.sess.ntpToLocal(t.srNTP, func() time.Duration { return t.anchorTime(t.srRTP) })
		return ntp + t.rtpDur(ts-t.srRTP) + t.srAdj
	}
	return t.anchorTime(ts)
}

func (t *Track) anchorTime(ts int64) time.Duration {
	return t.anchorLoc + t.rtpDur(ts-t.anchorRTP)
}

func (t *Track) rtpDur(d int64) time.Duration {
	r := int64(t.codec.ClockRate)
	return time.Duration(d/r)*time.Second + time.Duration((d%r)*int64(time.Second)/r)
}

func (t *Track) isKeyFrame(data []byte) bool {
	switch t.ck {
	case codecVP8:
		return vp8.IsKeyFrame(data)
	case codecVP9:
		return vp9.IsKeyFrame(data)
	case codecAV1:
		_, seq, ok := av1.FindSequenceHeader(data)
		return ok && av1.IsKeyFrame(data, &seq)
	case codecH264:
		return h264.IsKeyFrame(data)
	}
	return true
}

// How later Sender Reports correct a track's timeline (WriteRTCP).
const (
	maxSRStep = 5 * time.Millisecond
	srResync  = time.Second
)

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
			t.seqInit = false
			t.ssrc = sr.SSRC
			t.lastTS = int64(sr.RTPTime)
			t.anchorSet = true
			t.anchorRTP = t.lastTS
			t.anchorLoc = t.sess.localAt(now)
		}
		rtpTS := t.lastTS + int64(int32(sr.RTPTime-uint32(t.lastTS)))
		// Fix the session's mapping now, while the anchor is fresh.
		act := t.sess.ntpToLocal(sr.NTPTime, func() time.Duration { return t.anchorTime(rtpTS) })
		if t.srSet {
			// A later report moves the timeline by at most maxSRStep: a
			// sender's reports jitter by tens of milliseconds under load
			// (it pairs its NTP and RTP times late), while its clocks
			// drift apart by a fraction of that. A jump of more than
			// srResync is a new clock and is taken at once.
			pred := t.localTime(rtpTS)
			step := act - pred
			if step > -srResync && step < srResync {
				step = min(max(step, -maxSRStep), maxSRStep)
			}
			t.srAdj = pred + step - act
		}
		t.srSet = true
		t.srRTP = rtpTS
		t.srNTP = sr.NTPTime
	}
}
