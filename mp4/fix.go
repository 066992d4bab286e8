package mp4

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// ErrNotFragmented is returned by Fix for an MP4 file whose moov has no
// mvex: a plain MP4 keeps its sample tables in the moov, so there are no
// fragments to keep or drop.
var ErrNotFragmented = errors.New("mp4: not a fragmented MP4 file")

// FixOptions configures Fix.
type FixOptions struct {
	// Progress, when set, is called now and then with the number of input
	// bytes read so far and the input size (-1 when unknown).
	Progress func(done, total int64)
}

// FixReport says what Fix found and did.
type FixReport struct {
	// Duration is the end of the latest sample kept, the duration written
	// into mvhd (and mehd when there is one).
	Duration  time.Duration
	Fragments int   // movie fragments (moof and mdat) kept
	Kept      int64 // input bytes kept: the init segment and whole fragments
	Size      int64 // bytes written: Kept, less the old index, plus the new one
	// Truncated is set when the input ended inside a box or a fragment
	// (a crash); what follows TruncatedAt, the end of the last whole
	// fragment, is dropped.
	Truncated   bool
	TruncatedAt int64
	// Problems says what was wrong with the input, one finding a line.
	Problems []string
}

// Fix finishes a fragmented MP4 file that was cut off (a recording whose
// writer was killed) or never finished (a live stream): it copies ftyp,
// moov and every whole fragment (a moof and the mdat that holds all its
// samples) from src to dst, drops the partial fragment at the end and any
// old mfra, appends an mfra index (an entry per track for each fragment
// whose traf starts with a sync sample) and writes the duration of the
// samples kept into mvhd, mehd (when the moov has one), tkhd and mdhd.
// No sample byte changes, and every kept box keeps its size, so data
// offsets still hold.
//
// dst must be positioned where the file should start; Fix leaves it at
// the end of what it wrote. The error is ErrNotMP4 when src does not start
// with an MP4 box or has no moov before its first fragment,
// ErrNotFragmented for a plain MP4, or a read or write error.
func Fix(dst io.WriteSeeker, src io.Reader, opt FixOptions) (FixReport, error) {
	start, err := dst.Seek(0, io.SeekCurrent)
	if err != nil {
		return FixReport{}, err
	}
	f := &fixer{r: src, w: bufio.NewWriterSize(dst, 1<<20), total: -1, progress: opt.Progress, moofAt: -1}
	if s, ok := src.(io.Seeker); ok {
		if cur, err := s.Seek(0, io.SeekCurrent); err == nil {
			if end, err := s.Seek(0, io.SeekEnd); err == nil {
				if _, err := s.Seek(cur, io.SeekStart); err != nil {
					return FixReport{}, err
				}
				f.total = end - cur
			}
		}
	}
	if err := f.run(); err != nil {
		return f.rep, err
	}
	if f.progress != nil {
		f.progress(f.in, f.total)
	}
	return f.rep, f.finish(dst, start)
}

// fixTrack is what Fix knows of one track.
type fixTrack struct {
	id         uint32
	timescale  uint32
	defDur     uint32 // trex
	defSize    uint32
	defFlags   uint32
	end        uint64 // end of the last sample kept, in the timescale
	tkhd, mdhd durField
	index      []tfraEntry
}

// durField is where a duration field is in the output's moov: offset from
// the moov's start (0: none) and width (4 or 8 bytes).
type durField struct {
	off  int
	wide bool
}

// topBox is a whole top-level box read into memory.
type topBox struct {
	typ   string
	start int64 // input offset
	hdr   int   // header length
	b     []byte
}

// fixer is the state of a Fix.
type fixer struct {
	r        io.Reader
	w        *bufio.Writer
	in       int64 // input bytes read
	keptEnd  int64 // input offset of the end of the last box kept
	out      int64 // output bytes written
	total    int64
	progress func(done, total int64)
	rep      FixReport

	ftyp    bool
	moov    bool
	moovOut int64 // output offset of the moov
	moovTS  uint32
	mvhd    durField
	mehd    durField
	tracks  []*fixTrack
	head    []topBox // boxes before the moov
	pending []topBox // boxes since the last fragment
	moofAt  int      // index in pending of a moof waiting for its mdat; -1 none
}

func (f *fixer) problem(format string, a ...any) {
	f.rep.Problems = append(f.rep.Problems, fmt.Sprintf(format, a...))
}

// truncated notes that the input is not usable from byte at on.
func (f *fixer) truncated(at int64, format string, a ...any) {
	f.rep.Truncated, f.rep.TruncatedAt = true, f.keptEnd
	f.problem("truncated at byte %d: "+format, append([]any{at}, a...)...)
}

// run reads the top-level boxes and writes what is kept.
func (f *fixer) run() error {
	for {
		b, ok, err := f.next()
		if err != nil || !ok {
			if err == nil && !f.moov {
				return fmt.Errorf("%w: no moov", ErrNotMP4)
			}
			if err == nil && f.moofAt >= 0 && !f.rep.Truncated {
				start := f.pending[f.moofAt].start
				f.truncated(start, "moof at %d has no mdat", start)
			}
			if err == nil && !f.rep.Truncated && f.moofAt < 0 {
				// Whole boxes after the last fragment stay.
				err = f.writeBoxes(f.pending)
				f.pending = nil
			}
			return err
		}
		if f.progress != nil {
			f.progress(f.in, f.total)
		}
		if stop, err := f.box(b); stop || err != nil {
			return err
		}
	}
}

// box handles one top-level box; stop says the input is unusable from it
// on.
func (f *fixer) box(b topBox) (stop bool, err error) {
	switch b.typ {
	case "moov":
		if f.moov {
			f.problem("second moov at byte %d", b.start)
			return true, nil
		}
		if err := f.parseMoov(b); err != nil {
			return true, err
		}
		return false, nil
	case "mfra":
		return false, nil // rebuilt at the end
	}
	if !f.moov {
		if b.typ == "moof" {
			return true, fmt.Errorf("%w: a moof before the moov", ErrNotMP4)
		}
		if b.typ == "ftyp" {
			f.ftyp = true
		}
		f.head = append(f.head, b)
		return false, nil
	}
	switch b.typ {
	case "moof":
		if f.moofAt >= 0 {
			f.problem("moof at byte %d has no mdat: dropped", f.pending[f.moofAt].start)
			f.pending = f.pending[:f.moofAt]
		}
		f.moofAt = len(f.pending)
		f.pending = append(f.pending, b)
	case "mdat":
		if f.moofAt < 0 {
			f.problem("mdat at byte %d belongs to no moof: dropped", b.start)
			return false, nil
		}
		f.pending = append(f.pending, b)
		if !f.fragment(b) {
			f.rep.Truncated, f.rep.TruncatedAt = true, f.keptEnd
			return true, nil
		}
		err := f.writeBoxes(f.pending)
		f.pending, f.moofAt = f.pending[:0], -1
		f.rep.Fragments++
		return false, err
	default:
		f.pending = append(f.pending, b)
	}
	return false, nil
}

// next reads the next top-level box. ok is false at the end of the usable
// input (its end, a partial box, garbage), which is noted in the report.
func (f *fixer) next() (b topBox, ok bool, err error) {
	start := f.in
	var hdr [16]byte
	n, err := io.ReadFull(f.r, hdr[:8])
	f.in += int64(n)
	switch {
	case err == io.EOF:
		if start == 0 {
			return b, false, ErrNotMP4
		}
		return b, false, nil
	case err == io.ErrUnexpectedEOF:
		if start == 0 {
			return b, false, ErrNotMP4
		}
		f.truncated(f.in, "incomplete box header at %d", start)
		return b, false, nil
	case err != nil:
		return b, false, err
	}
	size := uint64(binary.BigEndian.Uint32(hdr[:4]))
	typ := string(hdr[4:8])
	hdrLen := 8
	if start == 0 && !topLevel[typ] {
		return b, false, ErrNotMP4
	}
	if !printable(typ) {
		f.truncated(start, "garbage: not a box")
		return b, false, nil
	}
	if size == 1 {
		n, err := io.ReadFull(f.r, hdr[8:16])
		f.in += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			f.truncated(f.in, "incomplete %s box header at %d", typ, start)
			return b, false, nil
		}
		if err != nil {
			return b, false, err
		}
		size, hdrLen = binary.BigEndian.Uint64(hdr[8:16]), 16
	}
	var body []byte
	switch {
	case size == 0: // to the end of the input
		body, err = io.ReadAll(io.LimitReader(f.r, maxBoxRead+1))
		f.in += int64(len(body))
		if err != nil {
			return b, false, err
		}
		if len(body) > maxBoxRead {
			f.truncated(start, "%s box too large to fix", typ)
			return b, false, nil
		}
		// The box's size is written out, so that boxes may follow it.
		if hdrLen == 8 && len(body)+8 <= math.MaxUint32 {
			binary.BigEndian.PutUint32(hdr[:4], uint32(len(body)+8))
		} else {
			binary.BigEndian.PutUint32(hdr[:4], 1)
			binary.BigEndian.PutUint64(hdr[8:16], uint64(len(body)+16))
			hdrLen = 16
		}
	case size < uint64(hdrLen):
		f.truncated(start, "bad %s box size %d", typ, size)
		return b, false, nil
	case size-uint64(hdrLen) > maxBoxRead:
		f.truncated(start, "%s box of %d bytes too large to fix", typ, size)
		return b, false, nil
	default:
		// Read, not allocate, what the header declares: a cut-off
		// file's last box declares more than there is.
		want := int64(size - uint64(hdrLen))
		body, err = io.ReadAll(io.LimitReader(f.r, want))
		f.in += int64(len(body))
		if err == nil && int64(len(body)) < want {
			err = io.ErrUnexpectedEOF
		}
		if err == io.ErrUnexpectedEOF {
			f.truncated(f.in, "%s box at %d declares %d bytes", typ, start, size)
			return b, false, nil
		}
		if err != nil {
			return b, false, err
		}
	}
	full := make([]byte, 0, hdrLen+len(body))
	full = append(append(full, hdr[:hdrLen]...), body...)
	return topBox{typ: typ, start: start, hdr: hdrLen, b: full}, true, nil
}

// writeBoxes writes whole boxes to the output.
func (f *fixer) writeBoxes(bs []topBox) error {
	for _, b := range bs {
		if _, err := f.w.Write(b.b); err != nil {
			return err
		}
		f.out += int64(len(b.b))
		f.rep.Kept += int64(len(b.b))
		f.keptEnd = b.start + int64(len(b.b))
	}
	return nil
}

// parseMoov reads the moov's timescales, track IDs, trex defaults and the
// places of its duration fields, then writes the boxes before it and it.
func (f *fixer) parseMoov(b topBox) error {
	if err := f.readMoov(b); err != nil {
		return err
	}
	if !f.ftyp {
		f.problem("no ftyp")
	}
	f.moov = true
	if err := f.writeBoxes(f.head); err != nil {
		return err
	}
	f.head = nil
	f.moovOut = f.out
	return f.writeBoxes([]topBox{b})
}

// readMoov reads the moov's timescales, track IDs, trex defaults and the
// places of its duration fields (from the moov's start).
func (f *fixer) readMoov(b topBox) error {
	body := b.b[b.hdr:]
	base := b.hdr // offset of body in the box
	var mvex bool
	ok := eachBoxAt(body, base, func(typ string, off int, c []byte) bool {
		switch typ {
		case "mvhd":
			ts, fld, ok := timeField(c, off)
			f.moovTS, f.mvhd = ts, fld
			return ok
		case "trak":
			t := &fixTrack{}
			if !eachBoxAt(c, off, func(typ string, off int, c []byte) bool { return f.trakChild(t, typ, off, c) }) {
				return false
			}
			f.tracks = append(f.tracks, t)
		case "mvex":
			mvex = true
			return eachBoxAt(c, off, f.mvexChild)
		}
		return true
	})
	if !ok {
		return fmt.Errorf("%w: malformed moov at byte %d", ErrNotMP4, b.start)
	}
	if !mvex {
		return ErrNotFragmented
	}
	if f.moovTS == 0 {
		return fmt.Errorf("%w: no mvhd timescale", ErrNotMP4)
	}
	for _, t := range f.tracks {
		if t.id == 0 || t.timescale == 0 {
			return fmt.Errorf("%w: a track without ID or timescale", ErrNotMP4)
		}
	}
	return nil
}

// eachBoxAt is eachBox that also passes the offset of each body: off is
// the offset of b.
func eachBoxAt(b []byte, off int, fn func(typ string, off int, body []byte) bool) bool {
	// Each body is a subslice of b that runs to the end of b's array, so
	// its offset in b is the difference of the capacities.
	return eachBox(b, func(typ string, body []byte) bool {
		return fn(typ, off+cap(b)-cap(body), body)
	})
}

// timeField reads the timescale of an mvhd or mdhd body at offset off
// and where its duration is.
func timeField(b []byte, off int) (uint32, durField, bool) {
	v, _, rest, ok := fullBox(b)
	switch {
	case !ok:
	case v == 1 && len(rest) >= 28:
		return u32(rest, 16), durField{off: off + 4 + 20, wide: true}, true
	case v == 0 && len(rest) >= 16:
		return u32(rest, 8), durField{off: off + 4 + 12}, true
	}
	return 0, durField{}, false
}

func (f *fixer) trakChild(t *fixTrack, typ string, off int, b []byte) bool {
	switch typ {
	case "tkhd":
		v, _, rest, ok := fullBox(b)
		switch {
		case ok && v == 1 && len(rest) >= 32:
			t.id, t.tkhd = u32(rest, 16), durField{off: off + 4 + 24, wide: true}
		case ok && v == 0 && len(rest) >= 20:
			t.id, t.tkhd = u32(rest, 8), durField{off: off + 4 + 16}
		default:
			return false
		}
	case "mdia":
		return eachBoxAt(b, off, func(typ string, off int, c []byte) bool { return f.trakChild(t, typ, off, c) })
	case "mdhd":
		ts, fld, ok := timeField(b, off)
		t.timescale, t.mdhd = ts, fld
		return ok
	}
	return true
}

func (f *fixer) mvexChild(typ string, off int, b []byte) bool {
	switch typ {
	case "mehd":
		v, _, rest, ok := fullBox(b)
		switch {
		case ok && v == 1 && len(rest) >= 8:
			f.mehd = durField{off: off + 4, wide: true}
		case ok && v == 0 && len(rest) >= 4:
			f.mehd = durField{off: off + 4}
		default:
			return false
		}
	case "trex":
		_, _, rest, ok := fullBox(b)
		if !ok || len(rest) < 20 {
			return false
		}
		if t := f.track(u32(rest, 0)); t != nil {
			t.defDur, t.defSize, t.defFlags = u32(rest, 8), u32(rest, 12), u32(rest, 16)
		}
	}
	return true
}

func (f *fixer) track(id uint32) *fixTrack {
	for _, t := range f.tracks {
		if t.id == id {
			return t
		}
	}
	return nil
}

// trafInfo is what a traf of a fragment adds to its track.
type trafInfo struct {
	t       *fixTrack
	time    uint64 // decode time of its first sample
	end     uint64 // end of its last sample
	sync    bool   // its first sample is a sync sample
	samples bool
}

// fragment checks the pending moof against the mdat that follows: every
// sample of every trun must lie in the mdat. Then it notes the tracks'
// ends and index entries. It reports false, with a problem, for a
// fragment that cannot be kept.
func (f *fixer) fragment(mdat topBox) bool {
	moof := &f.pending[f.moofAt]
	shift := f.out + f.sizeBefore(f.moofAt) - moof.start // output offset - input offset
	lo := mdat.start + int64(mdat.hdr)
	hi := mdat.start + int64(len(mdat.b))
	var trafs []trafInfo
	dataEnd := moof.start // end of the previous traf's data
	ok := eachBox(moof.b[moof.hdr:], func(typ string, b []byte) bool {
		if typ != "traf" {
			return true
		}
		ti, end, ok := f.traf(b, moof.start, dataEnd, len(trafs) == 0, lo, hi, shift)
		if !ok {
			return false
		}
		dataEnd = end
		trafs = append(trafs, ti)
		return true
	})
	if !ok {
		f.problem("fragment at byte %d: samples outside its mdat or a malformed moof: dropped with what follows", moof.start)
		return false
	}
	at := uint64(f.out + f.sizeBefore(f.moofAt))
	for i, ti := range trafs {
		if ti.t == nil || !ti.samples {
			continue
		}
		ti.t.end = max(ti.t.end, ti.end)
		if ti.sync {
			ti.t.index = append(ti.t.index, tfraEntry{time: int64(ti.time), moof: int64(at), trafNum: uint32(i + 1)})
		}
	}
	return true
}

// sizeBefore returns the bytes of the first n pending boxes.
func (f *fixer) sizeBefore(n int) int64 {
	var s int64
	for _, b := range f.pending[:n] {
		s += int64(len(b.b))
	}
	return s
}

// traf checks one traf of a moof at input offset moofStart: its samples
// must lie in [lo, hi). prevEnd is where the previous traf's data ended.
// It returns what the traf adds and where its data ends.
func (f *fixer) traf(b []byte, moofStart, prevEnd int64, first bool, lo, hi, shift int64) (trafInfo, int64, bool) {
	var ti trafInfo
	var t *fixTrack
	var defDur, defSize, defFlags uint32
	base := prevEnd
	if first {
		base = moofStart
	}
	hasTime, runs := false, 0
	dataEnd := base
	ok := eachBox(b, func(typ string, b []byte) bool {
		v, flags, rest, ok := fullBox(b)
		if typ != "tfhd" && typ != "tfdt" && typ != "trun" {
			return true
		}
		if !ok {
			return false
		}
		switch typ {
		case "tfhd":
			if len(rest) < 4 || t != nil {
				return false
			}
			if t = f.track(u32(rest, 0)); t == nil {
				return false
			}
			defDur, defSize, defFlags = t.defDur, t.defSize, t.defFlags
			rest = rest[4:]
			if flags&0x020000 != 0 {
				base = moofStart
			}
			for _, fl := range [...]struct {
				bit  uint32
				size int
			}{{0x01, 8}, {0x02, 4}, {0x08, 4}, {0x10, 4}, {0x20, 4}} {
				if flags&fl.bit == 0 {
					continue
				}
				if len(rest) < fl.size {
					return false
				}
				switch fl.bit {
				case 0x01:
					if shift != 0 {
						return false // an absolute offset would not hold
					}
					off := u64(rest, 0)
					if off > math.MaxInt64/2 {
						return false
					}
					base = int64(off)
				case 0x08:
					defDur = u32(rest, 0)
				case 0x10:
					defSize = u32(rest, 0)
				case 0x20:
					defFlags = u32(rest, 0)
				}
				rest = rest[fl.size:]
			}
			ti.t = t
			dataEnd = base
		case "tfdt":
			if t == nil || hasTime {
				return false
			}
			if ti.time, ok = tfdtTime(v, rest); !ok {
				return false
			}
			hasTime = true
		case "trun":
			if t == nil {
				return false
			}
			if runs == 0 {
				if !hasTime {
					ti.time = t.end
				}
				ti.end = ti.time
			}
			r, ok := parseTrun(flags, rest, defDur, defSize, defFlags)
			if !ok {
				return false
			}
			start := dataEnd
			if r.hasOffset {
				start = base + int64(r.offset)
			}
			if r.count > 0 {
				if start < lo || start > hi || r.size > uint64(hi-start) {
					return false
				}
				if !ti.samples {
					ti.sync, ti.samples = r.sync, true
				}
			}
			dataEnd = start + int64(r.size)
			if ti.end > math.MaxUint64-r.dur {
				return false
			}
			ti.end += r.dur
			runs++
		}
		return true
	})
	if !ok || t == nil {
		return ti, 0, false
	}
	return ti, dataEnd, true
}

// trunInfo sums up a trun box.
type trunInfo struct {
	count     uint64
	hasOffset bool
	offset    int32
	size      uint64 // sample bytes
	dur       uint64 // in the timescale
	sync      bool   // the first sample is a sync sample
	syncs     uint64 // how many samples are sync samples
}

// parseTrun reads a trun body (after version and flags).
func parseTrun(flags uint32, b []byte, defDur, defSize, defFlags uint32) (trunInfo, bool) {
	var r trunInfo
	if len(b) < 4 {
		return r, false
	}
	r.count = uint64(u32(b, 0))
	b = b[4:]
	if flags&0x01 != 0 {
		if len(b) < 4 {
			return r, false
		}
		r.hasOffset, r.offset = true, int32(u32(b, 0))
		b = b[4:]
	}
	firstFlags, hasFirst := defFlags, false
	if flags&0x04 != 0 {
		if len(b) < 4 {
			return r, false
		}
		firstFlags, hasFirst = u32(b, 0), true
		b = b[4:]
	}
	per := 0
	for _, bit := range [...]uint32{0x100, 0x200, 0x400, 0x800} {
		if flags&bit != 0 {
			per += 4
		}
	}
	if per == 0 {
		r.size, r.dur = r.count*uint64(defSize), r.count*uint64(defDur) // count < 2^32: no overflow
		r.sync = isSync(firstFlags) == 1
		if r.count > 0 {
			r.syncs = uint64(isSync(firstFlags))
			if defFlags&0x10000 == 0 {
				r.syncs += r.count - 1
			}
		}
		return r, true
	}
	if r.count > uint64(len(b)/per) {
		return r, false
	}
	for i := 0; i < int(r.count); i++ {
		s := b[i*per:]
		dur, size, sf := defDur, defSize, defFlags
		if i == 0 && hasFirst {
			sf = firstFlags
		}
		if flags&0x100 != 0 {
			dur, s = u32(s, 0), s[4:]
		}
		if flags&0x200 != 0 {
			size, s = u32(s, 0), s[4:]
		}
		if flags&0x400 != 0 && !(i == 0 && hasFirst) {
			sf = u32(s, 0)
		}
		if i == 0 {
			r.sync = isSync(sf) == 1
		}
		r.syncs += uint64(isSync(sf))
		r.size += uint64(size)
		r.dur += uint64(dur)
	}
	return r, true
}

// finish appends the index, patches the durations and leaves dst at the
// end of the output.
func (f *fixer) finish(dst io.WriteSeeker, start int64) error {
	if f.rep.Fragments == 0 {
		f.problem("no whole fragment")
	}
	w := &Writer{}
	for _, t := range f.tracks {
		w.tracks = append(w.tracks, track{Track: Track{ID: t.id}, index: t.index})
	}
	mfra := w.appendMFRA(nil)
	if _, err := f.w.Write(mfra); err != nil {
		return err
	}
	f.out += int64(len(mfra))
	if err := f.w.Flush(); err != nil {
		return err
	}
	f.rep.Size = f.out
	var movie uint64
	put := func(fld durField, v uint64) error {
		if fld.off == 0 {
			return nil
		}
		var b [8]byte
		p := b[:8]
		if fld.wide {
			binary.BigEndian.PutUint64(p, v)
		} else {
			binary.BigEndian.PutUint32(p, uint32(min(v, math.MaxUint32-1)))
			p = p[:4]
		}
		if _, err := dst.Seek(start+f.moovOut+int64(fld.off), io.SeekStart); err != nil {
			return err
		}
		_, err := dst.Write(p)
		return err
	}
	for _, t := range f.tracks {
		d := uint64(rescale(int64(min(t.end, math.MaxInt64/2)), t.timescale, f.moovTS))
		movie = max(movie, d)
		f.rep.Duration = max(f.rep.Duration, seconds(t.end, t.timescale))
		if err := put(t.tkhd, d); err != nil {
			return err
		}
		if err := put(t.mdhd, t.end); err != nil {
			return err
		}
	}
	if err := put(f.mvhd, movie); err != nil {
		return err
	}
	if err := put(f.mehd, movie); err != nil {
		return err
	}
	_, err := dst.Seek(start+f.out, io.SeekStart)
	return err
}
