// Package webm writes WebM and Matroska files (RFC 9559, the WebM container
// guidelines) as a stream: frames go out as SimpleBlocks as soon as they are
// written, and nothing is buffered beyond the current frame.
//
// The output starts with the EBML header, a Segment of unknown size, a Void
// reserved for the SeekHead, Info (with a Void reserved for Duration) and
// Tracks, followed by Clusters of unknown size. Those bytes are a valid live
// stream at every frame boundary.
//
// When Options.Seekable is set and the destination can seek, the writer also
// finalises the file in place: each Cluster's real size is patched in when
// the next one starts, and Close appends Cues and fills in Duration, the
// Segment size and the SeekHead. The file on disk is valid at all times, and
// the first bytes of a live stream and of a finished file are the same, so
// one recording can be both.
//
// Timestamps are time.Duration values on the segment timeline. They are
// converted once, in WriteFrame or WriteBlock, to the TimestampScale the
// writer uses (1 ms unless Options.TimestampScale says otherwise).
//
// Reader reads WebM and Matroska files and live streams back frame by frame,
// and Fix turns an unfinished, broken or truncated recording into a
// finished, seekable file without changing a byte of the media.
package webm

import (
	"errors"
	"io"
	"math"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/ebml"
)

// Errors returned by NewWriter, WriteFrame and Close.
var (
	// ErrClosed is returned by WriteFrame after Close.
	ErrClosed = errors.New("webm: writer closed")
	// ErrTrackNumber means a track number is zero or used twice
	// (NewWriter), or not one of the writer's tracks (WriteFrame).
	ErrTrackNumber = errors.New("webm: invalid track number")
	// ErrTimestamp means a frame's timestamp is negative or earlier than
	// the previous frame of the same track (with Options.AllowReorder: more
	// than 32768 TimestampScale units below zero), or its duration is
	// negative.
	ErrTimestamp = errors.New("webm: timestamp out of order")
	// ErrTimestampScale means Options.TimestampScale is negative or above
	// one second.
	ErrTimestampScale = errors.New("webm: invalid TimestampScale")
	// ErrNoTracks means Options.Tracks is empty.
	ErrNoTracks = errors.New("webm: no tracks")
	// ErrTrackEntry means a TrackEntry has an unknown Type, an empty
	// CodecID or a negative duration (with Raw set: a zero Type).
	ErrTrackEntry = errors.New("webm: invalid track entry")
	// ErrDocType means Options.DocType is neither "webm" nor "matroska".
	ErrDocType = errors.New("webm: unsupported DocType")
	// ErrNotSeekable means Options.Seekable is set but the destination does
	// not implement io.WriteSeeker.
	ErrNotSeekable = errors.New("webm: destination is not an io.WriteSeeker")
)

// TrackType is the Matroska TrackType of a track.
type TrackType uint8

// Track types.
const (
	TrackTypeVideo TrackType = 1
	TrackTypeAudio TrackType = 2
)

// TrackEntry describes one track. Codec-specific data (CodecPrivate,
// dimensions) is prepared by the caller.
type TrackEntry struct {
	Number uint64 // 1-based; must be unique
	UID    uint64 // 0 -> derived from Number (non-zero)
	Type   TrackType
	// CodecID is the Matroska codec ID: "V_VP8", "V_VP9", "V_AV1",
	// "V_MPEG4/ISO/AVC", "A_OPUS", "A_PCM/INT/LIT", ...
	CodecID      string
	CodecPrivate []byte // written when non-empty
	// CodecDelay and SeekPreRoll are written, in nanoseconds, when
	// non-zero (Opus: pre-skip / 48 kHz and 80 ms).
	CodecDelay, SeekPreRoll time.Duration
	DefaultDuration         time.Duration // optional; written when non-zero
	// Video: written when non-zero.
	PixelWidth, PixelHeight uint32
	// Audio: each written when non-zero.
	SamplingFrequency float64
	Channels          uint8
	BitDepth          uint8
	// Raw is the body of a TrackEntry element as found in a file. Reader
	// fills it in; when it is non-empty the Writer writes it verbatim in
	// place of an entry built from the fields above, so a remux keeps
	// every element (names, languages, ContentEncodings, ...). Number and
	// Type must still agree with it. Set Raw to nil after changing a field.
	Raw []byte
}

// Options configures a Writer.
type Options struct {
	// DocType is "webm" (the default) or "matroska".
	DocType string
	// MuxingApp and WritingApp default to "mediarecorder".
	MuxingApp, WritingApp string
	// Tracks lists the tracks, in the order they are written.
	Tracks []TrackEntry
	// MaxClusterDuration is the longest time span of a Cluster before a
	// new one starts (default 5 s; at most about 32.767 s is possible).
	MaxClusterDuration time.Duration
	// Seekable makes the writer finalise the file in place (Cluster sizes,
	// Cues, Duration, Segment size, SeekHead). The destination must
	// implement io.WriteSeeker (a file not opened with O_APPEND); writing
	// starts at its current position.
	Seekable bool
	// TimestampScale is the length of one timestamp unit in the file
	// (default 1 ms, at most 1 s). Timestamps are rounded to it, and a
	// Cluster spans at most 32767 units.
	TimestampScale time.Duration
	// AllowReorder lets the frames of a track go back in time, as H.264
	// and HEVC with B-frames do in decode order, and lets timestamps be
	// negative down to -32768 units. New Clusters then start wherever a
	// relative timestamp would leave the int16 range.
	AllowReorder bool
}

// Sizes of the reserved regions.
const (
	// A Seek entry is at most 21 bytes: Seek header (3), SeekID (7) and
	// SeekPosition (3 + up to 8). The SeekHead holds Info, Tracks, Cues and
	// one spare entry behind a 5-byte header; 2 more bytes guarantee that
	// the unused rest can always be a Void.
	seekHeadReserve = 5 + 4*21 + 2
	// Duration is 2 (ID) + 1 (size) + 8 (float) bytes.
	durationLen = 11
	// A Cluster header: 4-byte ID and 8-byte size.
	clusterHeaderLen = 12
)

type trackState struct {
	num     uint64
	enc     [8]byte // the track number as a block header vint
	encLen  int
	video   bool
	started bool
	last    time.Duration // timestamp of the latest frame
	delta   time.Duration // estimated duration of the latest frame
	gap     bool          // delta is a gap between timestamps
	lastTk  int64         // timestamp of the previous frame, in ticks
	defDur  time.Duration
}

type cuePoint struct {
	time   uint64 // ticks
	track  uint64
	cPos   uint64 // Cluster position relative to the Segment data
	relPos uint64 // block position relative to the Cluster data
}

// Writer writes a WebM/Matroska stream. It is not safe for concurrent use.
type Writer struct {
	w      io.Writer
	ws     io.WriteSeeker // nil when not seeking (live)
	base   int64          // position of ws when the writer started
	off    int64          // bytes written so far
	err    error          // sticky write error
	closed bool

	tracks     []trackState
	cueTrack   uint64
	maxCluster int64 // ticks
	scale      int64 // ns per tick
	reorder    bool
	durSet     bool
	dur        time.Duration

	segDataOff  int64  // Segment data start
	info        []byte // Info element, Duration slot last
	headEnd     int64  // end of Info (start of Tracks)
	clusterOpen bool
	clusterOff  int64 // Cluster ID position
	clusterTS   int64 // Cluster timestamp, ticks
	cues        []cuePoint

	scratch  []byte
	patch    [16]byte
	app      [2]string
	borrowed bool // the block being built is in the destination's buffer
}

// NewWriter validates opts and writes the EBML header, the start of the
// Segment, the reserved SeekHead space, Info and Tracks to w in one Write.
func NewWriter(w io.Writer, opts Options) (*Writer, error) {
	docType := opts.DocType
	if docType == "" {
		docType = "webm"
	}
	if docType != "webm" && docType != "matroska" {
		return nil, ErrDocType
	}
	if len(opts.Tracks) == 0 {
		return nil, ErrNoTracks
	}
	scale := opts.TimestampScale
	if scale == 0 {
		scale = time.Millisecond
	}
	if scale < 0 || scale > time.Second {
		return nil, ErrTimestampScale
	}
	wr := &Writer{w: w, scale: int64(scale), reorder: opts.AllowReorder}
	wr.maxCluster = max(int64(5*time.Second/scale), 1)
	if d := opts.MaxClusterDuration; d > 0 {
		wr.maxCluster = max(int64(d/scale), 1)
	}
	var videoCue, audioCue uint64
	for i, t := range opts.Tracks {
		if t.Number == 0 || t.Number > ebml.MaxSize {
			return nil, ErrTrackNumber
		}
		for _, u := range opts.Tracks[:i] {
			if u.Number == t.Number {
				return nil, ErrTrackNumber
			}
		}
		if len(t.Raw) > 0 {
			if t.Type == 0 || t.DefaultDuration < 0 {
				return nil, ErrTrackEntry
			}
		} else if (t.Type != TrackTypeVideo && t.Type != TrackTypeAudio) || t.CodecID == "" ||
			t.CodecDelay < 0 || t.SeekPreRoll < 0 || t.DefaultDuration < 0 {
			return nil, ErrTrackEntry
		}
		tr := trackState{num: t.Number, video: t.Type == TrackTypeVideo, defDur: t.DefaultDuration}
		tr.encLen = len(ebml.AppendSize(tr.enc[:0], t.Number))
		wr.tracks = append(wr.tracks, tr)
		if tr.video && videoCue == 0 {
			videoCue = t.Number
		}
		if t.Type == TrackTypeAudio && audioCue == 0 {
			audioCue = t.Number
		}
	}
	wr.cueTrack = videoCue
	if wr.cueTrack == 0 {
		wr.cueTrack = audioCue
	}
	if opts.Seekable {
		ws, ok := w.(io.WriteSeeker)
		if !ok {
			return nil, ErrNotSeekable
		}
		base, err := ws.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, err
		}
		wr.ws, wr.base = ws, base
	}
	wr.app = [2]string{opts.MuxingApp, opts.WritingApp}
	for i, a := range wr.app {
		if a == "" {
			wr.app[i] = "mediarecorder"
		}
	}

	// EBML header.
	var body []byte
	body = ebml.AppendUint(body, idEBMLVersion, 1)
	body = ebml.AppendUint(body, idEBMLReadVersion, 1)
	body = ebml.AppendUint(body, idEBMLMaxIDLength, 4)
	body = ebml.AppendUint(body, idEBMLMaxSizeLength, 8)
	body = ebml.AppendString(body, idDocType, docType)
	body = ebml.AppendUint(body, idDocTypeVersion, 4)
	body = ebml.AppendUint(body, idDocTypeReadVersion, 2)
	b := ebml.AppendMaster(nil, idEBML, uint64(len(body)))
	b = append(b, body...)

	// Segment of unknown size, the SeekHead reservation and Info.
	b = ebml.AppendID(b, idSegment)
	b = append(b, ebml.UnknownSize8[:]...)
	wr.segDataOff = int64(len(b))
	b = ebml.AppendVoid(b, seekHeadReserve)
	wr.info = wr.appendInfo(nil, -1)
	b = append(b, wr.info...)
	wr.headEnd = int64(len(b))

	// Tracks.
	body = body[:0]
	for _, t := range opts.Tracks {
		body = appendTrackEntry(body, &t)
	}
	b = ebml.AppendMaster(b, idTracks, uint64(len(body)))
	b = append(b, body...)

	if err := wr.write(b); err != nil {
		return nil, err
	}
	return wr, nil
}

// appendInfo appends the Info element. With dur < 0 the Duration slot is a
// Void of the same length as the Duration element.
func (w *Writer) appendInfo(b []byte, dur float64) []byte {
	var body []byte
	body = ebml.AppendUint(body, idTimestampScale, uint64(w.scale))
	body = ebml.AppendString(body, idMuxingApp, w.app[0])
	body = ebml.AppendString(body, idWritingApp, w.app[1])
	if dur < 0 {
		body = ebml.AppendVoid(body, durationLen)
	} else {
		body = ebml.AppendFloat(body, idDuration, dur)
	}
	b = ebml.AppendMaster(b, idInfo, uint64(len(body)))
	return append(b, body...)
}

func appendTrackEntry(b []byte, t *TrackEntry) []byte {
	if len(t.Raw) > 0 {
		b = ebml.AppendMaster(b, idTrackEntry, uint64(len(t.Raw)))
		return append(b, t.Raw...)
	}
	uid := t.UID
	if uid == 0 {
		uid = t.Number
	}
	var e []byte
	e = ebml.AppendUint(e, idTrackNumber, t.Number)
	e = ebml.AppendUint(e, idTrackUID, uid)
	e = ebml.AppendUint(e, idTrackType, uint64(t.Type))
	e = ebml.AppendUint(e, idFlagLacing, 0)
	e = ebml.AppendString(e, idCodecID, t.CodecID)
	if len(t.CodecPrivate) > 0 {
		e = ebml.AppendBytes(e, idCodecPrivate, t.CodecPrivate)
	}
	if t.DefaultDuration > 0 {
		e = ebml.AppendUint(e, idDefaultDuration, uint64(t.DefaultDuration))
	}
	if t.CodecDelay > 0 {
		e = ebml.AppendUint(e, idCodecDelay, uint64(t.CodecDelay))
	}
	if t.SeekPreRoll > 0 {
		e = ebml.AppendUint(e, idSeekPreRoll, uint64(t.SeekPreRoll))
	}
	switch t.Type {
	case TrackTypeVideo:
		var v []byte
		if t.PixelWidth > 0 {
			v = ebml.AppendUint(v, idPixelWidth, uint64(t.PixelWidth))
		}
		if t.PixelHeight > 0 {
			v = ebml.AppendUint(v, idPixelHeight, uint64(t.PixelHeight))
		}
		if len(v) > 0 {
			e = ebml.AppendMaster(e, idVideo, uint64(len(v)))
			e = append(e, v...)
		}
	case TrackTypeAudio:
		var a []byte
		if t.SamplingFrequency > 0 {
			a = ebml.AppendFloat(a, idSamplingFrequency, t.SamplingFrequency)
		}
		if t.Channels > 0 {
			a = ebml.AppendUint(a, idChannels, uint64(t.Channels))
		}
		if t.BitDepth > 0 {
			a = ebml.AppendUint(a, idBitDepth, uint64(t.BitDepth))
		}
		if len(a) > 0 {
			e = ebml.AppendMaster(e, idAudio, uint64(len(a)))
			e = append(e, a...)
		}
	}
	b = ebml.AppendMaster(b, idTrackEntry, uint64(len(e)))
	return append(b, e...)
}

// write writes b at the end of the stream in one Write.
// availableBufferer is implemented by destinations (like bufio.Writer) that
// lend their free buffer space: a block built there is written without
// being copied again.
type availableBufferer interface{ AvailableBuffer() []byte }

// blockMargin covers what a block adds to its frame: a cluster start and
// the block's own headers.
const blockMargin = 64

// blockBuffer returns an empty buffer to build a block of a frame of n
// bytes in: the destination's free space when it lends enough, else the
// writer's scratch buffer.
func (w *Writer) blockBuffer(n int) []byte {
	w.borrowed = false
	if ab, ok := w.w.(availableBufferer); ok {
		if b := ab.AvailableBuffer(); cap(b) >= n+blockMargin {
			w.borrowed = true
			return b[:0]
		}
	}
	return w.scratch[:0]
}

func (w *Writer) write(b []byte) error {
	n, err := w.w.Write(b)
	w.off += int64(n)
	if err == nil && n != len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
	}
	return err
}

// rewrite overwrites the bytes at off with p and seeks back to the end.
func (w *Writer) rewrite(off int64, p []byte) error {
	_, err := w.ws.Seek(w.base+off, io.SeekStart)
	if err == nil {
		var n int
		n, err = w.w.Write(p)
		if err == nil && n != len(p) {
			err = io.ErrShortWrite
		}
	}
	if _, serr := w.ws.Seek(w.base+w.off, io.SeekStart); err == nil {
		err = serr
	}
	if err != nil {
		w.err = err
	}
	return err
}

// WriteFrame stores one frame of track as a SimpleBlock. ts is the frame's
// time on the segment timeline (>= 0), rounded to the TimestampScale; it
// must not be earlier than the previous frame of the same track unless
// Options.AllowReorder is set. key marks a key frame (pass true for audio
// frames). A new Cluster starts at a video key frame, when the open Cluster
// spans MaxClusterDuration, and when the block's relative timestamp would
// not fit in 16 bits.
//
// In steady state WriteFrame allocates nothing and calls Write once.
// ErrTrackNumber and ErrTimestamp reject the frame and leave the writer
// usable; write errors are sticky.
func (w *Writer) WriteFrame(track uint64, ts time.Duration, key bool, frame []byte) error {
	var flags byte
	if key {
		flags = flagKey
	}
	return w.writeBlock(track, ts, 0, flags, frame)
}

// WriteBlock stores f.Data as one frame of f.Track at f.Timestamp, like
// WriteFrame, with the KeyFrame, Invisible and Discardable flags of f.
// When f.Duration is non-zero and differs from the track's DefaultDuration,
// the frame goes into a BlockGroup with a BlockDuration (and, unless it is
// a key frame, a ReferenceBlock to the track's previous frame), so that
// the last frames of a remuxed track keep their length. f.BlockOffset is
// ignored, so Frames from a Reader can be passed as they are.
func (w *Writer) WriteBlock(f Frame) error {
	if f.Duration < 0 {
		return ErrTimestamp
	}
	var flags byte
	if f.KeyFrame {
		flags |= flagKey
	}
	if f.Invisible {
		flags |= flagInvisible
	}
	if f.Discardable {
		flags |= flagDiscardable
	}
	return w.writeBlock(f.Track, f.Timestamp, f.Duration, flags, f.Data)
}

// Block header flags.
const (
	flagKey         = 0x80
	flagInvisible   = 0x08
	flagLacing      = 0x06
	flagDiscardable = 0x01
)

func (w *Writer) writeBlock(track uint64, ts, dur time.Duration, flags byte, frame []byte) error {
	t, err := w.track(track)
	if err != nil {
		return err
	}
	tk := w.ticks(ts)
	if w.reorder {
		if tk < math.MinInt16 {
			return ErrTimestamp
		}
	} else if ts < 0 || (t.started && ts < t.last) {
		return ErrTimestamp
	}
	key := flags&flagKey != 0
	var durTk int64
	if dur > 0 && dur != t.defDur {
		durTk = max(w.ticks(dur), 1)
	}
	b, rel, err := w.place(w.blockBuffer(len(frame)), t, tk, key)
	if err != nil {
		return err
	}
	blockLen := uint64(t.encLen + 3 + len(frame))
	if durTk > 0 {
		ref := t.lastTk - tk
		if ref == 0 || !t.started {
			ref = -1
		}
		group := 1 + uint64(ebml.SizeLen(blockLen)) + blockLen + uint64(uintLen(idBlockDuration, uint64(durTk)))
		if !key {
			group += uint64(intLen(idReferenceBlock, ref))
		}
		b = ebml.AppendMaster(b, idBlockGroup, group)
		b = ebml.AppendMaster(b, idBlock, blockLen)
		b = append(b, t.enc[:t.encLen]...)
		b = append(b, byte(rel>>8), byte(rel), flags&flagInvisible)
		b = append(b, frame...)
		b = ebml.AppendUint(b, idBlockDuration, uint64(durTk))
		if !key {
			b = ebml.AppendInt(b, idReferenceBlock, ref)
		}
	} else {
		b = ebml.AppendSize(append(b, idSimpleBlock), blockLen)
		b = append(b, t.enc[:t.encLen]...)
		b = append(b, byte(rel>>8), byte(rel), flags&(flagKey|flagInvisible|flagDiscardable))
		b = append(b, frame...)
	}
	if !w.borrowed {
		w.scratch = b
	}
	if err := w.write(b); err != nil {
		return err
	}
	t.advance(ts, dur, tk)
	return nil
}

// writeRaw copies a SimpleBlock or BlockGroup element from another file:
// elem is the whole element and elem[tsPos:tsPos+2] the relative timestamp
// of its block, which writeRaw overwrites for its own Cluster. tk is the
// block's absolute timestamp in ticks. Seekable and AllowReorder rules
// apply as for WriteBlock; elem is written with at most two Writes. Audio
// blocks count as key frames for the Cues whatever their flags say
// (Firefox marks no Opus block as a key frame).
func (w *Writer) writeRaw(track uint64, tk int64, key bool, elem []byte, tsPos int) error {
	t, err := w.track(track)
	if err != nil {
		return err
	}
	key = key || !t.video
	if tk < math.MinInt16 || (!w.reorder && (tk < 0 || (t.started && tk < t.lastTk))) {
		return ErrTimestamp
	}
	b, rel, err := w.place(w.scratch[:0], t, tk, key)
	if err != nil {
		return err
	}
	w.scratch = b
	if len(b) > 0 {
		if err := w.write(b); err != nil {
			return err
		}
	}
	elem[tsPos], elem[tsPos+1] = byte(rel>>8), byte(rel)
	if err := w.write(elem); err != nil {
		return err
	}
	t.advance(time.Duration(tk*w.scale), 0, tk)
	return nil
}

// track finds a track and checks that the writer is usable.
func (w *Writer) track(num uint64) (*trackState, error) {
	if w.closed {
		return nil, ErrClosed
	}
	if w.err != nil {
		return nil, w.err
	}
	for i := range w.tracks {
		if w.tracks[i].num == num {
			return &w.tracks[i], nil
		}
	}
	return nil, ErrTrackNumber
}

// ticks converts ts to TimestampScale units, rounding half up.
func (w *Writer) ticks(ts time.Duration) int64 {
	q := int64(ts) / w.scale
	r := int64(ts) - q*w.scale
	if r < 0 {
		q--
		r += w.scale
	}
	if 2*r >= w.scale {
		q++
	}
	return q
}

// place starts a new Cluster when the block at tk needs one, appending its
// header to b, and returns the block's timestamp relative to the Cluster.
func (w *Writer) place(b []byte, t *trackState, tk int64, key bool) ([]byte, int64, error) {
	rel := tk - w.clusterTS
	if !w.clusterOpen || (key && t.video) || rel >= w.maxCluster ||
		rel > math.MaxInt16 || rel < math.MinInt16 {
		cts := max(tk, 0)
		var err error
		if b, err = w.startCluster(b, cts, t.num, key); err != nil {
			return b, 0, err
		}
		rel = tk - cts
	}
	return b, rel, nil
}

// advance records a written frame: the latest frame's timestamp and
// estimated duration (dur, else DefaultDuration, else the gap to the frame
// before it, narrowed by frames written later in between).
func (t *trackState) advance(ts, dur time.Duration, tk int64) {
	switch {
	case !t.started || ts >= t.last:
		var d time.Duration
		if t.started {
			d = ts - t.last
		}
		t.gap = t.defDur == 0 && dur == 0
		if t.defDur > 0 {
			d = t.defDur
		}
		if dur > 0 {
			d = dur
		}
		t.last, t.delta = ts, d
	case t.gap && t.last-ts < t.delta:
		t.delta = t.last - ts
	}
	t.lastTk, t.started = tk, true
}

// startCluster closes the open Cluster (patching its size when seeking) and
// appends the header of a new one at timestamp ms (in ticks) to b.
func (w *Writer) startCluster(b []byte, ms int64, track uint64, key bool) ([]byte, error) {
	if w.clusterOpen && w.ws != nil {
		if err := w.patchClusterSize(); err != nil {
			return b, err
		}
	}
	if m, ok := w.w.(Boundaryer); ok {
		m.Boundary() // what came before is whole Clusters
	}
	if m, ok := w.w.(ClusterMarker); ok {
		var cue uint64
		if key && track == w.cueTrack {
			cue = track
		}
		m.MarkCluster(ms, cue)
	}
	w.clusterOpen = true
	w.clusterOff = w.off
	w.clusterTS = ms
	b = ebml.AppendID(b, idCluster)
	b = append(b, ebml.UnknownSize8[:]...)
	b = ebml.AppendUint(b, idTimestamp, uint64(ms))
	if w.ws != nil && key && track == w.cueTrack {
		w.cues = append(w.cues, cuePoint{
			time:   uint64(ms),
			track:  track,
			cPos:   uint64(w.clusterOff - w.segDataOff),
			relPos: uint64(len(b) - clusterHeaderLen),
		})
	}
	return b, nil
}

func (w *Writer) patchClusterSize() error {
	size := uint64(w.off - w.clusterOff - clusterHeaderLen)
	return w.rewrite(w.clusterOff+4, ebml.AppendSizeN(w.patch[:0], size, 8))
}

// Boundaryer is implemented by a destination that wants to know where the
// stream may be cut: a Writer calls Boundary before it writes each
// Cluster, when everything written before is whole elements (a file cut
// there ends after a complete Cluster and reads cleanly).
type Boundaryer interface {
	Boundary()
}

// ClusterMarker is implemented by a destination that keeps an index of
// the Clusters (for Cues built without reading the file back: see
// FinishLive): a Writer calls MarkCluster just before it writes each
// Cluster, after Boundary, with the Cluster's Timestamp (in
// TimestampScale units) and, when the Cluster starts with a key frame of
// the track Cues point to, that track's number (else 0). The Cluster
// starts at the destination's current end.
type ClusterMarker interface {
	MarkCluster(timestamp int64, cueTrack uint64)
}

// DisableSeeking stops all seeking: from now on the writer never rewrites
// bytes it has written, and Close finalises nothing, so the output stays a
// valid live stream. Use it once bytes already written have been handed out.
func (w *Writer) DisableSeeking() {
	w.ws = nil
	w.cues = nil
}

// Close ends the stream. When seeking, it patches the last Cluster's size,
// appends Cues and writes Duration, the Segment size and the SeekHead; a live
// stream simply ends after its last block. Close never closes the
// destination. It is idempotent and returns the first write error, if any.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil || w.ws == nil {
		return w.err
	}
	if w.clusterOpen {
		if err := w.patchClusterSize(); err != nil {
			return err
		}
	}
	cuesOff := int64(-1)
	if len(w.cues) > 0 {
		cuesOff = w.off
		if err := w.write(w.appendCues(w.scratch[:0])); err != nil {
			return err
		}
	}

	// Rewrite everything from the Segment size to the end of Info in one go.
	b := ebml.AppendSizeN(w.scratch[:0], uint64(w.off-w.segDataOff), 8)
	var sh []byte
	sh = appendSeek(sh, idInfo, uint64(w.headEnd-int64(len(w.info))-w.segDataOff))
	sh = appendSeek(sh, idTracks, uint64(w.headEnd-w.segDataOff))
	if cuesOff >= 0 {
		sh = appendSeek(sh, idCues, uint64(cuesOff-w.segDataOff))
	}
	b = ebml.AppendMaster(b, idSeekHead, uint64(len(sh)))
	b = append(b, sh...)
	b = ebml.AppendVoid(b, seekHeadReserve+8-len(b))
	b = w.appendInfo(b, float64(w.Duration())/float64(w.scale))
	w.scratch = b
	return w.rewrite(w.segDataOff-8, b)
}

func appendSeek(b []byte, id uint32, pos uint64) []byte {
	var idb [4]byte
	e := ebml.AppendBytes(nil, idSeekID, ebml.AppendID(idb[:0], id))
	e = ebml.AppendUint(e, idSeekPosition, pos)
	b = ebml.AppendMaster(b, idSeek, uint64(len(e)))
	return append(b, e...)
}

// uintLen is the length of an unsigned integer element.
func uintLen(id uint32, v uint64) int {
	return ebml.IDLen(id) + 1 + ebml.UintLen(v)
}

// intLen is the length of a signed integer element (see ebml.AppendInt).
func intLen(id uint32, v int64) int {
	n := 1
	for n < 8 && (v < -1<<(8*n-1) || v >= 1<<(8*n-1)) {
		n++
	}
	return ebml.IDLen(id) + 1 + n
}

func (w *Writer) appendCues(b []byte) []byte {
	total := 0
	for _, c := range w.cues {
		n := c.pointLen()
		total += 1 + ebml.SizeLen(uint64(n)) + n
	}
	b = ebml.AppendMaster(b, idCues, uint64(total))
	for _, c := range w.cues {
		tp := c.positionsLen()
		b = ebml.AppendMaster(b, idCuePoint, uint64(c.pointLen()))
		b = ebml.AppendUint(b, idCueTime, c.time)
		b = ebml.AppendMaster(b, idCueTrackPositions, uint64(tp))
		b = ebml.AppendUint(b, idCueTrack, c.track)
		b = ebml.AppendUint(b, idCueClusterPosition, c.cPos)
		b = ebml.AppendUint(b, idCueRelativePosition, c.relPos)
	}
	return b
}

func (c *cuePoint) positionsLen() int {
	return uintLen(idCueTrack, c.track) + uintLen(idCueClusterPosition, c.cPos) +
		uintLen(idCueRelativePosition, c.relPos)
}

func (c *cuePoint) pointLen() int {
	tp := c.positionsLen()
	return uintLen(idCueTime, c.time) + 1 + ebml.SizeLen(uint64(tp)) + tp
}

// SetDuration sets the Duration that Close writes, in place of the end of
// the latest frame that Duration computes.
func (w *Writer) SetDuration(d time.Duration) {
	w.dur, w.durSet = max(d, 0), true
}

// Duration returns the Duration Close writes: the one given to SetDuration,
// else the end of the latest frame written: over all tracks, the timestamp
// of the track's latest frame plus its estimated duration (the frame's
// duration given to WriteBlock, else the track's DefaultDuration, else the
// gap to the frame before it, else 0).
func (w *Writer) Duration() time.Duration {
	if w.durSet {
		return w.dur
	}
	var d time.Duration
	for i := range w.tracks {
		t := &w.tracks[i]
		if t.started && t.last+t.delta > d {
			d = t.last + t.delta
		}
	}
	return d
}

// Offset returns the number of bytes written to the stream so far (rewrites
// in place do not count).
func (w *Writer) Offset() int64 { return w.off }
