package webm

import (
	"errors"
	"fmt"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/ebml"
)

// ErrNotLive is returned by FinishLive for bytes that are not the start of
// a live file as the Writer writes it (EBML header, a Segment of unknown
// size, the reserved SeekHead Void, Info with its Duration Void, Tracks),
// or an index of Clusters that does not match the bytes.
var ErrNotLive = errors.New("webm: not a live Writer stream, or its index does not match")

// ClusterMark is one Cluster of a file the Writer wrote, as a
// ClusterMarker was told.
type ClusterMark struct {
	Offset    int64  // where the Cluster's ID is in the file
	Timestamp int64  // its Timestamp, in TimestampScale units
	CueTrack  uint64 // the track whose key frame it starts with; 0: none
}

// FinishLive finishes in place a file the Writer (Seekable) was writing
// when it stopped short, of which the caller has only the first bytes
// (head: from the file's start, through Tracks and the Clusters that
// follow them) and the last ones (tail: from file offset tailOff to the
// end of what was written), with the index of every Cluster (clusters,
// by offset, as a ClusterMarker was told). The bytes in between are not
// needed and stay as they are.
//
// It returns head with the Segment size, the SeekHead and Duration filled
// in (the same length; the Cluster sizes in it patched from the index),
// and tail cut after the last whole block of its last Cluster (that
// Cluster's size set), with Cues appended: head + the bytes between +
// newTail is a finished, seekable file, as the Writer's Close makes. dur
// is its Duration. The last Cluster must start in tail (else
// ErrNotLive: the caller repairs the whole file with Fix). The Cues
// point to the Clusters that start with a key frame of the cue track.
func FinishLive(head []byte, tailOff int64, tail []byte, clusters []ClusterMark) (newHead, newTail []byte, dur time.Duration, err error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrNotLive, fmt.Sprintf(format, a...))
	}
	// The EBML header and the Segment of unknown size.
	id, size, hl, err := ebml.ReadElementHeader(head)
	if err != nil || id != idEBML || size > uint64(len(head)) {
		return nil, nil, 0, bad("no EBML header")
	}
	p := hl + int(size)
	if len(head) < p+12 {
		return nil, nil, 0, bad("head too short")
	}
	if id, _, err := ebml.ReadID(head[p:]); err != nil || id != idSegment || [8]byte(head[p+4:p+12]) != ebml.UnknownSize8 {
		return nil, nil, 0, bad("no Segment of unknown size")
	}
	segData := p + 12
	// The SeekHead's Void, Info, Tracks.
	if id, size, hl, err := ebml.ReadElementHeader(head[segData:]); err != nil || id != idVoid || hl+int(size) != seekHeadReserve {
		return nil, nil, 0, bad("no reserved SeekHead")
	}
	infoOff := segData + seekHeadReserve
	id, size, hl, err = ebml.ReadElementHeader(head[infoOff:])
	if err != nil || id != idInfo || uint64(len(head)-infoOff-hl) < size {
		return nil, nil, 0, bad("no Info")
	}
	infoBody := infoOff + hl
	tracksOff := infoBody + int(size)
	scale, durOff := int64(1_000_000), -1
	for q := infoBody; q < tracksOff; {
		cid, csize, chl, err := ebml.ReadElementHeader(head[q:])
		if err != nil || csize > uint64(tracksOff-q-chl) {
			return nil, nil, 0, bad("bad Info")
		}
		switch body := head[q+chl : q+chl+int(csize)]; cid {
		case idTimestampScale:
			v, _ := ebml.ReadUint(body)
			if v == 0 || v > uint64(time.Second) {
				return nil, nil, 0, bad("TimestampScale %d", v)
			}
			scale = int64(v)
		case idVoid:
			if chl+int(csize) == durationLen {
				durOff = q
			}
		case idDuration:
			return nil, nil, 0, bad("Duration already set: not a live stream")
		}
		q += chl + int(csize)
	}
	if durOff < 0 {
		return nil, nil, 0, bad("no Duration Void")
	}
	id, size, hl, err = ebml.ReadElementHeader(head[tracksOff:])
	if err != nil || id != idTracks || uint64(len(head)-tracksOff-hl) < size {
		return nil, nil, 0, bad("no Tracks")
	}
	firstCluster := int64(tracksOff + hl + int(size))

	// The index against the bytes at hand.
	if len(clusters) == 0 || clusters[0].Offset != firstCluster {
		return nil, nil, 0, bad("the index does not start after Tracks")
	}
	for i := 1; i < len(clusters); i++ {
		if clusters[i].Offset < clusters[i-1].Offset+clusterHeaderLen {
			return nil, nil, 0, bad("the index is not in order")
		}
	}
	tailEnd := tailOff + int64(len(tail))
	if tailOff < int64(len(head)) {
		return nil, nil, 0, bad("tail at %d overlaps the head (%d bytes)", tailOff, len(head))
	}
	newHead, newTail = append([]byte(nil), head...), append([]byte(nil), tail...)
	// at returns the bytes at file offset off (n of them), if at hand.
	at := func(off int64, n int) []byte {
		switch {
		case off >= 0 && off+int64(n) <= int64(len(newHead)):
			return newHead[off : off+int64(n)]
		case off >= tailOff && off+int64(n) <= tailEnd:
			return newTail[off-tailOff : off-tailOff+int64(n)]
		}
		return nil
	}
	// Each Cluster at hand must be where the index says.
	for _, c := range clusters {
		h := at(c.Offset, clusterHeaderLen+1)
		if h == nil {
			continue // in the parts between
		}
		if id, _, err := ebml.ReadID(h); err != nil || id != idCluster || h[4] != 0x01 || h[12] != idTimestamp {
			return nil, nil, 0, bad("no Cluster at %d", c.Offset)
		}
		if t := at(c.Offset+clusterHeaderLen, uintLen(idTimestamp, uint64(c.Timestamp))); t != nil {
			_, sz, thl, err := ebml.ReadElementHeader(t)
			v, _ := ebml.ReadUint(t[min(thl, len(t)):min(thl+int(sz), len(t))])
			if err != nil || v != uint64(c.Timestamp) {
				return nil, nil, 0, bad("the Cluster at %d is not at %d", c.Offset, c.Timestamp)
			}
		}
	}
	// Drop the index entries past the bytes, and Clusters with no whole
	// block at the end; cut after the last whole block.
	var cut int64
	var last time.Duration
	for {
		n := len(clusters)
		for n > 0 && clusters[n-1].Offset+clusterHeaderLen > tailEnd {
			n--
		}
		clusters = clusters[:n]
		if n == 0 || clusters[n-1].Offset < tailOff {
			return nil, nil, 0, bad("the last Cluster does not start in the tail")
		}
		c := clusters[n-1]
		var ok bool
		cut, last, ok = lastBlocks(newTail[c.Offset-tailOff:], c.Timestamp, scale)
		if ok {
			cut += c.Offset
			break
		}
		clusters = clusters[:n-1]
		tailEnd = c.Offset
	}
	newTail = newTail[:cut-tailOff]
	// Each Cluster's size, from the index (in case its patch never came).
	for i, c := range clusters {
		if h := at(c.Offset, clusterHeaderLen); h != nil {
			end := cut
			if i+1 < len(clusters) {
				end = clusters[i+1].Offset
			}
			ebml.AppendSizeN(h[4:4:12], uint64(end-c.Offset-clusterHeaderLen), 8)
		}
	}
	// Cues after the last Cluster, then the header.
	var cues []cuePoint
	for _, c := range clusters {
		if c.CueTrack != 0 && c.Timestamp >= 0 {
			cues = append(cues, cuePoint{time: uint64(c.Timestamp), track: c.CueTrack,
				cPos: uint64(c.Offset - int64(segData)), relPos: uint64(uintLen(idTimestamp, uint64(c.Timestamp)))})
		}
	}
	cuesOff := int64(-1)
	if len(cues) > 0 {
		cuesOff = cut
		w := &Writer{cues: cues}
		newTail = w.appendCues(newTail)
	}
	end := tailOff + int64(len(newTail))
	b := ebml.AppendSizeN(nil, uint64(end-int64(segData)), 8)
	var sh []byte
	sh = appendSeek(sh, idInfo, uint64(infoOff-segData))
	sh = appendSeek(sh, idTracks, uint64(tracksOff-segData))
	if cuesOff >= 0 {
		sh = appendSeek(sh, idCues, uint64(cuesOff-int64(segData)))
	}
	b = ebml.AppendMaster(b, idSeekHead, uint64(len(sh)))
	b = append(b, sh...)
	b = ebml.AppendVoid(b, seekHeadReserve+8-len(b))
	copy(newHead[segData-8:], b)
	copy(newHead[durOff:], ebml.AppendFloat(nil, idDuration, float64(last)/float64(scale)))
	return newHead, newTail, last, nil
}

// lastBlocks reads the Cluster at the start of b (at Timestamp ts, in
// units of scale ns) up to the end of its last whole block: it returns
// that end (from the Cluster's start) and the end of the latest frame
// (its timestamp plus its BlockDuration, else the gap to the track's
// frame before it in the Cluster); ok is false without a whole block.
func lastBlocks(b []byte, ts, scale int64) (end int64, last time.Duration, ok bool) {
	if len(b) < clusterHeaderLen {
		return 0, 0, false
	}
	type track struct{ prev, last, dur int64 }
	tracks := map[uint64]*track{}
	q := clusterHeaderLen
	for q < len(b) {
		id, size, hl, err := ebml.ReadElementHeader(b[q:])
		if err != nil || size > uint64(len(b)-q-hl) {
			break
		}
		body := b[q+hl : q+hl+int(size)]
		q += hl + int(size)
		var block []byte
		var bdur int64 = -1
		switch id {
		case idTimestamp:
			continue
		case idSimpleBlock:
			block = body
		case idBlockGroup:
			for r := 0; r < len(body); {
				cid, cs, chl, err := ebml.ReadElementHeader(body[r:])
				if err != nil || cs > uint64(len(body)-r-chl) {
					break
				}
				switch cid {
				case idBlock:
					block = body[r+chl : r+chl+int(cs)]
				case idBlockDuration:
					v, _ := ebml.ReadUint(body[r+chl : r+chl+int(cs)])
					bdur = int64(min(v, 1<<40))
				}
				r += chl + int(cs)
			}
		default:
			continue // Void, CRC-32: kept
		}
		num, n, err := ebml.ReadVint(block)
		if err != nil || len(block) < n+3 {
			continue
		}
		t := ts + int64(int16(uint16(block[n])<<8|uint16(block[n+1])))
		tr := tracks[num]
		if tr == nil {
			tr = &track{prev: -1, last: t}
			tracks[num] = tr
		} else {
			tr.prev = tr.last
			tr.last = max(tr.last, t)
		}
		tr.dur = 0
		switch {
		case bdur >= 0:
			tr.dur = bdur
		case tr.prev >= 0 && t > tr.prev:
			tr.dur = t - tr.prev
		}
		end, ok = int64(q), true
	}
	var l int64
	for _, tr := range tracks {
		l = max(l, tr.last+tr.dur)
	}
	return end, time.Duration(l * scale), ok
}
