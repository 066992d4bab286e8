package webm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/ebml"
)

// Errors returned by NewReader and ReadFrame.
var (
	// ErrNotWebM means the input does not start with an EBML header, its
	// DocType is neither "webm" nor "matroska", or no Segment follows.
	ErrNotWebM = errors.New("webm: not a WebM or Matroska file")
	// ErrTruncated is matched (errors.Is) by every *TruncatedError.
	ErrTruncated = errors.New("webm: truncated")
)

// TruncatedError reports input that ends inside an element: a block, a
// header element, or a Cluster or Segment of known size. It wraps
// io.ErrUnexpectedEOF and matches ErrTruncated.
type TruncatedError struct {
	Offset  int64 // where the input ends
	Element int64 // file offset of the element it ends inside
}

// Error says where the input ends and which element it cuts.
func (e *TruncatedError) Error() string {
	return fmt.Sprintf("webm: input truncated at byte %d, inside the element at byte %d", e.Offset, e.Element)
}

// Unwrap returns io.ErrUnexpectedEOF.
func (e *TruncatedError) Unwrap() error { return io.ErrUnexpectedEOF }

// Is reports whether target is ErrTruncated.
func (e *TruncatedError) Is(target error) bool { return target == ErrTruncated }

// Header is what precedes the first Cluster.
type Header struct {
	DocType                            string // "webm" or "matroska"
	DocTypeVersion, DocTypeReadVersion uint64
	// TimestampScale is the length of a timestamp unit in nanoseconds
	// (default 1000000).
	TimestampScale uint64
	// Duration is Info's Duration when HasDuration is set, as written:
	// Firefox writes 0, Chromium's requestData output 1 ms.
	Duration              time.Duration
	HasDuration           bool
	MuxingApp, WritingApp string
	// Tracks holds one entry per TrackEntry, Raw included.
	Tracks        []TrackEntry
	SegmentOffset int64 // file offset of the Segment's data
	SegmentSize   int64 // -1 when unknown
}

// Frame is one frame of a track. A laced block gives one Frame per laced
// frame.
type Frame struct {
	Track uint64
	// Timestamp is the absolute time of the frame: Cluster timestamp plus
	// the block's relative timestamp, TimestampScale applied. The frames
	// of a laced block share out the block's duration (BlockDuration, else
	// DefaultDuration × frames) evenly in TimestampScale units, as ffmpeg
	// does: frame i starts i × DefaultDuration after the block. Without
	// either, every laced frame has the block's timestamp.
	Timestamp time.Duration
	// Duration is the BlockDuration (or the frame's share of it) or the
	// track's DefaultDuration when known, else 0.
	Duration time.Duration
	// KeyFrame is the SimpleBlock key flag; a BlockGroup is a key frame
	// when it has no ReferenceBlock.
	KeyFrame               bool
	Invisible, Discardable bool
	// Data is the frame. It is valid until the next call to ReadFrame.
	Data []byte
	// BlockOffset is the file offset of the SimpleBlock or Block element.
	BlockOffset int64
}

// CuePoint is one CueTrackPositions of a CuePoint.
type CuePoint struct {
	Time  time.Duration
	Track uint64
	// ClusterPosition is the Cluster's offset from the start of the
	// Segment's data (Header.SegmentOffset).
	ClusterPosition uint64
	// RelativePosition is the block's offset in the Cluster's data, 0 when
	// not given.
	RelativePosition uint64
}

// A Gap is input that the Reader skipped because it could not be parsed:
// garbage between Clusters or a damaged element. Reading resumes at the
// next Cluster.
type Gap struct {
	Offset, Size int64
}

const (
	readBufSize = 1 << 20
	// maxMeta is the largest Info, Tracks, SeekHead or Cues element the
	// Reader parses; larger ones are skipped.
	maxMeta = 64 << 20
	// maxGaps is how many Gaps the Reader keeps.
	maxGaps = 1000
)

var (
	ebmlMagic    = []byte{0x1A, 0x45, 0xDF, 0xA3}
	clusterMagic = []byte{0x1F, 0x43, 0xB6, 0x75}
)

// trackInfo is what the Reader needs of a track per frame.
type trackInfo struct {
	num    uint64
	defDur int64 // ns
}

// rawBlock is one SimpleBlock or BlockGroup as found in the file.
type rawBlock struct {
	elem     []byte // the whole element, header included
	off      int64  // file offset of elem
	blockOff int64  // file offset of the SimpleBlock or Block
	tsPos    int    // index of the int16 relative timestamp in elem
	simple   bool
	track    uint64
	ticks    int64 // absolute timestamp, TimestampScale units
	flags    byte
	key      bool
	durTk    int64  // BlockDuration; -1 when absent
	data     []byte // the frames, after the lacing header
	n        int    // number of frames
}

// Reader reads the frames of a WebM or Matroska file or live stream in file
// order. It reads its input in pieces of 1 MiB (less for a small
// bytes.Reader or strings.Reader) and allocates nothing per frame in steady
// state. It is not safe for concurrent use.
type Reader struct {
	src    io.Reader
	buf    []byte
	r, w   int
	base   int64 // file offset of buf[0]
	eof    bool
	rerr   error // read error other than io.EOF
	zeroRd int

	hdr    Header
	tracks []trackInfo
	scale  int64

	segOff, segEnd int64 // segOff: the Segment element; segEnd -1 when unknown

	inCluster              bool
	clusterOff, clusterEnd int64 // clusterEnd -1 when unknown
	clusterTS              int64

	blk   rawBlock
	lace  []int
	laceI int
	laceP int

	big  []byte
	err  error
	cues []CuePoint
	gaps []Gap

	// Statistics for Probe and Fix.
	gapCount, gapBytes int64
	clusters           int
	unknownClusters    int
	seekHeads          int // SeekHeads with at least one Seek
	emptySeekHeads     int
	trailing           int64 // Segment or EBML header after the first Segment; -1
	onCluster          func(off int64)
}

// NewReader reads the EBML header and the Segment up to (not including) the
// first Cluster: SeekHead, Info, Tracks and whatever else comes first
// (Cues, Tags, Void, CRC-32). It returns ErrNotWebM when the input is not
// WebM or Matroska, and a *TruncatedError (matching ErrTruncated) when the
// input ends inside the header.
func NewReader(r io.Reader) (*Reader, error) {
	size := readBufSize
	if l, ok := r.(interface{ Len() int }); ok && l.Len() < size {
		// A small in-memory input (bytes.Reader, strings.Reader).
		size = max(l.Len()+64, 4096)
	}
	rd := &Reader{
		src:      r,
		buf:      make([]byte, size),
		lace:     make([]int, 1, 256),
		segEnd:   -1,
		trailing: -1,
		scale:    int64(time.Millisecond),
	}
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	return rd, nil
}

// Header returns what NewReader read. Its Tracks must not be modified.
func (r *Reader) Header() Header { return r.hdr }

// Cues returns the cue points read so far: those before the first Cluster
// and those of every Cues element ReadFrame has passed.
func (r *Reader) Cues() []CuePoint { return r.cues }

// Gaps returns the stretches of input skipped so far (at most the first
// 1000).
func (r *Reader) Gaps() []Gap { return r.gaps }

// Offset returns the file offset of the next byte the Reader will parse.
func (r *Reader) Offset() int64 { return r.pos() }

// ReadFrame returns the next frame. It returns io.EOF at the end of the
// input or of the Segment, a *TruncatedError when the input ends inside an
// element, and a read error of the source as it is. Errors are sticky.
// Input that cannot be parsed is skipped up to the next Cluster (see Gaps).
func (r *Reader) ReadFrame() (Frame, error) {
	if r.laceI >= r.blk.n {
		if r.err != nil {
			return Frame{}, r.err
		}
		if err := r.nextBlock(); err != nil {
			r.err = err
			return Frame{}, err
		}
	}
	return r.lacedFrame(), nil
}

func (r *Reader) pos() int64 { return r.base + int64(r.r) }

// fill makes n bytes (n <= len(buf)) available at buf[r:], if the input
// has them, and reports whether it did.
func (r *Reader) fill(n int) bool {
	if r.w-r.r >= n {
		return true
	}
	if r.eof || r.rerr != nil {
		return false
	}
	if r.r+n > len(r.buf) {
		copy(r.buf, r.buf[r.r:r.w])
		r.base += int64(r.r)
		r.w -= r.r
		r.r = 0
	}
	for r.w-r.r < n {
		m, err := r.src.Read(r.buf[r.w:])
		if m < 0 || m > len(r.buf)-r.w {
			r.rerr = errors.New("webm: source returned an invalid count")
			return false
		}
		r.w += m
		if err != nil {
			if err == io.EOF {
				r.eof = true
			} else {
				r.rerr = err
			}
			return r.w-r.r >= n
		}
		if m == 0 {
			if r.zeroRd++; r.zeroRd > 100 {
				r.rerr = io.ErrNoProgress
				return false
			}
		} else {
			r.zeroRd = 0
		}
	}
	return true
}

// skip consumes n bytes and reports whether the input had them.
func (r *Reader) skip(n int64) bool {
	if avail := int64(r.w - r.r); n <= avail {
		r.r += int(n)
		return true
	}
	n -= int64(r.w - r.r)
	r.base += int64(r.w)
	r.r, r.w = 0, 0
	for n > 0 {
		if !r.fill(1) {
			return false
		}
		k := min(n, int64(r.w-r.r))
		r.r += int(k)
		n -= k
	}
	return true
}

// read consumes and returns the next n bytes: in the buffer when they fit,
// else in a reused slice that grows only as the input delivers. It reports
// false, having consumed everything, when the input ends first.
func (r *Reader) read(n int64) ([]byte, bool) {
	if n <= int64(len(r.buf)) {
		if !r.fill(int(n)) {
			r.r = r.w
			return nil, false
		}
		b := r.buf[r.r : r.r+int(n)]
		r.r += int(n)
		return b, true
	}
	big := append(r.big[:0], r.buf[r.r:r.w]...)
	r.base += int64(r.w)
	r.r, r.w = 0, 0
	for int64(len(big)) < n && !r.eof && r.rerr == nil {
		if len(big) == cap(big) {
			nb := make([]byte, len(big), min(n, max(2*int64(cap(big)), 4<<20)))
			copy(nb, big)
			big = nb
		}
		m, err := r.src.Read(big[len(big):min(int64(cap(big)), n)])
		if m < 0 || m > cap(big)-len(big) {
			r.rerr = errors.New("webm: source returned an invalid count")
			break
		}
		big = big[:len(big)+m]
		r.base += int64(m)
		if err == io.EOF {
			r.eof = true
		} else if err != nil {
			r.rerr = err
		} else if m == 0 {
			if r.zeroRd++; r.zeroRd > 100 {
				r.rerr = io.ErrNoProgress
			}
		}
	}
	r.big = big
	return big, int64(len(big)) == n
}

// truncated returns the error for input that ended inside the element at
// elem: the read error, if there was one, else a *TruncatedError.
func (r *Reader) truncated(elem int64) error {
	if r.rerr != nil {
		return r.rerr
	}
	return &TruncatedError{Offset: r.pos(), Element: elem}
}

// readHeader reads the EBML header, the Segment header and the level 1
// elements before the first Cluster.
func (r *Reader) readHeader() error {
	r.fill(12)
	if avail := r.buf[r.r:r.w]; len(avail) < 4 || !bytes.Equal(avail[:4], ebmlMagic) {
		if len(avail) < 4 && bytes.HasPrefix(ebmlMagic, avail) {
			r.r = r.w
			return r.truncated(0)
		}
		if r.rerr != nil {
			return r.rerr
		}
		return fmt.Errorf("%w: no EBML header", ErrNotWebM)
	}
	_, size, hl, err := ebml.ReadElementHeader(r.buf[r.r:r.w])
	if err == ebml.ErrShort {
		r.r = r.w
		return r.truncated(0)
	}
	if err != nil || size == ebml.UnknownSize || size > 1<<16 {
		return fmt.Errorf("%w: bad EBML header", ErrNotWebM)
	}
	body, ok := r.read(int64(hl) + int64(size))
	if !ok {
		return r.truncated(0)
	}
	h := &r.hdr
	h.DocType = "matroska"
	h.DocTypeVersion, h.DocTypeReadVersion = 1, 1
	h.TimestampScale = uint64(time.Millisecond)
	h.SegmentSize = -1
	forEach(body[hl:], func(id uint32, b []byte) {
		switch id {
		case idDocType:
			h.DocType = cstring(b)
		case idDocTypeVersion:
			h.DocTypeVersion = readUint(b)
		case idDocTypeReadVersion:
			h.DocTypeReadVersion = readUint(b)
		}
	})
	if h.DocType != "webm" && h.DocType != "matroska" {
		return fmt.Errorf("%w: DocType %q", ErrNotWebM, h.DocType)
	}

	// The Segment, after any Void or CRC-32.
	for {
		pos := r.pos()
		if !r.fill(12) && r.w == r.r {
			if r.rerr != nil {
				return r.rerr
			}
			return &TruncatedError{Offset: pos, Element: pos}
		}
		id, size, hl, err := ebml.ReadElementHeader(r.buf[r.r:r.w])
		if err == ebml.ErrShort {
			r.r = r.w
			return r.truncated(pos)
		}
		if err != nil {
			return fmt.Errorf("%w: no Segment", ErrNotWebM)
		}
		if id == idSegment {
			r.r += hl
			r.segOff = pos
			h.SegmentOffset = pos + int64(hl)
			if size != ebml.UnknownSize {
				h.SegmentSize = int64(size)
				r.segEnd = h.SegmentOffset + int64(size)
			}
			break
		}
		if (id != idVoid && id != idCRC32) || size == ebml.UnknownSize {
			return fmt.Errorf("%w: no Segment", ErrNotWebM)
		}
		if !r.skip(int64(hl) + int64(size)) {
			return r.truncated(pos)
		}
	}

	// Level 1 elements up to the first Cluster. Anything unexpected is
	// left to ReadFrame, which skips it.
	for {
		pos := r.pos()
		if r.segEnd >= 0 && pos >= r.segEnd {
			return nil
		}
		if !r.fill(12) && r.w == r.r {
			if r.rerr != nil {
				return r.rerr
			}
			return nil
		}
		id, size, hl, err := ebml.ReadElementHeader(r.buf[r.r:r.w])
		if err == ebml.ErrShort {
			r.r = r.w
			return r.truncated(pos)
		}
		if err != nil || size == ebml.UnknownSize || id == idCluster {
			return nil
		}
		n := int64(hl) + int64(size)
		if r.segEnd >= 0 && n > r.segEnd-pos {
			return nil
		}
		switch id {
		case idInfo, idTracks, idSeekHead, idCues:
			body, ok := r.readMeta(n, hl, size)
			if !ok {
				return r.truncated(pos)
			}
			switch {
			case body == nil: // too large to hold: skipped
			case id == idInfo:
				r.parseInfo(body)
			case id == idTracks:
				r.parseTracks(body)
			default:
				r.parseMeta(id, body)
			}
		case idVoid, idCRC32, idTags, idChapters, idAttachments:
			if !r.skip(n) {
				return r.truncated(pos)
			}
		default:
			if id < 1<<24 {
				return nil
			}
			if !r.skip(n) {
				return r.truncated(pos)
			}
		}
	}
}

func (r *Reader) parseInfo(b []byte) {
	h := &r.hdr
	var dur float64
	forEach(b, func(id uint32, v []byte) {
		switch id {
		case idTimestampScale:
			if s := readUint(v); s > 0 && s <= math.MaxInt64 {
				h.TimestampScale = s
			}
		case idDuration:
			if f, err := ebml.ReadFloat(v); err == nil {
				dur, h.HasDuration = f, true
			}
		case idMuxingApp:
			h.MuxingApp = cstring(v)
		case idWritingApp:
			h.WritingApp = cstring(v)
		}
	})
	r.scale = int64(h.TimestampScale)
	h.Duration = floatDuration(dur * float64(h.TimestampScale))
}

func (r *Reader) parseTracks(b []byte) {
	h := &r.hdr
	h.Tracks, r.tracks = h.Tracks[:0], r.tracks[:0]
	forEach(b, func(id uint32, e []byte) {
		if id != idTrackEntry {
			return
		}
		t := TrackEntry{Raw: bytes.Clone(e)}
		forEach(e, func(id uint32, v []byte) {
			switch id {
			case idTrackNumber:
				t.Number = readUint(v)
			case idTrackUID:
				t.UID = readUint(v)
			case idTrackType:
				t.Type = TrackType(min(readUint(v), 255))
			case idCodecID:
				t.CodecID = cstring(v)
			case idCodecPrivate:
				t.CodecPrivate = bytes.Clone(v)
			case idCodecDelay:
				t.CodecDelay = uintDuration(readUint(v))
			case idSeekPreRoll:
				t.SeekPreRoll = uintDuration(readUint(v))
			case idDefaultDuration:
				t.DefaultDuration = uintDuration(readUint(v))
			case idVideo:
				forEach(v, func(id uint32, v []byte) {
					switch id {
					case idPixelWidth:
						t.PixelWidth = uint32(min(readUint(v), math.MaxUint32))
					case idPixelHeight:
						t.PixelHeight = uint32(min(readUint(v), math.MaxUint32))
					}
				})
			case idAudio:
				forEach(v, func(id uint32, v []byte) {
					switch id {
					case idSamplingFrequency:
						t.SamplingFrequency, _ = ebml.ReadFloat(v)
					case idChannels:
						t.Channels = uint8(min(readUint(v), 255))
					case idBitDepth:
						t.BitDepth = uint8(min(readUint(v), 255))
					}
				})
			}
		})
		h.Tracks = append(h.Tracks, t)
		r.tracks = append(r.tracks, trackInfo{num: t.Number, defDur: int64(t.DefaultDuration)})
	})
}

// parseMeta parses a SeekHead or Cues body.
// readMeta reads a whole metadata element of n bytes (hl of header) and
// returns its body, or skips it and returns nil when it is larger than
// maxMeta. ok is false when the input ends inside it.
func (r *Reader) readMeta(n int64, hl int, size uint64) (body []byte, ok bool) {
	if size > maxMeta {
		return nil, r.skip(n)
	}
	b, ok := r.read(n)
	if !ok {
		return nil, false
	}
	return b[hl:], true
}

func (r *Reader) parseMeta(id uint32, b []byte) {
	if id == idSeekHead {
		n := 0
		forEach(b, func(id uint32, _ []byte) {
			if id == idSeek {
				n++
			}
		})
		if n > 0 {
			r.seekHeads++
		} else {
			r.emptySeekHeads++
		}
		return
	}
	forEach(b, func(id uint32, p []byte) {
		if id != idCuePoint {
			return
		}
		var t uint64
		forEach(p, func(id uint32, v []byte) {
			if id == idCueTime {
				t = readUint(v)
			}
		})
		forEach(p, func(id uint32, v []byte) {
			if id != idCueTrackPositions {
				return
			}
			c := CuePoint{Time: uintDuration(t) * time.Duration(r.scale)}
			if t > math.MaxInt64/uint64(r.scale) {
				c.Time = math.MaxInt64
			}
			forEach(v, func(id uint32, v []byte) {
				switch id {
				case idCueTrack:
					c.Track = readUint(v)
				case idCueClusterPosition:
					c.ClusterPosition = readUint(v)
				case idCueRelativePosition:
					c.RelativePosition = readUint(v)
				}
			})
			r.cues = append(r.cues, c)
		})
	})
}

// nextBlock reads up to the next SimpleBlock or BlockGroup and parses it
// into r.blk.
func (r *Reader) nextBlock() error {
	for {
		pos := r.pos()
		if r.inCluster && r.clusterEnd >= 0 && pos >= r.clusterEnd {
			r.inCluster = false
		}
		if !r.inCluster && r.segEnd >= 0 && pos >= r.segEnd {
			return io.EOF
		}
		limit, container := r.segEnd, r.segOff
		if r.inCluster && r.clusterEnd >= 0 {
			limit, container = r.clusterEnd, r.clusterOff
		}
		if !r.fill(12) && r.w == r.r {
			if r.rerr != nil {
				return r.rerr
			}
			if limit >= 0 {
				return &TruncatedError{Offset: pos, Element: container}
			}
			return io.EOF
		}
		id, size, hl, err := ebml.ReadElementHeader(r.buf[r.r:r.w])
		if err == ebml.ErrShort {
			r.r = r.w
			return r.truncated(pos)
		}
		if err != nil {
			r.resync(pos)
			continue
		}
		known := size != ebml.UnknownSize
		n := int64(hl) + int64(size)
		if known && limit >= 0 && n > limit-pos {
			r.resync(pos)
			continue
		}
		if r.inCluster {
			switch id {
			case idSimpleBlock, idBlockGroup:
				if !known {
					r.resync(pos)
					continue
				}
				elem, ok := r.read(n)
				if !ok {
					return r.truncated(pos)
				}
				if r.parseBlock(elem, pos, hl, id == idSimpleBlock) {
					return nil
				}
				r.addGap(pos, n)
			case idTimestamp:
				if !known || size > 8 {
					r.resync(pos)
					continue
				}
				b, ok := r.read(n)
				if !ok {
					return r.truncated(pos)
				}
				r.clusterTS = int64(min(readUint(b[hl:]), math.MaxInt64/2))
			case idVoid, idCRC32, idPosition, idPrevSize, idSilentTracks, idEncryptedBlock:
				if !known {
					r.resync(pos)
					continue
				}
				if !r.skip(n) {
					return r.truncated(pos)
				}
			default:
				if level1(id) {
					// The end of an unknown-size Cluster, or of a damaged
					// one.
					r.inCluster = false
					continue
				}
				if !known || r.clusterEnd < 0 {
					r.resync(pos)
					continue
				}
				if !r.skip(n) {
					return r.truncated(pos)
				}
			}
			continue
		}
		switch id {
		case idCluster:
			r.r += hl
			r.inCluster = true
			r.clusterOff, r.clusterEnd, r.clusterTS = pos, -1, 0
			if known {
				r.clusterEnd = pos + n
			} else {
				r.unknownClusters++
			}
			r.clusters++
			if r.onCluster != nil {
				r.onCluster(pos)
			}
		case idSimpleBlock, idBlockGroup:
			if r.clusters == 0 {
				r.resync(pos)
				continue
			}
			// A level 1 element (Tags, say) cut an unknown-size Cluster
			// short, or a Cluster was too small: its blocks go on.
			r.inCluster, r.clusterEnd = true, -1
		case idEBML, idSegment:
			// Another file follows; this one ends here.
			r.trailing = pos
			return io.EOF
		case idCues, idSeekHead:
			if !known {
				r.resync(pos)
				continue
			}
			body, ok := r.readMeta(n, hl, size)
			if !ok {
				return r.truncated(pos)
			}
			if body != nil {
				r.parseMeta(id, body)
			}
		default:
			// Info, Tracks, Tags, Chapters, Attachments, Void, CRC-32 and
			// unknown level 1 elements (4-byte IDs) are skipped.
			if !known || (id < 1<<24 && id != idVoid && id != idCRC32) {
				r.resync(pos)
				continue
			}
			if !r.skip(n) {
				return r.truncated(pos)
			}
		}
	}
}

// level1 reports whether id is a Segment child or the start of another
// file: the IDs that end an unknown-size Cluster.
func level1(id uint32) bool {
	switch id {
	case idCluster, idCues, idTags, idSeekHead, idInfo, idTracks, idChapters, idAttachments, idEBML, idSegment:
		return true
	}
	return false
}

func (r *Reader) addGap(off, n int64) {
	r.gapCount++
	r.gapBytes += n
	if len(r.gaps) < maxGaps {
		r.gaps = append(r.gaps, Gap{Offset: off, Size: n})
	}
}

// resync skips input that cannot be parsed, from the element header at
// from (which is in the buffer) to the next plausible Cluster or the end of
// the input.
func (r *Reader) resync(from int64) {
	r.inCluster = false
	r.r++
	for {
		if i := bytes.Index(r.buf[r.r:r.w], clusterMagic); i >= 0 {
			r.r += i
			if r.plausibleCluster() {
				break
			}
			r.r++
			continue
		}
		if r.w-r.r > 3 {
			r.r = r.w - 3
		}
		if !r.fill(r.w - r.r + 1) {
			r.r = r.w
			break
		}
	}
	end := r.pos()
	if r.segEnd >= 0 && end > r.segEnd {
		end = r.segEnd
	}
	if end > from {
		r.addGap(from, end-from)
	}
}

// plausibleCluster reports whether the Cluster ID at buf[r] starts a
// Cluster: a valid size and a Timestamp, CRC-32, Void, Position or
// PrevSize first. At the end of the input it gives the benefit of the doubt.
func (r *Reader) plausibleCluster() bool {
	r.fill(16)
	_, size, hl, err := ebml.ReadElementHeader(r.buf[r.r:r.w])
	if err == ebml.ErrShort {
		return true
	}
	if err != nil || (size != ebml.UnknownSize && size < 2) {
		return false
	}
	id, _, err := ebml.ReadID(r.buf[r.r+hl : r.w])
	if err == ebml.ErrShort {
		return true
	}
	switch id {
	case idTimestamp, idCRC32, idVoid, idPosition, idPrevSize:
		return err == nil
	}
	return false
}

// parseBlock parses the SimpleBlock or BlockGroup elem (header hl bytes
// long) at file offset off into r.blk and reports whether it is valid.
func (r *Reader) parseBlock(elem []byte, off int64, hl int, simple bool) bool {
	b := &r.blk
	*b = rawBlock{elem: elem, off: off, simple: simple, durTk: -1}
	block, bpos := elem[hl:], hl
	b.blockOff = off
	if !simple {
		refs, found := 0, false
		for p := hl; p < len(elem); {
			id, size, h, err := ebml.ReadElementHeader(elem[p:])
			if err != nil || size > uint64(len(elem)-p-h) {
				return false
			}
			v := elem[p+h : p+h+int(size)]
			switch id {
			case idBlock:
				if found {
					return false
				}
				found, block, bpos, b.blockOff = true, v, p+h, off+int64(p)
			case idBlockDuration:
				if d := readUint(v); d <= math.MaxInt64/2 && len(v) <= 8 {
					b.durTk = int64(d)
				}
			case idReferenceBlock:
				refs++
			}
			p += h + int(size)
		}
		if !found {
			return false
		}
		b.key = refs == 0
	}
	track, n, err := ebml.ReadVint(block)
	if err != nil || len(block) < n+3 {
		return false
	}
	rel := int16(uint16(block[n])<<8 | uint16(block[n+1]))
	b.flags = block[n+2]
	b.tsPos = bpos + n
	b.track = track
	b.ticks = r.clusterTS + int64(rel)
	if simple {
		b.key = b.flags&flagKey != 0
	}
	data := block[n+3:]
	r.lace = r.lace[:1]
	r.lace[0] = len(data)
	b.n = 1
	if lacing := b.flags & flagLacing; lacing != 0 {
		if len(data) == 0 {
			return false
		}
		cnt := int(data[0]) + 1
		data = data[1:]
		r.lace = r.lace[:cnt]
		switch lacing {
		case 0x02: // Xiph
			total := 0
			for i := 0; i < cnt-1; i++ {
				sz := 0
				for {
					if len(data) == 0 {
						return false
					}
					c := data[0]
					data = data[1:]
					sz += int(c)
					if c != 255 {
						break
					}
				}
				r.lace[i] = sz
				total += sz
			}
			if total > len(data) {
				return false
			}
			r.lace[cnt-1] = len(data) - total
		case 0x06: // EBML
			total := 0
			if cnt > 1 {
				v, k, err := ebml.ReadVint(data)
				if err != nil || v > uint64(len(data)) {
					return false
				}
				data = data[k:]
				r.lace[0] = int(v)
				total = int(v)
				prev := int64(v)
				for i := 1; i < cnt-1; i++ {
					v, k, err := ebml.ReadVint(data)
					if err != nil {
						return false
					}
					data = data[k:]
					prev += int64(v) - (1<<(7*k-1) - 1)
					if prev < 0 || prev > int64(len(data)) {
						return false
					}
					r.lace[i] = int(prev)
					total += int(prev)
				}
			}
			if total > len(data) {
				return false
			}
			r.lace[cnt-1] = len(data) - total
		default: // fixed-size
			if len(data)%cnt != 0 {
				return false
			}
			for i := range r.lace {
				r.lace[i] = len(data) / cnt
			}
		}
		b.n = cnt
	}
	b.data = data
	r.laceI, r.laceP = 0, 0
	return true
}

// lacedFrame returns the next frame of r.blk.
func (r *Reader) lacedFrame() Frame {
	b := &r.blk
	i := r.laceI
	f := Frame{
		Track:       b.track,
		KeyFrame:    b.key,
		Invisible:   b.flags&flagInvisible != 0,
		Discardable: b.simple && b.flags&flagDiscardable != 0,
		Data:        b.data[r.laceP : r.laceP+r.lace[i]],
		BlockOffset: b.blockOff,
	}
	r.laceP += r.lace[i]
	r.laceI++
	f.Timestamp, f.Duration = r.frameTime(i)
	return f
}

// defaultDuration returns a track's DefaultDuration in ns, 0 if none.
func (r *Reader) defaultDuration(track uint64) int64 {
	for j := range r.tracks {
		if r.tracks[j].num == track {
			return r.tracks[j].defDur
		}
	}
	return 0
}

// frameTime returns the timestamp and duration of frame i of r.blk.
func (r *Reader) frameTime(i int) (ts, dur time.Duration) {
	b := &r.blk
	defDur := r.defaultDuration(b.track)
	ticks := b.ticks
	switch {
	case b.n == 1:
		if b.durTk >= 0 {
			dur = time.Duration(b.durTk * r.scale)
		} else {
			dur = time.Duration(defDur)
		}
	case b.durTk >= 0 || defDur > 0:
		n := int64(b.n)
		total := b.durTk
		if total < 0 {
			total = defDur * n / r.scale
		}
		ticks += total * int64(i) / n
		if b.durTk < 0 {
			dur = time.Duration(defDur)
		} else {
			dur = time.Duration((total*int64(i+1)/n - total*int64(i)/n) * r.scale)
		}
	}
	return time.Duration(ticks * r.scale), dur
}

// forEach calls fn for each child element of a master element body, up to
// the first one that does not parse or fit.
func forEach(b []byte, fn func(id uint32, body []byte)) {
	for len(b) > 0 {
		id, size, hl, err := ebml.ReadElementHeader(b)
		if err != nil || size > uint64(len(b)-hl) {
			return
		}
		fn(id, b[hl:hl+int(size)])
		b = b[hl+int(size):]
	}
}

// readUint decodes an unsigned integer body; bodies longer than 8 bytes
// read as 0.
func readUint(b []byte) uint64 {
	v, _ := ebml.ReadUint(b)
	return v
}

// cstring returns a string element's value without trailing NUL padding.
func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func uintDuration(v uint64) time.Duration {
	return time.Duration(min(v, math.MaxInt64))
}

// floatDuration converts nanoseconds to a Duration, saturating.
func floatDuration(ns float64) time.Duration {
	switch {
	case ns != ns:
		return 0
	case ns >= math.MaxInt64:
		return math.MaxInt64
	case ns <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(ns)
}
