package webm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// ErrNoFrames is returned by Fix for an input with no frame to keep: the
// file it would write holds no media, and players reject it.
var ErrNoFrames = errors.New("webm: no frames")

// FixOptions configures Fix.
type FixOptions struct {
	// Progress, when set, is called now and then with the number of input
	// bytes read so far and the input size (-1 when unknown), and once at
	// the end.
	Progress func(done, total int64)
}

// FixReport says what Fix found and did.
type FixReport struct {
	Frames   int           // frames written
	Tracks   int           // tracks written
	Duration time.Duration // Duration of the output
	// Truncated is set when the input ended inside an element; the frames
	// after TruncatedAt (where the input ended) are lost.
	Truncated   bool
	TruncatedAt int64
	// Problems says what was wrong with the input, one finding a line:
	// "unknown-size Segment", "no Duration", "no Cues", "truncated at byte
	// N", "garbage at byte N (M bytes)", ...
	Problems []string
}

// ProbeResult is what Probe found in a file.
type ProbeResult struct {
	Header   Header
	Duration time.Duration  // of the media: the end of the last frame
	Frames   map[uint64]int // frames per track number
	Clusters int
	HasCues  bool
	// HasSeekHead is set when a SeekHead with at least one entry was seen.
	HasSeekHead bool
	HasDuration bool // Info has a Duration
	// Seekable means a known Duration within 100 ms of the media's and
	// Cues.
	Seekable    bool
	Problems    []string
	Truncated   bool
	TruncatedAt int64 // where the input ended
}

// durationSlack is how far Info's Duration may be from the media's.
const durationSlack = 100 * time.Millisecond

// trackStats follows the timestamps of one track.
type trackStats struct {
	num          uint64
	known        bool // in the Tracks element
	left         bool // left out of Fix's output
	frames       int
	minTS, maxTS time.Duration
	lastN        int           // frames at maxTS (laced frames of unknown timing)
	lastDur      time.Duration // duration of the frame at maxTS, 0 if unknown
	end          time.Duration // latest end of a frame of known duration
}

// add counts n frames at ts: one frame, or the frames of a laced block
// whose timing is not known, which all get the block's timestamp.
func (s *trackStats) add(ts, dur time.Duration, n int) {
	if s.frames == 0 || ts < s.minTS {
		s.minTS = ts
	}
	if s.frames == 0 || ts > s.maxTS {
		s.maxTS, s.lastDur, s.lastN = ts, dur, n
	} else if ts == s.maxTS {
		s.lastN += n
		if dur > 0 {
			s.lastDur = dur
		}
	}
	if dur > 0 && ts+dur > s.end {
		s.end = ts + dur
	}
	s.frames += n
}

// duration is the end of the track: its latest frame's timestamp plus that
// frame's duration or, when not known, the track's mean frame spacing
// (times the number of frames at that timestamp).
func (s *trackStats) duration() time.Duration {
	if s.frames == 0 {
		return 0
	}
	d := s.lastDur
	if d == 0 && s.frames > s.lastN {
		d = (s.maxTS - s.minTS) / time.Duration(s.frames-s.lastN) * time.Duration(s.lastN)
	}
	return max(s.end, s.maxTS+d)
}

// inspector reads a file block by block and gathers what Probe and Fix
// report.
type inspector struct {
	rd       *Reader
	stats    []trackStats
	clusters []int64 // Cluster offsets, for checking Cues
	trunc    *TruncatedError
}

const maxClusterOffsets = 1 << 17

func newInspector(rd *Reader) *inspector {
	in := &inspector{rd: rd}
	for _, t := range rd.hdr.Tracks {
		if in.track(t.Number) == nil {
			in.stats = append(in.stats, trackStats{num: t.Number, known: true})
		}
	}
	rd.onCluster = func(off int64) {
		if len(in.clusters) < maxClusterOffsets {
			in.clusters = append(in.clusters, off)
		}
	}
	return in
}

func (in *inspector) track(num uint64) *trackStats {
	for i := range in.stats {
		if in.stats[i].num == num {
			return &in.stats[i]
		}
	}
	return nil
}

// next reads the next block and adds its frames to the statistics. It
// returns io.EOF at the end, also after a truncation (see in.trunc), and
// read errors.
func (in *inspector) next() (*trackStats, error) {
	rd := in.rd
	if err := rd.nextBlock(); err != nil {
		var te *TruncatedError
		if errors.As(err, &te) {
			in.trunc = te
			return nil, io.EOF
		}
		return nil, err
	}
	b := &rd.blk
	s := in.track(b.track)
	if s == nil {
		in.stats = append(in.stats, trackStats{num: b.track})
		s = &in.stats[len(in.stats)-1]
	}
	if b.n > 1 && b.durTk < 0 && rd.defaultDuration(b.track) == 0 {
		ts, _ := rd.frameTime(0)
		s.add(ts, 0, b.n)
		return s, nil
	}
	for i := 0; i < b.n; i++ {
		ts, dur := rd.frameTime(i)
		s.add(ts, dur, 1)
	}
	return s, nil
}

// duration is the end of the media over all known tracks.
func (in *inspector) duration() time.Duration {
	var d time.Duration
	for i := range in.stats {
		if in.stats[i].known && !in.stats[i].left {
			d = max(d, in.stats[i].duration())
		}
	}
	return d
}

// problems lists what is wrong with the input.
func (in *inspector) problems(dropped map[uint64]int) []string {
	rd, h := in.rd, &in.rd.hdr
	var p []string
	if len(h.Tracks) == 0 {
		p = append(p, "no Tracks")
	}
	if h.SegmentSize < 0 {
		p = append(p, "unknown-size Segment")
	}
	if rd.unknownClusters > 0 {
		p = append(p, fmt.Sprintf("unknown-size Clusters (%d of %d)", rd.unknownClusters, rd.clusters))
	}
	media := in.duration()
	switch {
	case !h.HasDuration:
		p = append(p, "no Duration")
	case h.Duration-media > durationSlack || media-h.Duration > durationSlack:
		p = append(p, fmt.Sprintf("Duration %s does not match the media (%s)", fmtDuration(h.Duration), fmtDuration(media)))
	}
	switch {
	case len(rd.cues) == 0:
		p = append(p, "no Cues")
	case !in.cuesMatch():
		p = append(p, "Cues do not point to Clusters")
	}
	switch {
	case rd.seekHeads > 0:
	case rd.emptySeekHeads > 0:
		p = append(p, "empty SeekHead")
	default:
		p = append(p, "no SeekHead")
	}
	for i, g := range rd.gaps {
		if i == 10 {
			p = append(p, fmt.Sprintf("%d more stretches of garbage", rd.gapCount-10))
			break
		}
		p = append(p, fmt.Sprintf("garbage at byte %d (%d bytes)", g.Offset, g.Size))
	}
	if in.trunc != nil {
		p = append(p, fmt.Sprintf("truncated at byte %d", in.trunc.Offset))
	}
	if rd.trailing >= 0 {
		p = append(p, fmt.Sprintf("another file starts at byte %d: ignored", rd.trailing))
	}
	for _, s := range in.stats {
		if !s.known {
			p = append(p, fmt.Sprintf("%d frames of track %d, which is not in Tracks", s.frames, s.num))
		}
	}
	for num, n := range dropped {
		p = append(p, fmt.Sprintf("%d blocks of track %d dropped: timestamp before -32767 units", n, num))
	}
	return p
}

// cuesMatch reports whether every cue points to a Cluster seen.
func (in *inspector) cuesMatch() bool {
	if len(in.clusters) >= maxClusterOffsets {
		return true
	}
	seg := in.rd.hdr.SegmentOffset
	for _, c := range in.rd.cues {
		found := false
		if c.ClusterPosition <= math.MaxInt64/2 {
			off := seg + int64(c.ClusterPosition)
			// Clusters are in file order: binary search.
			lo, hi := 0, len(in.clusters)
			for lo < hi {
				m := (lo + hi) / 2
				if in.clusters[m] < off {
					lo = m + 1
				} else {
					hi = m
				}
			}
			found = lo < len(in.clusters) && in.clusters[lo] == off
		}
		if !found {
			return false
		}
	}
	return true
}

// fmtDuration formats d as "1 ms" below a second and "4.92 s" above.
func fmtDuration(d time.Duration) string {
	if d < time.Second && d > -time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// Probe reads a whole file and reports what it holds. It returns an error
// only when the input is not WebM or Matroska, ends inside the header, or
// cannot be read.
func Probe(src io.Reader) (ProbeResult, error) {
	rd, err := NewReader(src)
	if err != nil {
		return ProbeResult{}, err
	}
	in := newInspector(rd)
	for {
		if _, err := in.next(); err == io.EOF {
			break
		} else if err != nil {
			return ProbeResult{}, err
		}
	}
	h := rd.Header()
	res := ProbeResult{
		Header:      h,
		Duration:    in.duration(),
		Frames:      make(map[uint64]int),
		Clusters:    rd.clusters,
		HasCues:     len(rd.cues) > 0,
		HasSeekHead: rd.seekHeads > 0,
		HasDuration: h.HasDuration,
		Problems:    in.problems(nil),
	}
	for _, s := range in.stats {
		res.Frames[s.num] = s.frames
	}
	d := h.Duration - res.Duration
	res.Seekable = res.HasDuration && res.HasCues && d <= durationSlack && d >= -durationSlack
	if in.trunc != nil {
		res.Truncated, res.TruncatedAt = true, in.trunc.Offset
	}
	return res, nil
}

// Fix reads a WebM or Matroska recording from src and writes to dst a
// finished, seekable file: known sizes, Info/Duration set to the real media
// duration, Cues (one per Cluster that starts with a video key frame; per
// Cluster for audio only) and a SeekHead. The Clusters are rebuilt (a new
// one at each video key frame and every 5 s); every block is copied as it
// is, lacing, BlockDuration and BlockAdditions included, with only its
// relative timestamp rewritten, and the track entries are kept byte for
// byte. So no frame's bytes, timestamp or key flag change.
//
// A truncated input is fixed up to the last whole block before the cut.
// Garbage is skipped (see FixReport.Problems). Fix returns an error when
// src is not WebM or Matroska, ends inside the header or has no usable
// track, with ErrNoFrames when it holds no frame, and on read and write
// errors. dst must be positioned where the
// file should start; nothing after the written bytes is touched.
func Fix(dst io.WriteSeeker, src io.Reader, opt FixOptions) (FixReport, error) {
	var rep FixReport
	total := int64(-1)
	if s, ok := src.(io.Seeker); ok {
		if cur, err := s.Seek(0, io.SeekCurrent); err == nil {
			if end, err := s.Seek(0, io.SeekEnd); err == nil {
				if _, err := s.Seek(cur, io.SeekStart); err != nil {
					return rep, err
				}
				total = end - cur
			}
		}
	}
	rd, err := NewReader(src)
	if err != nil {
		return rep, err
	}
	h := rd.Header()
	var tracks []TrackEntry
	var skipped []string
	for _, t := range h.Tracks {
		dup := false
		for _, u := range tracks {
			dup = dup || u.Number == t.Number
		}
		if t.Number == 0 || t.Number > 1<<56-2 || dup {
			skipped = append(skipped, fmt.Sprintf("track entry %d (type %d) skipped", t.Number, t.Type))
			continue
		}
		tracks = append(tracks, t)
	}
	in := newInspector(rd)
	// Entries that are damaged or say too little are checked against the
	// tracks' first frames, and a track without frames is left out (a
	// player cannot even tell its format): read ahead (up to a limit)
	// until every track has its first frame, and each one to check its
	// first key frame.
	var ahead []aheadBlock
	var aheadEOF bool
	first := map[uint64]*firstFrames{}
	check := map[uint64]bool{}
	need := 0 // first frames and key frames still to come
	for _, t := range tracks {
		first[t.Number] = &firstFrames{}
		need++
		if trackNeedsFrames(&t) {
			check[t.Number] = true
			need++
		}
	}
	aheadBytes := 0
	for need > 0 && len(ahead) < maxAheadBlocks && aheadBytes < maxAheadBytes {
		s, err := in.next()
		if err == io.EOF {
			aheadEOF = true
			break
		}
		if err != nil {
			return rep, err
		}
		b := &rd.blk
		ahead = append(ahead, aheadBlock{known: s.known, track: b.track, ticks: b.ticks, key: b.key,
			elem: bytes.Clone(b.elem), tsPos: b.tsPos, n: b.n})
		aheadBytes += len(b.elem)
		ff := first[b.track]
		if ff == nil {
			continue
		}
		data := b.data[:rd.lace[0]]
		if !ff.seen {
			ff.seen = true
			if check[b.track] {
				ff.first = bytes.Clone(data)
			}
			need--
		}
		if check[b.track] && ff.key == nil && b.key {
			ff.key = bytes.Clone(data)
			need--
		}
	}
	kept := tracks[:0]
	keep := map[uint64]bool{}
	for _, t := range tracks {
		ff := first[t.Number]
		if !ff.seen && aheadEOF {
			skipped = append(skipped, fmt.Sprintf("track %d (%s) dropped: no frames", t.Number, t.CodecID))
			continue
		}
		if check[t.Number] {
			var note string
			var ok bool
			t, note, ok = checkTrack(t, *ff)
			if note != "" {
				skipped = append(skipped, note)
			}
			if !ok {
				continue
			}
		}
		kept = append(kept, t)
		keep[t.Number] = true
	}
	tracks = kept
	for i := range in.stats {
		in.stats[i].left = !keep[in.stats[i].num]
	}
	if len(tracks) == 0 {
		seen := false
		for _, ff := range first {
			seen = seen || ff.seen
		}
		if !seen && aheadEOF {
			rep.Problems = append(in.problems(nil), skipped...)
			return rep, fmt.Errorf("%w (%s)", ErrNoFrames, strings.Join(rep.Problems, "; "))
		}
		return rep, fmt.Errorf("%w: no usable track (%s)", ErrNoTracks, strings.Join(skipped, "; "))
	}
	bw, err := newBufWriteSeeker(dst)
	if err != nil {
		return rep, err
	}
	w, err := NewWriter(bw, Options{
		DocType:        h.DocType,
		WritingApp:     h.WritingApp,
		Tracks:         tracks,
		Seekable:       true,
		AllowReorder:   true,
		TimestampScale: time.Duration(h.TimestampScale),
	})
	if err != nil {
		return rep, err
	}
	var dropped map[uint64]int
	write := func(track uint64, ticks int64, key bool, elem []byte, tsPos, n int) error {
		err := w.writeRaw(track, ticks, key, elem, tsPos)
		if err == ErrTimestamp {
			if dropped == nil {
				dropped = make(map[uint64]int)
			}
			dropped[track]++
			return nil
		}
		if err == nil {
			rep.Frames += n
		}
		return err
	}
	for _, b := range ahead {
		if b.known && keep[b.track] {
			if err := write(b.track, b.ticks, b.key, b.elem, b.tsPos, b.n); err != nil {
				return rep, err
			}
		}
	}
	ahead = nil
	const step = 256 << 10
	last := int64(0)
	for !aheadEOF {
		s, err := in.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rep, err
		}
		if opt.Progress != nil {
			if off := rd.Offset(); off-last >= step {
				opt.Progress(off, total)
				last = off
			}
		}
		if !s.known || !keep[s.num] {
			continue
		}
		b := &rd.blk
		if err := write(b.track, b.ticks, b.key, b.elem, b.tsPos, b.n); err != nil {
			return rep, err
		}
	}
	if rep.Frames == 0 {
		rep.Problems = append(in.problems(dropped), skipped...)
		return rep, fmt.Errorf("%w (%s)", ErrNoFrames, strings.Join(rep.Problems, "; "))
	}
	rep.Tracks = len(tracks)
	rep.Duration = in.duration()
	w.SetDuration(rep.Duration)
	if err := w.Close(); err != nil {
		return rep, err
	}
	if err := bw.Flush(); err != nil {
		return rep, err
	}
	rep.Problems = append(in.problems(dropped), skipped...)
	if in.trunc != nil {
		rep.Truncated, rep.TruncatedAt = true, in.trunc.Offset
	}
	if opt.Progress != nil {
		done := rd.Offset()
		if total >= 0 && !rep.Truncated {
			done = total
		}
		opt.Progress(done, total)
	}
	return rep, nil
}

// Read-ahead limits for checking track entries against their frames.
const (
	maxAheadBlocks = 4096
	maxAheadBytes  = 32 << 20
)

// aheadBlock is a block read ahead, before the header is written.
type aheadBlock struct {
	known    bool
	track    uint64
	ticks    int64
	key      bool
	elem     []byte
	tsPos, n int
}

// bufWriteSeeker buffers writes to an io.WriteSeeker. Seeks cost nothing
// until the next write outside the buffered stretch, so patching a Cluster
// size that is still in the buffer is a copy.
type bufWriteSeeker struct {
	ws    io.WriteSeeker
	buf   []byte
	start int64 // file position of buf[0]
	pos   int64 // logical position
	under int64 // position of ws
}

func newBufWriteSeeker(ws io.WriteSeeker) (*bufWriteSeeker, error) {
	cur, err := ws.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	return &bufWriteSeeker{ws: ws, buf: make([]byte, 0, 256<<10), start: cur, pos: cur, under: cur}, nil
}

func (b *bufWriteSeeker) Write(p []byte) (int, error) {
	if off := b.pos - b.start; off < 0 || off > int64(len(b.buf)) || off+int64(len(p)) > int64(cap(b.buf)) {
		if err := b.Flush(); err != nil {
			return 0, err
		}
		if len(p) >= cap(b.buf) {
			if err := b.seekUnder(b.pos); err != nil {
				return 0, err
			}
			n, err := b.ws.Write(p)
			b.under += int64(n)
			b.pos += int64(n)
			b.start = b.pos
			return n, err
		}
	}
	off := int(b.pos - b.start)
	if end := off + len(p); end > len(b.buf) {
		b.buf = b.buf[:end]
	}
	copy(b.buf[off:], p)
	b.pos += int64(len(p))
	return len(p), nil
}

func (b *bufWriteSeeker) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += b.pos
	case io.SeekEnd:
		if err := b.Flush(); err != nil {
			return 0, err
		}
		end, err := b.ws.Seek(0, io.SeekEnd)
		if err != nil {
			return 0, err
		}
		b.under = end
		off += max(end, b.start+int64(len(b.buf)))
	default:
		return 0, errors.New("webm: invalid whence")
	}
	if off < 0 {
		return 0, errors.New("webm: negative position")
	}
	b.pos = off
	return off, nil
}

func (b *bufWriteSeeker) seekUnder(pos int64) error {
	if b.under == pos {
		return nil
	}
	if _, err := b.ws.Seek(pos, io.SeekStart); err != nil {
		return err
	}
	b.under = pos
	return nil
}

// Flush writes the buffer out and moves ws to the logical position.
func (b *bufWriteSeeker) Flush() error {
	if len(b.buf) > 0 {
		if err := b.seekUnder(b.start); err != nil {
			return err
		}
		n, err := b.ws.Write(b.buf)
		b.under += int64(n)
		if err == nil && n != len(b.buf) {
			err = io.ErrShortWrite
		}
		if err != nil {
			return err
		}
		b.buf = b.buf[:0]
	}
	b.start = b.pos
	return b.seekUnder(b.pos)
}
