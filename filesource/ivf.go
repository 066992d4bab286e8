package filesource

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/codec"
)

// IVF layout: a 32-byte file header, then frames, each after a 12-byte
// header (size u32 LE, pts u64 LE in the file's time base).
const (
	ivfHeaderLen      = 32
	ivfFrameHeaderLen = 12
)

// ivfFrame is one frame read ahead.
type ivfFrame struct {
	data []byte
	pts  int64
	ok   bool
}

// ivfSource reads the frames of an IVF file. A frame's duration is the
// distance to the next frame's pts; the last frame lasts as long as the
// spacing before it (one time-base unit if it is the only frame).
type ivfSource struct {
	r        *byteReader
	num, den uint64 // a pts unit is num/den seconds
	cur, nxt ivfFrame
	started  bool
	spacing  int64
	frames   int
	err      error // what follows nxt once it is used up
	hdr      [ivfFrameHeaderLen]byte
}

// openIVF reads the IVF file header.
func openIVF(r io.Reader) (*openInfo, error) {
	br := newByteReader(r)
	var h [ivfHeaderLen]byte
	err := br.full(h[:])
	if err == io.EOF {
		return nil, ErrEmptyFile
	}
	if br.off >= 4 && string(h[:4]) != "DKIF" {
		return nil, errAt(0, fmt.Errorf("%w: IVF signature %q", ErrInvalidFile, h[:4]))
	}
	if err != nil {
		return nil, truncatedAt(0, "IVF header")
	}
	hlen := int64(binary.LittleEndian.Uint16(h[6:]))
	if hlen < ivfHeaderLen {
		return nil, errAt(6, fmt.Errorf("%w: IVF header length %d", ErrInvalidFile, hlen))
	}
	if err := br.skip(hlen - ivfHeaderLen); err != nil {
		return nil, truncatedAt(0, "IVF header")
	}
	fourcc := string(h[8:12])
	row := codec.ByIVFFourCC(fourcc)
	if row == nil {
		return nil, errAt(8, fmt.Errorf("%w: IVF FourCC %q", ErrUnsupportedCodec, fourcc))
	}
	den := uint64(binary.LittleEndian.Uint32(h[16:]))
	num := uint64(binary.LittleEndian.Uint32(h[20:]))
	if den == 0 || num == 0 {
		return nil, errAt(16, fmt.Errorf("%w: IVF time base %d/%d", ErrInvalidFile, num, den))
	}
	info := &openInfo{
		src:    &ivfSource{r: br, num: num, den: den, spacing: 1},
		codecs: []mediarecorder.Codec{{MimeType: row.RTPMimeType, ClockRate: row.ClockRate}},
	}
	// The length field: ffmpeg writes the duration in time-base units
	// there, libvpx the frame count (the same at one frame per unit).
	if n := binary.LittleEndian.Uint32(h[24:]); n > 0 {
		info.dur, info.hasDur = scaleTime(int64(n), num, den), true
	}
	return info, nil
}

// readFrame reads the next frame into fr. It returns io.EOF at a clean end.
func (s *ivfSource) readFrame(fr *ivfFrame) error {
	fr.ok = false
	start := s.r.off
	if err := s.r.full(s.hdr[:]); err != nil {
		if err == io.EOF {
			return io.EOF
		}
		if err == io.ErrUnexpectedEOF {
			return truncatedAt(start, fmt.Sprintf("frame %d header", s.frames))
		}
		return errAt(start, err)
	}
	size := binary.LittleEndian.Uint32(s.hdr[:])
	if size > maxFrameSize {
		return errAt(start, fmt.Errorf("%w: frame %d of %d bytes", ErrInvalidFile, s.frames, size))
	}
	var err error
	fr.data, err = s.r.view(fr.data, int(size))
	if err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return truncatedAt(start, fmt.Sprintf("frame %d (%d of %d bytes)", s.frames, len(fr.data), size))
		}
		return errAt(start, err)
	}
	fr.pts = int64(binary.LittleEndian.Uint64(s.hdr[4:]))
	fr.ok = true
	s.frames++
	return nil
}

func (s *ivfSource) next() (sample, error) {
	if !s.started {
		s.started = true
		if err := s.readFrame(&s.nxt); err != nil {
			s.err = err
		}
	}
	if !s.nxt.ok {
		return sample{}, s.err
	}
	s.cur, s.nxt = s.nxt, s.cur
	if err := s.readFrame(&s.nxt); err != nil {
		s.err = err
	}
	d := s.spacing
	if s.nxt.ok {
		if delta := s.nxt.pts - s.cur.pts; delta > 0 {
			d, s.spacing = delta, delta
		}
	}
	pts := scaleTime(s.cur.pts, s.num, s.den)
	return sample{pts: pts, dur: scaleTime(s.cur.pts+d, s.num, s.den) - pts, data: s.cur.data}, nil
}
