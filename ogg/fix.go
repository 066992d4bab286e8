package ogg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrNotOgg is returned by Fix when its input does not start with a whole
// Ogg page.
var ErrNotOgg = errors.New("ogg: not an Ogg stream")

// FixReport says what Fix found and did.
type FixReport struct {
	// Duration is the media time at the final granule position: for Opus,
	// (granule - pre-skip) / 48000; for Vorbis, granule / rate. The longest
	// stream's.
	Duration time.Duration
	Pages    int   // pages written
	Kept     int64 // input bytes kept: the whole pages up to the last good one
	Size     int64 // bytes written (Kept, less the part of a packet cut off)
	// Truncated is set when the input ended inside a page, or a page's
	// checksum was wrong; TruncatedAt is where the whole pages end.
	Truncated   bool
	TruncatedAt int64
	Problems    []string
}

// fixPage is a page read by Fix that may still change.
type fixPage struct {
	Page
	idx int
}

// fixStream is one logical stream seen by Fix.
type fixStream struct {
	lastDone int   // index of its last page where a packet ends, -1 none
	granule  int64 // granule of that page
	eos      bool
	rate     int64 // granules per second; 0 unknown
	preSkip  int64
}

// Fix finishes an Ogg stream that was cut off (a recording whose writer was
// killed): it copies every whole page with a valid checksum up to the first
// that is not, drops the pages that hold only the start of a packet that
// never ended, cuts that part of a packet off the last page of each
// logical stream, and marks that page end-of-stream, so its granule
// position is the stream's final one. No packet that ended changes.
//
// The error is ErrNotOgg when src does not start with a whole, valid page,
// or a read or write error.
func Fix(dst io.Writer, src io.Reader) (FixReport, error) {
	var rep FixReport
	r := NewReader(src)
	streams := map[uint32]*fixStream{}
	var held []fixPage // pages not written yet, in input order
	var out []byte
	n := 0
	write := func(p *Page) error {
		var err error
		out, err = p.AppendBinary(out[:0])
		if err != nil {
			return err
		}
		if _, err := dst.Write(out); err != nil {
			return err
		}
		rep.Pages++
		rep.Size += int64(len(out))
		return nil
	}
read:
	for {
		p, err := r.NextPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			if n == 0 {
				if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrBadCRC) || errors.Is(err, ErrBadPage) {
					return rep, fmt.Errorf("%w: %v", ErrNotOgg, err)
				}
				return rep, err
			}
			switch {
			case errors.Is(err, io.ErrUnexpectedEOF):
				rep.Problems = append(rep.Problems, fmt.Sprintf("truncated at byte %d: a partial page", rep.Kept))
			case errors.Is(err, ErrBadCRC), errors.Is(err, ErrBadPage):
				rep.Problems = append(rep.Problems, fmt.Sprintf("byte %d: %v: the rest is dropped", rep.Kept, err))
			default:
				return rep, err
			}
			rep.Truncated, rep.TruncatedAt = true, rep.Kept
			break read
		}
		rep.Kept = r.Offset()
		s := streams[p.Serial]
		if s == nil {
			s = &fixStream{lastDone: -1}
			streams[p.Serial] = s
			if p.Flags&FlagBOS != 0 {
				s.rate, s.preSkip = headRate(p.Body)
			}
		}
		c := fixPage{Page: *p, idx: n}
		c.Segments, c.Body = bytes.Clone(p.Segments), bytes.Clone(p.Body)
		held = append(held, c)
		if p.Granule != -1 {
			s.lastDone, s.granule = n, p.Granule
		}
		s.eos = p.Flags&FlagEOS != 0
		n++
		// Write the pages that no longer can be the last of their
		// stream (a packet ends on a later page of it), or are already.
		k := 0
		for ; k < len(held); k++ {
			h := &held[k]
			hs := streams[h.Serial]
			if h.idx >= hs.lastDone && h.Flags&FlagEOS == 0 {
				break
			}
			if err := write(&h.Page); err != nil {
				return rep, err
			}
		}
		held = held[:copy(held, held[k:])]
	}
	if n == 0 {
		return rep, fmt.Errorf("%w: no page", ErrNotOgg)
	}
	for i := range held {
		h := &held[i]
		s := streams[h.Serial]
		switch {
		case h.Flags&FlagEOS != 0:
		case h.idx > s.lastDone:
			continue // only the start of a packet that never ended
		case h.idx == s.lastDone && !s.eos:
			// Cut the packet that continues on a lost page, and end the
			// stream here.
			segs, body, sum := 0, 0, 0
			for j, v := range h.Segments {
				sum += int(v)
				if v < 255 {
					segs, body = j+1, sum
				}
			}
			if segs < len(h.Segments) {
				rep.Problems = append(rep.Problems, fmt.Sprintf("stream %08x: a packet cut off", h.Serial))
			}
			h.Segments, h.Body = h.Segments[:segs], h.Body[:body]
			h.Flags |= FlagEOS
		}
		if err := write(&h.Page); err != nil {
			return rep, err
		}
	}
	for _, s := range streams {
		if s.rate > 0 && s.lastDone >= 0 {
			g := max(s.granule-s.preSkip, 0)
			rep.Duration = max(rep.Duration, time.Duration(g/s.rate)*time.Second+time.Duration(g%s.rate)*time.Second/time.Duration(s.rate))
		}
	}
	return rep, nil
}

// headRate returns the granule rate and pre-skip of a stream from its
// first packet: Opus (48000, its pre-skip) or Vorbis (its sample rate).
func headRate(b []byte) (rate, preSkip int64) {
	switch {
	case len(b) >= 19 && string(b[:8]) == "OpusHead":
		return 48000, int64(binary.LittleEndian.Uint16(b[10:]))
	case len(b) >= 16 && string(b[:7]) == "\x01vorbis":
		return int64(binary.LittleEndian.Uint32(b[12:])), 0
	}
	return 0, 0
}
