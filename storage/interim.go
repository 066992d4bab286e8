package storage

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
)

// The interim objects of an upload, under PREFIX/.interim/KEY/:
//
//   - seg.SNAP (FlushInterval set): at each flush, the byte ranges the
//     writer changed since the previous flush (appended bytes and
//     patches), clipped to what its clean uploaded parts do not hold.
//     SNAP is 16 hex digits, increasing (wall clock based, so a restarted
//     writer continues the order). Applied in SNAP order over the parts,
//     they give the file as it was at the last flush. Segments whose
//     ranges all fall in uploaded parts are deleted as the parts go up.
//   - head (no FlushInterval): a copy of the held-back first part,
//     stored once it is full (again if a later write changes it).
//   - tail: the previous format's copy of the bytes after the parts
//     (8-byte big-endian offset, then the bytes); read, no longer written.
//
//   - index: the marks (S3Writer.MarkUnit) of segments about to be
//     deleted, all marks stored so far: written before the segments
//     holding them are deleted, so that segments and index together
//     always hold every mark. The magic "MRIDX1\n\x00", then the marks
//     (see below).
//
// A segment is the magic "MRSEG2\n\x00", the file size, the part size
// (both 8-byte big-endian), the note's length (4 bytes) and the note
// (S3Writer.SetNote), the number of ranges (4 bytes), then each range's
// offset and length (8 bytes each) and its bytes, then the marks made
// since the previous segment: their number (4 bytes), then each one's
// offset, time and key track (8 bytes each; an offset of -1 says the
// writer's index is void: a truncation dropped marks it had stored).
// The previous format,
// "MRSEG1\n\x00", has no marks (still read; a takeover then lacks the
// index and repairs the whole object).

const (
	segMagic   = "MRSEG2\n\x00"
	segMagicV1 = "MRSEG1\n\x00"
	idxMagic   = "MRIDX1\n\x00"
)

// Mark is an entry of the index an S3Writer keeps of the container's
// units (S3Writer.MarkUnit), from which a takeover builds the Cues
// without downloading the stored parts.
type Mark struct {
	Off  int64  // where the unit (a WebM Cluster, an MP4 traf) starts in the file
	Time int64  // its time in the container's units (a Cluster's Timestamp, a traf's tfdt)
	Key  uint64 // WebM: the track whose key frame the unit starts with (0: none); MP4: mp4.FragmentMark.Key
}

// voidMark, among the marks, says that the writer's index is void (a
// truncation dropped marks it had stored): a takeover must not use it.
var voidMark = Mark{Off: -1}

// appendMarks appends the count and the marks.
func appendMarks(b []byte, ms []Mark) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(ms)))
	for _, m := range ms {
		b = binary.BigEndian.AppendUint64(b, uint64(m.Off))
		b = binary.BigEndian.AppendUint64(b, uint64(m.Time))
		b = binary.BigEndian.AppendUint64(b, m.Key)
	}
	return b
}

// decodeMarks reads what appendMarks wrote, and returns the bytes after.
func decodeMarks(b []byte) ([]Mark, []byte, error) {
	if len(b) < 4 {
		return nil, nil, errBadSegment
	}
	n := int64(binary.BigEndian.Uint32(b))
	b = b[4:]
	if int64(len(b)) < 24*n {
		return nil, nil, errBadSegment
	}
	ms := make([]Mark, 0, n)
	for range n {
		m := Mark{int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint64(b[8:])), binary.BigEndian.Uint64(b[16:])}
		if m.Off < -1 { // -1: voidMark
			return nil, nil, errBadSegment
		}
		ms, b = append(ms, m), b[24:]
	}
	return ms, b, nil
}

// encodeIndex lays out the index object.
func encodeIndex(ms []Mark) []byte {
	return appendMarks(append(make([]byte, 0, len(idxMagic)+4+24*len(ms)), idxMagic...), ms)
}

// decodeIndex reads the index object.
func decodeIndex(b []byte) ([]Mark, error) {
	if len(b) < len(idxMagic) || string(b[:len(idxMagic)]) != idxMagic {
		return nil, errBadSegment
	}
	ms, rest, err := decodeMarks(b[len(idxMagic):])
	if err == nil && len(rest) != 0 {
		err = errBadSegment
	}
	return ms, err
}

// span is the byte range [off, end) of the file.
type span struct{ off, end int64 }

// addSpan adds s to the sorted, disjoint spans ss, merging what touches.
func addSpan(ss []span, s span) []span {
	if s.end <= s.off {
		return ss
	}
	i := 0
	for i < len(ss) && ss[i].end < s.off {
		i++
	}
	j := i
	for j < len(ss) && ss[j].off <= s.end {
		s.off, s.end = min(s.off, ss[j].off), max(s.end, ss[j].end)
		j++
	}
	return slices.Replace(ss, i, j, s)
}

// clipSpans returns the parts of ss inside [0, head) or [from, to).
func clipSpans(ss []span, head, from, to int64) []span {
	var out []span
	for _, s := range ss {
		if a, b := s.off, min(s.end, head, to); a < b {
			out = addSpan(out, span{a, b})
		}
		if a, b := max(s.off, from), min(s.end, to); a < b {
			out = addSpan(out, span{a, b})
		}
	}
	return out
}

// spansLen is the bytes the spans cover.
func spansLen(ss []span) int64 {
	var n int64
	for _, s := range ss {
		n += s.end - s.off
	}
	return n
}

// encodeSegment lays out a segment of spans (whose bytes the caller
// reads into the returned slices, in order) and marks for a file of size
// bytes.
func encodeSegment(size, partSize int64, note []byte, spans []span, marks []Mark) (obj []byte, data [][]byte) {
	return encodeSegmentV(segMagic, size, partSize, note, spans, marks)
}

// encodeSegmentV is encodeSegment in the format of magic (segMagicV1:
// no marks).
func encodeSegmentV(magic string, size, partSize int64, note []byte, spans []span, marks []Mark) (obj []byte, data [][]byte) {
	n := len(magic) + 8 + 8 + 4 + len(note) + 4 + 16*len(spans) + int(spansLen(spans)) + 4 + 24*len(marks)
	b := make([]byte, 0, n) // not from the pool: it holds part-sized buffers
	b = append(b, magic...)
	b = binary.BigEndian.AppendUint64(b, uint64(size))
	b = binary.BigEndian.AppendUint64(b, uint64(partSize))
	b = binary.BigEndian.AppendUint32(b, uint32(len(note)))
	b = append(b, note...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(spans)))
	for _, s := range spans {
		b = binary.BigEndian.AppendUint64(b, uint64(s.off))
		b = binary.BigEndian.AppendUint64(b, uint64(s.end-s.off))
		start := len(b)
		b = b[:start+int(s.end-s.off)]
		data = append(data, b[start:])
	}
	if magic != segMagicV1 {
		b = appendMarks(b, marks)
	}
	return b, data
}

// segment is a decoded segment.
type segment struct {
	size, partSize int64
	note           []byte
	spans          []span
	data           [][]byte
	v1             bool   // the previous format: no marks
	marks          []Mark // v1: none
}

var errBadSegment = errors.New("storage: malformed interim segment")

func decodeSegment(b []byte) (segment, error) {
	var sg segment
	if len(b) < len(segMagic)+24 {
		return sg, errBadSegment
	}
	switch string(b[:len(segMagic)]) {
	case segMagic:
	case segMagicV1:
		sg.v1 = true
	default:
		return sg, errBadSegment
	}
	b = b[len(segMagic):]
	sg.size, sg.partSize = int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint64(b[8:]))
	nl := int64(binary.BigEndian.Uint32(b[16:]))
	b = b[20:]
	if sg.size < 0 || sg.partSize < 0 || int64(len(b)) < nl+4 {
		return sg, errBadSegment
	}
	sg.note, b = b[:nl], b[nl:]
	ns := int(binary.BigEndian.Uint32(b))
	b = b[4:]
	for range ns {
		if len(b) < 16 {
			return sg, errBadSegment
		}
		off, ln := int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint64(b[8:]))
		b = b[16:]
		if off < 0 || ln < 0 || ln > int64(len(b)) || off > sg.size-ln {
			return sg, errBadSegment
		}
		sg.spans = append(sg.spans, span{off, off + ln})
		sg.data, b = append(sg.data, b[:ln]), b[ln:]
	}
	if !sg.v1 {
		var err error
		if sg.marks, b, err = decodeMarks(b); err != nil {
			return sg, err
		}
	}
	if len(b) != 0 {
		return sg, errBadSegment
	}
	return sg, nil
}

// segName is the object name of snapshot snap's segment.
func segName(snap uint64) string { return fmt.Sprintf("seg.%016x", snap) }

// interimPrefix is the raw key prefix of key's interim objects.
func (s *S3) interimPrefix(key string) string { return s.opts.Prefix + ".interim/" + key + "/" }

// interimKey names an interim object of key's upload.
func (s *S3) interimKey(key, what string) string { return s.interimPrefix(key) + what }

// interimNames lists the names of key's interim objects.
func (s *S3) interimNames(ctx context.Context, key string) ([]string, error) {
	var out []string
	p := s.interimPrefix(key)
	// Not recursive: the interim objects of a key "a/b" are not "a"'s.
	for oi := range s.client.ListObjects(ctx, s.opts.Bucket, minio.ListObjectsOptions{Prefix: p}) {
		if oi.Err != nil {
			return nil, oi.Err
		}
		if n := strings.TrimPrefix(oi.Key, p); n != "" && !strings.Contains(n, "/") {
			out = append(out, n)
		}
	}
	return out, nil
}

// removeInterim removes key's interim objects (errors ignored: they are
// garbage once the upload is finished or aborted).
func (s *S3) removeInterim(ctx context.Context, key string) {
	names, err := s.interimNames(ctx, key)
	if err != nil {
		return
	}
	s.removeInterimNames(ctx, key, names)
}

// removeInterimNames removes the named interim objects of key, in one
// request per thousand.
func (s *S3) removeInterimNames(ctx context.Context, key string, names []string) error {
	if len(names) == 0 {
		return nil
	}
	ch := make(chan minio.ObjectInfo, len(names))
	for _, n := range names {
		ch <- minio.ObjectInfo{Key: s.interimKey(key, n)}
	}
	close(ch)
	var first error
	for e := range s.client.RemoveObjects(ctx, s.opts.Bucket, ch, minio.RemoveObjectsOptions{}) {
		if e.Err != nil && !isNotFound(e.Err) && first == nil {
			first = e.Err
		}
	}
	return first
}

// image is the file as the interim objects have it: the ranges they
// cover, applied in order (later ones win).
type image struct {
	size     int64 // the file's size at the last segment (-1: no segment)
	partSize int64 // from the segments (0: unknown)
	note     []byte
	spans    []span   // in the order applied
	data     [][]byte // each span's bytes
	// The marks of the index and the segments, by offset (a later one
	// wins), and whether they are the writer's whole index: no object of
	// a format without marks was found, and some object had marks.
	marks   []Mark
	indexed bool
	void    bool // a voidMark was found
}

// addMarks merges ms into the image's marks (ms win at equal offsets).
func (im *image) addMarks(ms []Mark) {
	for _, m := range ms {
		if m.Off < 0 { // voidMark
			im.void = true
			continue
		}
		i, found := slices.BinarySearchFunc(im.marks, m.Off, func(a Mark, off int64) int {
			return cmp.Compare(a.Off, off)
		})
		if found {
			im.marks[i] = m
		} else {
			im.marks = slices.Insert(im.marks, i, m)
		}
	}
}

// loadImage downloads key's interim objects.
func (s *S3) loadImage(ctx context.Context, key string) (*image, error) {
	names, err := s.interimNames(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("storage: listing the interim objects: %w", err)
	}
	slices.Sort(names) // "head" < "seg.*" < "tail": head, then segments by snapshot
	im := &image{size: -1}
	var tail []byte
	old := false
	for _, n := range names {
		b, err := s.getObject(ctx, s.interimKey(key, n))
		if err != nil {
			return nil, fmt.Errorf("storage: reading the interim %s: %w", n, err)
		}
		if b == nil {
			continue // removed meanwhile (a live writer's garbage collection)
		}
		switch {
		case n == "index":
			ms, err := decodeIndex(b)
			if err != nil {
				return nil, fmt.Errorf("%w: %s", err, n)
			}
			im.addMarks(ms)
			im.indexed = true
		case n == "head":
			old = true
			im.spans, im.data = append(im.spans, span{0, int64(len(b))}), append(im.data, b)
		case n == "tail":
			old = true
			tail = b
		case strings.HasPrefix(n, "seg."):
			if _, err := strconv.ParseUint(n[4:], 16, 64); err != nil {
				continue
			}
			sg, err := decodeSegment(b)
			if err != nil {
				return nil, fmt.Errorf("%w: %s", err, n)
			}
			im.size, im.partSize, im.note = sg.size, sg.partSize, sg.note
			old = old || sg.v1
			if len(sg.marks) > 0 {
				im.addMarks(sg.marks)
				im.indexed = true
			}
			im.spans, im.data = append(im.spans, sg.spans...), append(im.data, sg.data...)
		}
	}
	im.indexed = im.indexed && !old && !im.void
	if tail != nil { // the previous format: after the head
		if len(tail) < 8 {
			return nil, errors.New("storage: interim tail too short")
		}
		off := int64(binary.BigEndian.Uint64(tail))
		if off < 0 || off > 1<<50 {
			return nil, errors.New("storage: interim tail offset out of range")
		}
		im.spans, im.data = append(im.spans, span{off, off + int64(len(tail)-8)}), append(im.data, tail[8:])
	}
	return im, nil
}

// end is where the image's bytes end.
func (im *image) end() int64 {
	if im.size >= 0 {
		return im.size
	}
	var e int64
	for _, s := range im.spans {
		e = max(e, s.end)
	}
	return e
}

// read returns the image's bytes [from, to), or an error if a byte of it
// is not covered.
func (im *image) read(from, to int64) ([]byte, error) {
	if to <= from {
		return nil, nil
	}
	b := make([]byte, to-from)
	var have []span
	for i, s := range im.spans {
		a, e := max(s.off, from), min(s.end, to)
		if a >= e {
			continue
		}
		copy(b[a-from:e-from], im.data[i][a-s.off:e-s.off])
		have = addSpan(have, span{a, e})
	}
	if len(have) != 1 || have[0] != (span{from, to}) {
		return nil, fmt.Errorf("%w: the interim objects lack bytes of %d..%d", ErrIncomplete, from, to)
	}
	return b, nil
}
