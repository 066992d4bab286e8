package filesource

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/internal/codec"
	"github.com/gomediarecorder/mediarecorder/ogg"
)

// oggTailLen is how much of the end of an Ogg file Duration reads.
const oggTailLen = 64 << 10

// oggPacket is an audio packet held until its timestamp is known.
type oggPacket struct {
	data    []byte
	samples int64
}

// oggSource reads the packets of the first Ogg Opus stream of a file.
//
// Timestamps (RFC 7845 section 4): a page's granule position is the
// sample count at the end of its last packet, pre-skip included. Packets
// are held until the first granule position, which places them; later
// ones follow at their TOC durations. A granule position short of that
// trims the packet (the end trim of the last page); one beyond it is a
// gap (lost pages). After lost or damaged pages the packets are placed
// anew from the next granule position.
type oggSource struct {
	pr      *ogg.PacketReader
	ra      io.ReaderAt
	size    int64
	preSkip int64

	synced bool
	pos    int64 // granule position at the end of the last packet out
	held   []oggPacket
	nheld  int // held[:nheld] are in use
	ready  int // held[:ready] are placed, from granule position heldAt
	out    int // held[out:ready] are not yet returned
	heldAt int64
	err    error
	prevE  error
}

// openOgg finds the first Opus stream among the streams beginning the
// file (their BOS pages come first) and reads its headers. ra holds the
// file's size bytes.
func openOgg(ra io.ReaderAt, size int64) (*openInfo, error) {
	pr := ogg.NewReader(newSizedReader(io.NewSectionReader(ra, 0, size), size).r)
	var start int64 = -1
	var serial uint32
	for {
		off := pr.Offset()
		p, err := pr.NextPage()
		if err == ogg.ErrBadCRC {
			continue
		}
		if err != nil {
			if err == io.EOF {
				break
			}
			if err == io.ErrUnexpectedEOF {
				return nil, truncatedAt(off, "Ogg page")
			}
			if errors.Is(err, ogg.ErrBadPage) {
				err = fmt.Errorf("%w: %w", ErrInvalidFile, err)
			}
			return nil, errAt(off, err)
		}
		if p.Flags&ogg.FlagBOS == 0 {
			break
		}
		if bytes.HasPrefix(p.Body, []byte("OpusHead")) {
			start, serial = off, p.Serial
			break
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("%w: no Opus stream in the Ogg file", ErrUnsupportedCodec)
	}
	s := &oggSource{
		pr:   ogg.NewPacketReader(newSizedReader(io.NewSectionReader(ra, start, size-start), size-start).r),
		ra:   ra,
		size: size,
	}
	pkt, _, err := s.pr.NextPacket()
	if err != nil {
		return nil, s.readErr(err)
	}
	head, err := opus.ParseHead(pkt)
	if err != nil {
		return nil, errAt(start, fmt.Errorf("%w: %w", ErrInvalidFile, err))
	}
	if head.Channels > 2 || head.MappingFamily != 0 && head.StreamCount != 1 {
		return nil, errAt(start, fmt.Errorf("%w: Opus with %d channels in %d streams (mapping family %d)",
			ErrUnsupportedCodec, head.Channels, head.StreamCount, head.MappingFamily))
	}
	s.preSkip = int64(head.PreSkip)
	// OpusTags: its content does not matter here.
	if _, _, err := s.pr.NextPacket(); err != nil {
		if err == io.EOF {
			return nil, errAt(start, fmt.Errorf("%w: Ogg Opus stream without OpusTags", ErrInvalidFile))
		}
		return nil, s.readErr(err)
	}
	info := &openInfo{
		src:    s,
		codecs: []mediarecorder.Codec{{MimeType: codec.Opus.RTPMimeType, ClockRate: codec.Opus.ClockRate, Channels: uint16(head.Channels)}},
	}
	if g, ok := lastGranule(ra, size, serial); ok && g >= s.preSkip {
		info.dur, info.hasDur = opus.SamplesToDuration(g-s.preSkip), true
	}
	return info, nil
}

// lastGranule returns the granule position of the last page of stream
// serial that ends a packet, found in the last oggTailLen bytes.
func lastGranule(ra io.ReaderAt, size int64, serial uint32) (int64, bool) {
	off := max(0, size-oggTailLen)
	b := make([]byte, size-off)
	if n, err := ra.ReadAt(b, off); n < len(b) && err != nil {
		return 0, false
	}
	for end := len(b); ; {
		i := bytes.LastIndex(b[:end], []byte("OggS"))
		if i < 0 {
			return 0, false
		}
		end = i + 3 // the next candidate starts before i
		p := b[i:]
		if len(p) < ogg.HeaderLen || len(p) < ogg.HeaderLen+int(p[26]) {
			continue
		}
		nseg := int(p[26])
		n := ogg.HeaderLen + nseg
		for _, v := range p[ogg.HeaderLen : ogg.HeaderLen+nseg] {
			n += int(v)
		}
		if len(p) < n || p[4] != 0 || binary.LittleEndian.Uint32(p[14:]) != serial ||
			ogg.Checksum(p[:n]) != binary.LittleEndian.Uint32(p[22:]) {
			continue
		}
		if g := int64(binary.LittleEndian.Uint64(p[6:])); g != -1 {
			return g, true
		}
	}
}

// readErr turns an error of the PacketReader into one for the caller,
// with the offset of the cut page for a truncated file.
func (s *oggSource) readErr(err error) error {
	if err == io.EOF {
		return err
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		if errors.Is(err, ogg.ErrBadPage) || errors.Is(err, ogg.ErrPacketTooLarge) || errors.Is(err, ogg.ErrMissingPage) {
			err = fmt.Errorf("%w: %w", ErrInvalidFile, err)
		}
		return err
	}
	// The page that is cut short is the last one that starts in the
	// file; pages are at most ogg.MaxPageLen long.
	off := max(0, s.size-ogg.MaxPageLen)
	b := make([]byte, s.size-off)
	n, _ := s.ra.ReadAt(b, off)
	at := s.size
	if i := bytes.LastIndex(b[:n], []byte("OggS")); i >= 0 {
		at = off + int64(i)
	}
	return truncatedAt(at, "Ogg page")
}

// hold keeps a copy of pkt until its timestamp is known.
func (s *oggSource) hold(pkt []byte) {
	if s.nheld == len(s.held) {
		s.held = append(s.held, oggPacket{})
	}
	h := &s.held[s.nheld]
	h.data = append(h.data[:0], pkt...)
	h.samples = packetSamples(pkt)
	s.nheld++
}

// packetSamples is the TOC duration of pkt, 0 for an invalid packet.
func packetSamples(pkt []byte) int64 {
	n, err := opus.PacketSamples(pkt)
	if err != nil {
		return 0
	}
	return int64(n)
}

func (s *oggSource) next() (sample, error) {
	for {
		if s.out < s.ready {
			h := &s.held[s.out]
			s.out++
			pts := s.heldAt
			s.heldAt += h.samples
			return s.sample(pts, h.samples, h.data), nil
		}
		if s.ready > 0 {
			s.out, s.ready, s.nheld = 0, 0, 0
		}
		if s.err != nil {
			return sample{}, s.err
		}
		pkt, granule, err := s.pr.NextPacket()
		if err != nil {
			final := err == s.prevE && !errors.Is(err, ogg.ErrBadCRC)
			if err == io.EOF || final || errors.Is(err, io.ErrUnexpectedEOF) {
				s.err = s.readErr(err)
				// Packets held without a granule position: place them
				// after what went before.
				s.placeHeld(s.pos)
				continue
			}
			// A lost or damaged page: its packet is dropped; place the
			// packets anew from the next granule position.
			s.prevE = err
			s.placeHeld(s.pos)
			s.synced = false
			continue
		}
		s.prevE = nil
		if !s.synced {
			s.hold(pkt)
			if granule == -1 {
				continue
			}
			var total int64
			for _, h := range s.held[:s.nheld] {
				total += h.samples
			}
			s.placeHeld(max(0, granule-total))
			s.synced = true
			continue
		}
		pts := s.pos
		n := packetSamples(pkt)
		s.pos += n
		if granule != -1 && granule != s.pos {
			if granule < s.pos && granule > pts {
				n = granule - pts // end trim
			}
			s.pos = granule
		}
		return s.sample(pts, n, pkt), nil
	}
}

// placeHeld starts returning the held packets from granule position at.
func (s *oggSource) placeHeld(at int64) {
	s.heldAt, s.out, s.ready = at, 0, s.nheld
	for _, h := range s.held[:s.nheld] {
		at += h.samples
	}
	s.pos = at
}

func (s *oggSource) sample(pos, n int64, data []byte) sample {
	pts := opus.SamplesToDuration(pos - s.preSkip)
	return sample{pts: pts, dur: opus.SamplesToDuration(pos+n-s.preSkip) - pts, data: data}
}
