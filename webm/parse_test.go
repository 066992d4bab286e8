package webm

// A test-only element walker for checking the writer's output byte by byte,
// and an in-memory io.WriteSeeker.

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/ebml"
)

type elem struct {
	id    uint32
	off   int    // position of the ID in the whole file
	hdr   int    // header length
	size  uint64 // ebml.UnknownSize when unknown
	sizeW int    // width of the size field
	end   int    // end of the element
	body  []byte // body of a non-master element
	kids  []*elem
}

func (e *elem) data() int { return e.off + e.hdr }

func (e *elem) find(id uint32) *elem {
	for _, k := range e.kids {
		if k.id == id {
			return k
		}
	}
	return nil
}

func (e *elem) all(id uint32) []*elem {
	var out []*elem
	for _, k := range e.kids {
		if k.id == id {
			out = append(out, k)
		}
	}
	return out
}

func (e *elem) uint(t testing.TB, id uint32) uint64 {
	t.Helper()
	k := e.find(id)
	if k == nil {
		t.Fatalf("element %X has no child %X", e.id, id)
	}
	v, err := ebml.ReadUint(k.body)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (e *elem) str(t testing.TB, id uint32) string {
	t.Helper()
	k := e.find(id)
	if k == nil {
		t.Fatalf("element %X has no child %X", e.id, id)
	}
	return string(k.body)
}

var masterIDs = map[uint32]bool{
	idEBML: true, idSegment: true, idSeekHead: true, idSeek: true, idInfo: true,
	idTracks: true, idTrackEntry: true, idVideo: true, idAudio: true,
	idCluster: true, idCues: true, idCuePoint: true, idCueTrackPositions: true, idBlockGroup: true,
}

// Level 1 elements end an unknown-size Cluster.
var level1IDs = map[uint32]bool{
	idSeekHead: true, idInfo: true, idTracks: true, idCluster: true, idCues: true,
	0x1254C367: true, 0x1043A770: true, 0x1941A469: true,
}

// parseFile parses the whole file into its top-level elements.
func parseFile(b []byte) ([]*elem, error) {
	kids, _, err := parseElems(b, 0, len(b), false)
	return kids, err
}

func parseElems(b []byte, pos, end int, inUnknownCluster bool) ([]*elem, int, error) {
	var out []*elem
	for pos < end {
		id, size, hdr, err := ebml.ReadElementHeader(b[pos:end])
		if err != nil {
			return out, pos, fmt.Errorf("at %d: %w", pos, err)
		}
		if inUnknownCluster && level1IDs[id] {
			return out, pos, nil
		}
		idLen := ebml.IDLen(id)
		e := &elem{id: id, off: pos, hdr: hdr, size: size, sizeW: hdr - idLen}
		if size == ebml.UnknownSize {
			if id != idSegment && id != idCluster {
				return out, pos, fmt.Errorf("element %X at %d has unknown size", id, pos)
			}
			e.kids, e.end, err = parseElems(b, pos+hdr, end, id == idCluster)
			if err != nil {
				return out, pos, err
			}
		} else {
			if size > uint64(end-pos-hdr) {
				return out, pos, fmt.Errorf("element %X at %d: size %d overruns its parent", id, pos, size)
			}
			e.end = pos + hdr + int(size)
			if masterIDs[id] {
				e.kids, _, err = parseElems(b, pos+hdr, e.end, false)
				if err != nil {
					return out, pos, err
				}
			} else {
				e.body = b[pos+hdr : e.end]
			}
		}
		out = append(out, e)
		pos = e.end
	}
	return out, pos, nil
}

// parsed is a parsed writer output.
type parsed struct {
	b        []byte
	ebml     *elem
	segment  *elem
	info     *elem
	tracks   *elem
	clusters []*elem
	cues     *elem
	seekHead *elem
}

func parseOutput(t testing.TB, b []byte) *parsed {
	t.Helper()
	top, err := parseFile(b)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if len(top) != 2 || top[0].id != idEBML || top[1].id != idSegment {
		t.Fatalf("top level: want EBML, Segment; got %d elements", len(top))
	}
	p := &parsed{b: b, ebml: top[0], segment: top[1]}
	p.info = p.segment.find(idInfo)
	p.tracks = p.segment.find(idTracks)
	p.clusters = p.segment.all(idCluster)
	p.cues = p.segment.find(idCues)
	p.seekHead = p.segment.find(idSeekHead)
	if p.info == nil || p.tracks == nil {
		t.Fatal("no Info or Tracks")
	}
	return p
}

type block struct {
	track uint64
	rel   int16
	flags byte
	data  []byte
}

func (c *elem) blocks(t testing.TB) []block {
	t.Helper()
	var out []block
	for _, k := range c.all(idSimpleBlock) {
		num, n, err := ebml.ReadVint(k.body)
		if err != nil || len(k.body) < n+3 {
			t.Fatalf("bad SimpleBlock at %d", k.off)
		}
		out = append(out, block{
			track: num,
			rel:   int16(uint16(k.body[n])<<8 | uint16(k.body[n+1])),
			flags: k.body[n+2],
			data:  k.body[n+3:],
		})
	}
	return out
}

// memFile is an in-memory io.WriteSeeker.
type memFile struct {
	b      []byte
	pos    int64
	writes int
}

func (m *memFile) Write(p []byte) (int, error) {
	m.writes++
	if need := int(m.pos) + len(p); need > len(m.b) {
		m.b = append(m.b, make([]byte, need-len(m.b))...)
	}
	copy(m.b[m.pos:], p)
	m.pos += int64(len(p))
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += m.pos
	case io.SeekEnd:
		off += int64(len(m.b))
	}
	if off < 0 {
		return 0, errors.New("negative position")
	}
	m.pos = off
	return off, nil
}
