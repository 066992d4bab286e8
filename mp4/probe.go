package mp4

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"time"
)

// ProbeTrack describes one track found by Probe.
type ProbeTrack struct {
	ID      uint32
	Type    TrackType // 0 for tracks that are neither video nor audio
	Handler string    // hdlr handler_type: "vide", "soun", ...
	// Codec is the type of the first sample entry: "avc1", "av01",
	// "vp09", "Opus", "mp4a", ...
	Codec         string
	Width, Height uint16 // video sample entry
	Channels      uint16 // audio sample entry
	SampleRate    uint32 // audio sample entry, in Hz
	Timescale     uint32 // mdhd
	// Duration is the end of the track's last sample (from the sample
	// table or the fragments), or mdhd's duration when it has no samples.
	Duration    time.Duration
	Samples     int
	SyncSamples int
}

// ProbeResult describes an MP4 file or fragmented MP4 stream.
type ProbeResult struct {
	MajorBrand       string
	CompatibleBrands []string
	Tracks           []ProbeTrack
	// Duration is mvhd's duration, else mehd's, else the longest track's
	// samples. DurationSource says which: "mvhd", "mehd", "samples" or ""
	// when there is none.
	Duration       time.Duration
	DurationSource string
	Fragmented     bool // the moov has an mvex, or there are moof boxes
	Fragments      int  // moof boxes
	HasIndex       bool // an mfra or sidx box
	// Seekable says a player can seek without reading the whole file: a
	// plain MP4 with its sample tables, or a fragmented one with an index
	// and a duration in mvhd or mehd.
	Seekable bool
	// Size is the size of the input when it can seek, else the number of
	// bytes read.
	Size     int64
	Problems []string // what is missing or broken, in words
}

// maxBoxRead is the largest box Probe reads into memory (moov, moof,
// mfra); larger ones are skipped with a problem.
const maxBoxRead = 256 << 20

// topLevel lists the box types Probe accepts at the start of its input.
var topLevel = map[string]bool{
	"ftyp": true, "styp": true, "moov": true, "moof": true, "mdat": true, "free": true,
	"skip": true, "wide": true, "sidx": true, "pdin": true, "meta": true, "uuid": true,
	"emsg": true, "prft": true, "mfra": true,
}

// probeTrack is a track being probed.
type probeTrack struct {
	ProbeTrack
	mdhdDur     uint64
	stss        int    // stss entries
	hasStss     bool   // an stss box: the other samples are not sync samples
	end         uint64 // end of the last sample, in the timescale
	defaultDur  uint32 // trex
	defaultFlag uint32 // trex
}

type prober struct {
	r      io.Reader
	s      io.Seeker // nil when r cannot seek
	pos    int64     // offset from the start of the input
	size   int64     // input size, -1 unknown
	res    ProbeResult
	tracks []*probeTrack
	moov   bool
	ftyp   bool
	mvhd   uint64 // duration
	mvhdTS uint32
	mehd   uint64
	stop   bool
}

// Probe reads an MP4 file, or a fragmented MP4 stream, from r and
// describes it. When r is an io.ReadSeeker, Probe skips over mdat boxes
// and notices truncation from the input's size; otherwise it reads
// everything. Problems found in the file are reported in
// ProbeResult.Problems; the error is ErrNotMP4 when the input does not
// start with an MP4 box, or a read error of r.
func Probe(r io.Reader) (ProbeResult, error) {
	p := &prober{r: r, size: -1}
	if s, ok := r.(io.ReadSeeker); ok {
		if cur, err := s.Seek(0, io.SeekCurrent); err == nil {
			if end, err := s.Seek(0, io.SeekEnd); err == nil {
				if _, err := s.Seek(cur, io.SeekStart); err == nil {
					p.s, p.size = s, end-cur
				}
			}
		}
	}
	if err := p.run(); err != nil {
		return ProbeResult{}, err
	}
	p.finish()
	return p.res, nil
}

func (p *prober) problem(format string, a ...any) {
	p.res.Problems = append(p.res.Problems, fmt.Sprintf(format, a...))
}

// run reads the top-level boxes.
func (p *prober) run() error {
	for !p.stop {
		start := p.pos
		var hdr [16]byte
		n, err := io.ReadFull(p.r, hdr[:8])
		p.pos += int64(n)
		if err == io.EOF {
			if start == 0 {
				return ErrNotMP4
			}
			return nil
		}
		if err == io.ErrUnexpectedEOF {
			if start == 0 {
				return ErrNotMP4
			}
			p.problem("truncated at byte %d: incomplete box header at %d", p.pos, start)
			return nil
		}
		if err != nil {
			return err
		}
		size := uint64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		hdrLen := uint64(8)
		if start == 0 && !topLevel[typ] {
			return ErrNotMP4
		}
		if !printable(typ) {
			p.problem("garbage at byte %d: not a box", start)
			return nil
		}
		if size == 1 {
			n, err := io.ReadFull(p.r, hdr[8:16])
			p.pos += int64(n)
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				p.problem("truncated at byte %d: incomplete %s box header at %d", p.pos, typ, start)
				return nil
			}
			if err != nil {
				return err
			}
			size, hdrLen = binary.BigEndian.Uint64(hdr[8:16]), 16
		}
		toEnd := size == 0
		if !toEnd && size < hdrLen {
			p.problem("bad %s box size %d at byte %d", typ, size, start)
			return nil
		}
		body := int64(-1) // to the end of the input
		if !toEnd {
			if size-hdrLen > math.MaxInt64/2 {
				p.problem("truncated at byte %d: %s box at %d declares %d bytes", p.inputEnd(), typ, start, size)
				return nil
			}
			body = int64(size - hdrLen)
		}
		if err := p.box(typ, start, body); err != nil {
			return err
		}
	}
	return nil
}

// inputEnd returns the size of the input when known, else the position.
func (p *prober) inputEnd() int64 {
	if p.size >= 0 {
		return p.size
	}
	return p.pos
}

// box handles a top-level box of type typ whose body of n bytes (-1: to
// the end of the input) starts at the current position.
func (p *prober) box(typ string, start, n int64) error {
	hdr := p.pos - start
	if p.size >= 0 && n >= 0 && p.pos+n > p.size {
		p.problem("truncated at byte %d: %s box at %d declares %d bytes", p.size, typ, start, n+hdr)
		p.stop = true
		return nil
	}
	switch typ {
	case "ftyp", "moov", "moof", "mfra", "sidx", "styp":
		if n > maxBoxRead {
			p.problem("%s box at %d too large to read (%d bytes)", typ, start, n+hdr)
			return p.skip(typ, start, n)
		}
		body, err := p.read(n)
		if err != nil {
			return err
		}
		if n >= 0 && int64(len(body)) < n {
			p.problem("truncated at byte %d: %s box at %d declares %d bytes", p.pos, typ, start, n+hdr)
			p.stop = true
			return nil
		}
		p.parseTop(typ, start, body)
		return nil
	}
	return p.skip(typ, start, n)
}

// read reads n bytes (-1: all) of the input, fewer at its end.
func (p *prober) read(n int64) ([]byte, error) {
	var src io.Reader = p.r
	if n >= 0 {
		src = io.LimitReader(p.r, n)
	}
	b, err := io.ReadAll(src)
	p.pos += int64(len(b))
	return b, err
}

// skip skips n bytes (-1: all) of the input.
func (p *prober) skip(typ string, start, n int64) error {
	if n < 0 {
		if p.s != nil && p.size >= 0 {
			_, err := p.s.Seek(p.size-p.pos, io.SeekCurrent)
			p.pos = p.size
			p.stop = true
			return err
		}
		m, err := io.Copy(io.Discard, p.r)
		p.pos += m
		p.stop = true
		return err
	}
	if p.s != nil && p.size >= 0 {
		if _, err := p.s.Seek(n, io.SeekCurrent); err != nil {
			return err
		}
		p.pos += n
		return nil
	}
	hdr := p.pos - start
	m, err := io.CopyN(io.Discard, p.r, n)
	p.pos += m
	if err == io.EOF {
		p.problem("truncated at byte %d: %s box at %d declares %d bytes", p.pos, typ, start, n+hdr)
		p.stop = true
		return nil
	}
	return err
}

// printable reports whether typ looks like a box type.
func printable(typ string) bool {
	for i := 0; i < len(typ); i++ {
		if typ[i] < 0x20 || typ[i] > 0x7e {
			return false
		}
	}
	return true
}

// parseTop parses the body of a top-level box read into memory.
func (p *prober) parseTop(typ string, start int64, b []byte) {
	switch typ {
	case "ftyp":
		if p.ftyp {
			return
		}
		p.ftyp = true
		if len(b) >= 8 {
			p.res.MajorBrand = string(b[:4])
			for c := b[8:]; len(c) >= 4; c = c[4:] {
				p.res.CompatibleBrands = append(p.res.CompatibleBrands, string(c[:4]))
			}
		}
	case "moov":
		if p.moov {
			p.problem("second moov at byte %d ignored", start)
			return
		}
		p.moov = true
		if !eachBox(b, p.moovChild) {
			p.problem("malformed moov at byte %d", start)
		}
	case "moof":
		p.res.Fragmented = true
		p.res.Fragments++
		if !eachBox(b, p.moofChild) {
			p.problem("malformed moof at byte %d", start)
		}
	case "mfra", "sidx":
		p.res.HasIndex = true
	}
}

// eachBox calls fn for each box in b and reports whether the boxes fill b
// exactly.
func eachBox(b []byte, fn func(typ string, body []byte) bool) bool {
	for len(b) > 0 {
		if len(b) < 8 {
			return false
		}
		size := uint64(binary.BigEndian.Uint32(b))
		typ := string(b[4:8])
		hdr := uint64(8)
		switch size {
		case 0:
			size = uint64(len(b))
		case 1:
			if len(b) < 16 {
				return false
			}
			size, hdr = binary.BigEndian.Uint64(b[8:]), 16
		}
		if size < hdr || size > uint64(len(b)) {
			return false
		}
		if !fn(typ, b[hdr:size]) {
			return false
		}
		b = b[size:]
	}
	return true
}

// fullBox splits a full box's body into version, flags and the rest.
func fullBox(b []byte) (version uint8, flags uint32, rest []byte, ok bool) {
	if len(b) < 4 {
		return 0, 0, nil, false
	}
	return b[0], binary.BigEndian.Uint32(b) & 0xffffff, b[4:], true
}

func u16(b []byte, i int) uint16 { return binary.BigEndian.Uint16(b[i:]) }

// tfdtTime reads the baseMediaDecodeTime of a tfdt of version v (its
// body after the version and flags).
func tfdtTime(v uint8, rest []byte) (uint64, bool) {
	switch {
	case v == 1 && len(rest) >= 8:
		return u64(rest, 0), true
	case v == 0 && len(rest) >= 4:
		return uint64(u32(rest, 0)), true
	}
	return 0, false
}

func u32(b []byte, i int) uint32 { return binary.BigEndian.Uint32(b[i:]) }
func u64(b []byte, i int) uint64 { return binary.BigEndian.Uint64(b[i:]) }

// timeFields reads the timescale and duration of an mvhd or mdhd body
// (version 0 or 1).
func timeFields(b []byte) (timescale uint32, duration uint64, ok bool) {
	v, _, rest, ok := fullBox(b)
	switch {
	case !ok:
	case v == 1 && len(rest) >= 28:
		return u32(rest, 16), u64(rest, 20), true
	case v == 0 && len(rest) >= 16:
		d := uint64(u32(rest, 12))
		if d == math.MaxUint32 {
			d = 0
		}
		return u32(rest, 8), d, true
	}
	return 0, 0, false
}

func (p *prober) moovChild(typ string, b []byte) bool {
	switch typ {
	case "mvhd":
		ts, d, ok := timeFields(b)
		if !ok {
			return false
		}
		p.mvhdTS, p.mvhd = ts, d
	case "trak":
		t := &probeTrack{}
		if !eachBox(b, func(typ string, b []byte) bool { return p.trakChild(t, typ, b) }) {
			return false
		}
		// The sample table's samples: all sync samples unless stss lists
		// them.
		t.SyncSamples = t.Samples
		if t.hasStss {
			t.SyncSamples = min(t.stss, t.Samples)
		}
		p.tracks = append(p.tracks, t)
	case "mvex":
		p.res.Fragmented = true
		return eachBox(b, p.mvexChild)
	}
	return true
}

func (p *prober) mvexChild(typ string, b []byte) bool {
	switch typ {
	case "mehd":
		v, _, rest, ok := fullBox(b)
		switch {
		case ok && v == 1 && len(rest) >= 8:
			p.mehd = u64(rest, 0)
		case ok && v == 0 && len(rest) >= 4:
			p.mehd = uint64(u32(rest, 0))
		default:
			return false
		}
	case "trex":
		_, _, rest, ok := fullBox(b)
		if !ok || len(rest) < 20 {
			return false
		}
		if t := p.track(u32(rest, 0)); t != nil {
			t.defaultDur, t.defaultFlag = u32(rest, 8), u32(rest, 16)
		}
	}
	return true
}

// track returns the track with the given ID, or nil.
func (p *prober) track(id uint32) *probeTrack {
	for _, t := range p.tracks {
		if t.ID == id {
			return t
		}
	}
	return nil
}

func (p *prober) trakChild(t *probeTrack, typ string, b []byte) bool {
	switch typ {
	case "tkhd":
		v, _, rest, ok := fullBox(b)
		switch {
		case ok && v == 1 && len(rest) >= 20:
			t.ID = u32(rest, 16)
		case ok && v == 0 && len(rest) >= 12:
			t.ID = u32(rest, 8)
		default:
			return false
		}
	case "mdia", "minf", "stbl":
		return eachBox(b, func(typ string, b []byte) bool { return p.trakChild(t, typ, b) })
	case "mdhd":
		ts, d, ok := timeFields(b)
		if !ok {
			return false
		}
		t.Timescale, t.mdhdDur = ts, d
	case "hdlr":
		_, _, rest, ok := fullBox(b)
		if !ok || len(rest) < 8 {
			return false
		}
		t.Handler = string(rest[4:8])
		switch t.Handler {
		case "vide":
			t.Type = TrackTypeVideo
		case "soun":
			t.Type = TrackTypeAudio
		}
	case "stsd":
		_, _, rest, ok := fullBox(b)
		if !ok || len(rest) < 4 {
			return false
		}
		if u32(rest, 0) == 0 {
			return true
		}
		return eachBox(rest[4:], func(typ string, e []byte) bool {
			if t.Codec == "" {
				t.sampleEntry(typ, e)
			}
			return true
		})
	case "stts":
		_, _, rest, ok := fullBox(b)
		if !ok || len(rest) < 4 {
			return false
		}
		n := int(min(u32(rest, 0), uint32(len(rest)-4)/8))
		for i := 0; i < n; i++ {
			count, delta := uint64(u32(rest, 4+8*i)), uint64(u32(rest, 8+8*i))
			t.end += count * delta
		}
	case "stsz":
		_, _, rest, ok := fullBox(b)
		if !ok || len(rest) < 8 {
			return false
		}
		t.Samples = int(u32(rest, 4))
	case "stss":
		_, _, rest, ok := fullBox(b)
		if !ok || len(rest) < 4 {
			return false
		}
		t.stss, t.hasStss = int(u32(rest, 0)), true
	}
	return true
}

// sampleEntry reads a sample entry's codec and picture or audio fields.
func (t *probeTrack) sampleEntry(typ string, e []byte) {
	t.Codec = typ
	switch t.Type {
	case TrackTypeVideo:
		if len(e) >= 28 {
			t.Width, t.Height = u16(e, 24), u16(e, 26)
		}
	case TrackTypeAudio:
		if len(e) >= 28 {
			t.Channels, t.SampleRate = u16(e, 16), u32(e, 24)>>16
		}
	}
}

func (p *prober) moofChild(typ string, b []byte) bool {
	if typ == "traf" {
		return p.traf(b)
	}
	return true
}

// traf reads a track fragment: its sample count, durations and sync
// samples.
func (p *prober) traf(b []byte) bool {
	var t *probeTrack
	var defDur, defFlags uint32
	var base uint64
	hasBase := false
	return eachBox(b, func(typ string, b []byte) bool {
		v, flags, rest, ok := fullBox(b)
		if typ != "tfhd" && typ != "tfdt" && typ != "trun" {
			return true
		}
		if !ok {
			return false
		}
		switch typ {
		case "tfhd":
			if len(rest) < 4 {
				return false
			}
			id := u32(rest, 0)
			if t = p.track(id); t == nil {
				p.problem("fragment %d: traf of unknown track %d", p.res.Fragments, id)
				return true
			}
			defDur, defFlags = t.defaultDur, t.defaultFlag
			rest = rest[4:]
			for _, f := range [...]struct {
				bit  uint32
				size int
			}{{0x01, 8}, {0x02, 4}, {0x08, 4}, {0x10, 4}, {0x20, 4}} {
				if flags&f.bit == 0 {
					continue
				}
				if len(rest) < f.size {
					return false
				}
				switch f.bit {
				case 0x08:
					defDur = u32(rest, 0)
				case 0x20:
					defFlags = u32(rest, 0)
				}
				rest = rest[f.size:]
			}
		case "tfdt":
			var ok bool
			if base, ok = tfdtTime(v, rest); !ok {
				return false
			}
			hasBase = true
		case "trun":
			if t == nil {
				return true
			}
			if hasBase {
				t.end = max(t.end, base)
			} else {
				base = t.end
			}
			end, ok := trun(t, flags, rest, base, defDur, defFlags)
			if !ok {
				return false
			}
			t.end = max(t.end, end)
			base, hasBase = end, true
		}
		return true
	})
}

// trun adds the samples of a trun box (flags and body after the version
// and flags) that starts at decode time base to t, and returns the end of
// its last sample.
func trun(t *probeTrack, flags uint32, b []byte, base uint64, defDur, defFlags uint32) (uint64, bool) {
	r, ok := parseTrun(flags, b, defDur, 0, defFlags)
	if !ok || r.count > math.MaxInt32 {
		return base, false
	}
	t.Samples += int(r.count)
	t.SyncSamples += int(r.syncs)
	return base + r.dur, true
}

// isSync returns 1 when sample flags f mark a sync sample.
func isSync(f uint32) int {
	if f&0x10000 == 0 {
		return 1
	}
	return 0
}

// seconds returns u units of timescale as a time.Duration, rounded down
// and saturating.
func seconds(u uint64, timescale uint32) time.Duration {
	if timescale == 0 {
		return 0
	}
	ts := uint64(timescale)
	sec, frac := u/ts, u%ts
	if sec >= uint64(math.MaxInt64/int64(time.Second)) {
		return math.MaxInt64
	}
	return time.Duration(sec)*time.Second + time.Duration(frac*uint64(time.Second)/ts)
}

// finish fills in the result from what was read.
func (p *prober) finish() {
	r := &p.res
	r.Size = p.pos
	if p.size >= 0 {
		r.Size = p.size
	}
	if !p.ftyp {
		r.Problems = append([]string{"no ftyp"}, r.Problems...)
	}
	if !p.moov {
		p.problem("no moov")
	}
	var longest time.Duration
	samples := 0
	for _, t := range p.tracks {
		t.Duration = seconds(t.end, t.Timescale)
		if t.Samples == 0 && t.end == 0 {
			t.Duration = seconds(t.mdhdDur, t.Timescale)
		} else if t.mdhdDur != 0 {
			if md := seconds(t.mdhdDur, t.Timescale); absDur(md-t.Duration) > 100*time.Millisecond {
				p.problem("track %d: mdhd duration %v, but its samples last %v", t.ID, md, t.Duration)
			}
		}
		samples += t.Samples
		if t.Samples > 0 {
			longest = max(longest, t.Duration)
		}
		r.Tracks = append(r.Tracks, t.ProbeTrack)
	}
	switch {
	case p.mvhd != 0 && p.mvhdTS != 0:
		r.Duration, r.DurationSource = seconds(p.mvhd, p.mvhdTS), "mvhd"
	case p.mehd != 0 && p.mvhdTS != 0:
		r.Duration, r.DurationSource = seconds(p.mehd, p.mvhdTS), "mehd"
	case longest > 0:
		r.Duration, r.DurationSource = longest, "samples"
	}
	if r.DurationSource == "mvhd" || r.DurationSource == "mehd" {
		if samples > 0 && absDur(r.Duration-longest) > 100*time.Millisecond {
			p.problem("%s duration %v, but the samples last %v", r.DurationSource, r.Duration, longest)
		}
	}
	if r.Fragmented {
		if p.moov && r.Fragments == 0 {
			p.problem("no fragments")
		}
		if p.mvhd == 0 && p.mehd == 0 {
			p.problem("no duration in mvhd or mehd")
		}
		if !r.HasIndex {
			p.problem("no index (mfra or sidx)")
		}
		r.Seekable = p.moov && r.HasIndex && (p.mvhd != 0 || p.mehd != 0) && samples > 0
	} else {
		r.Seekable = p.moov && samples > 0
	}
	if p.moov && len(p.tracks) == 0 {
		p.problem("no tracks")
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
