package ogg

import (
	"fmt"
	"io"
)

// DefaultMaxPacketLen is the longest packet a PacketReader reassembles.
const DefaultMaxPacketLen = 16 << 20

// PacketReader reassembles the packets of one logical stream, the one whose
// page comes first, from the pages of an Ogg stream. Pages of other streams
// are skipped. After the stream's EOS page it returns io.EOF.
type PacketReader struct {
	r      *Reader
	maxLen int
	err    error // sticky

	serial  uint32
	started bool // a page of the stream has been read
	nextSeq uint32
	eos     bool

	page    *Page // current page, nil before the first
	seg     int   // next lacing value to read
	off     int   // body offset of the next packet
	lastEnd int   // index of the lacing value ending the page's last packet, -1 if none

	partial   []byte // start of a packet continued from earlier pages
	inPartial bool
	skipping  bool // dropping the rest of a packet whose start is missing
}

// NewPacketReader returns a PacketReader reading pages from r.
func NewPacketReader(r io.Reader) *PacketReader {
	return &PacketReader{r: NewReader(r), maxLen: DefaultMaxPacketLen}
}

// Serial returns the serial number of the stream being read, 0 before the
// first packet.
func (r *PacketReader) Serial() uint32 { return r.serial }

// NextPacket returns the next packet of the stream. pkt is valid until the
// next call. granule is the page's granule position if pkt is the last
// packet that ends on its page, and -1 otherwise.
//
// The first page may start with the end of a packet from before the
// stream was joined; that fragment is skipped. When pages of the stream are
// lost (a gap in sequence numbers, or a page that should continue a packet
// and does not), the broken packet is dropped and NextPacket returns
// ErrMissingPage or ErrBadPage once, then goes on with the next whole
// packet; so it does after an ErrBadCRC from the Reader. Other errors, such
// as io.ErrUnexpectedEOF for a stream that stops inside a page or a packet,
// ErrBadPage from the Reader and ErrPacketTooLarge, are final.
func (r *PacketReader) NextPacket() (pkt []byte, granule int64, err error) {
	if r.err != nil {
		return nil, 0, r.err
	}
	for {
		if p := r.page; p != nil && r.seg < len(p.Segments) {
			n, i := 0, r.seg
			for ; i < len(p.Segments); i++ {
				n += int(p.Segments[i])
				if p.Segments[i] < 255 {
					break
				}
			}
			data := p.Body[r.off : r.off+n]
			r.off += n
			if i == len(p.Segments) { // continues on the next page
				r.seg = i
				if !r.inPartial {
					r.partial = r.partial[:0]
					r.inPartial = true
				}
				if len(r.partial)+n > r.maxLen {
					return nil, 0, r.fail(fmt.Errorf("%w: over %d bytes", ErrPacketTooLarge, r.maxLen))
				}
				r.partial = append(r.partial, data...)
				continue
			}
			r.seg = i + 1
			if r.inPartial {
				r.inPartial = false
				if len(r.partial)+n > r.maxLen {
					return nil, 0, r.fail(fmt.Errorf("%w: over %d bytes", ErrPacketTooLarge, r.maxLen))
				}
				r.partial = append(r.partial, data...)
				data = r.partial
			}
			granule = -1
			if i == r.lastEnd {
				granule = p.Granule
			}
			return data, granule, nil
		}
		if r.eos {
			if r.inPartial {
				// The EOS page ended inside a packet.
				return nil, 0, r.fail(io.ErrUnexpectedEOF)
			}
			return nil, 0, io.EOF
		}
		if err := r.nextPage(); err != nil {
			return nil, 0, err
		}
	}
}

// fail makes err sticky and returns it.
func (r *PacketReader) fail(err error) error {
	r.err = err
	r.page = nil
	r.inPartial = false
	return err
}

// nextPage moves to the next page of the stream. A non-nil error with
// r.page set reports lost data; the page's packets can still be read.
func (r *PacketReader) nextPage() error {
	r.page = nil
	var p *Page
	for {
		var err error
		p, err = r.r.NextPage()
		if err == ErrBadCRC {
			return err // the Reader has skipped the page
		}
		if err != nil {
			if err == io.EOF && r.inPartial {
				err = io.ErrUnexpectedEOF
			}
			return r.fail(err)
		}
		if !r.started {
			r.serial = p.Serial
		}
		if p.Serial == r.serial {
			break
		}
	}
	r.page, r.seg, r.off = p, 0, 0
	r.lastEnd = -1
	for i, v := range p.Segments {
		if v < 255 {
			r.lastEnd = i
		}
	}
	r.eos = p.Flags&FlagEOS != 0
	continued := p.Flags&FlagContinued != 0
	var err error
	switch {
	case !r.started:
		// Joining a stream: a leading fragment is skipped silently.
	case p.Sequence != r.nextSeq:
		err = fmt.Errorf("%w: page %d where %d was due", ErrMissingPage, p.Sequence, r.nextSeq)
	case r.inPartial && !continued:
		err = fmt.Errorf("%w: page %d does not continue the previous packet", ErrBadPage, p.Sequence)
	case r.skipping && continued:
		// More of a packet already being dropped.
	case !r.inPartial && continued:
		err = fmt.Errorf("%w: page %d continues no packet", ErrBadPage, p.Sequence)
	case r.inPartial && continued:
		// The normal case of a packet spanning pages.
		r.started, r.nextSeq = true, p.Sequence+1
		return nil
	}
	r.started, r.nextSeq = true, p.Sequence+1
	r.inPartial = false
	r.skipping = false
	if continued {
		// Skip the end of a packet whose start we do not have.
		r.skipping = true
		for r.seg < len(p.Segments) {
			v := p.Segments[r.seg]
			r.off += int(v)
			r.seg++
			if v < 255 {
				r.skipping = false
				break
			}
		}
	}
	return err
}
