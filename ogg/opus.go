package ogg

import (
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/opus"
)

// ErrInvalidPacket is opus.ErrInvalidPacket, which WritePacket returns for
// a packet whose duration cannot be read.
var ErrInvalidPacket = opus.ErrInvalidPacket

// DefaultMaxPageDuration is the page duration OpusWriter aims for by
// default, as ffmpeg does.
const DefaultMaxPageDuration = time.Second

// OpusWriterOptions configures an OpusWriter.
type OpusWriterOptions struct {
	// Serial is the stream's serial number; 0 picks a random one.
	Serial uint32
	// MaxPageDuration bounds the audio on one page; 0 means
	// DefaultMaxPageDuration. A page is also closed before it would need
	// more than 255 lacing values (at most 65025 bytes of data).
	MaxPageDuration time.Duration
}

// OpusWriter writes an Ogg Opus stream (RFC 7845) to an io.Writer. Each
// page goes out in a single Write call. It is not safe for concurrent use.
//
// Granule positions follow the media timeline given to WritePacket: the
// granule at the end of a packet is PreSkip + the packet's start in 48 kHz
// samples + its duration.
type OpusWriter struct {
	w        io.Writer
	serial   uint32
	seq      uint32
	preSkip  int64
	maxPage  int64 // samples
	err      error // sticky
	closed   bool
	packets  int64
	lastFrom int64 // media sample where the most recent packet starts
	end      int64 // media sample where the most recent packet ends

	// The page being filled. Its body lives in buf[hdrSpace:], so that the
	// header and lacing values can be put in front of it for one Write.
	buf       []byte
	segs      [MaxSegments]byte
	nseg      int
	bodyLen   int
	continued bool  // the page starts with the rest of an earlier packet
	granule   int64 // granule of the last packet ending on the page, -1 if none
	pageFrom  int64 // media sample where the page's first whole packet starts, or noSample

	// Where the most recent packet starts on the page (cutSeg < 0: on an
	// earlier page), and the page granule without it, for Flush.
	cutSeg, cutBody int
	cutGranule      int64
}

// hdrSpace is room for a page header and 255 lacing values.
const hdrSpace = HeaderLen + MaxSegments

// noSample marks an unset sample position.
const noSample = math.MinInt64

// NewOpusWriter writes the header pages of an Ogg Opus stream to w and
// returns a writer for its audio: page 0 (BOS) holds exactly head, then
// tags starts page 1; both have granule position 0. It returns head's or
// tags' marshalling error, or w's.
func NewOpusWriter(w io.Writer, head opus.Head, tags opus.Tags, opt OpusWriterOptions) (*OpusWriter, error) {
	hb, err := head.MarshalBinary()
	if err != nil {
		return nil, err
	}
	tb, err := tags.MarshalBinary()
	if err != nil {
		return nil, err
	}
	ow := &OpusWriter{
		w:        w,
		serial:   opt.Serial,
		preSkip:  int64(head.PreSkip),
		buf:      make([]byte, hdrSpace+MaxBodyLen),
		granule:  -1,
		pageFrom: noSample,
		cutSeg:   -1,
		// The first packet may start before media time 0, by up to the
		// pre-skip: its granule position can't go below 0.
		end: -int64(head.PreSkip),
	}
	if ow.serial == 0 {
		ow.serial = rand.Uint32()
	}
	d := opt.MaxPageDuration
	if d <= 0 {
		d = DefaultMaxPageDuration
	}
	ow.maxPage = opus.DurationToSamples(d)
	if err := ow.writeHeaderPacket(hb, FlagBOS); err != nil {
		return nil, err
	}
	if err := ow.writeHeaderPacket(tb, 0); err != nil {
		return nil, err
	}
	return ow, nil
}

// writeHeaderPacket writes pkt alone on as many pages as it needs, all with
// granule position 0.
func (w *OpusWriter) writeHeaderPacket(pkt []byte, flags uint8) error {
	for {
		n := min(len(pkt), MaxBodyLen)
		w.bodyLen = copy(w.buf[hdrSpace:], pkt[:n])
		pkt = pkt[n:]
		w.nseg = 0
		for m := n; m >= 255; m -= 255 {
			w.segs[w.nseg] = 255
			w.nseg++
		}
		if w.nseg < MaxSegments {
			w.segs[w.nseg] = byte(n % 255)
			w.nseg++
		}
		if err := w.emit(w.nseg, w.bodyLen, 0, flags); err != nil {
			return err
		}
		if w.segs[w.nseg-1] < 255 {
			break
		}
		flags = FlagContinued
	}
	w.nseg, w.bodyLen = 0, 0
	return nil
}

// WritePacket adds one Opus packet whose first decoded sample sits at pts
// on the media timeline, where 0 is the first sample after the pre-skip:
// the granule position at the end of the packet is
// PreSkip + round(pts*48 kHz) + its duration. A pts earlier than the end of
// the previous packet is moved to that end, so granule positions always
// increase; the first packet may start as early as -PreSkip.
//
// An encoder's first packet holds the pre-skip samples, so the packets of
// a stream that starts at 0 have pts = (samples before them) - PreSkip,
// which is how encoders and ffmpeg write Ogg Opus. Giving the first packet
// pts 0 instead starts the audio PreSkip samples late.
//
// A packet whose duration cannot be read returns an error matching
// opus.ErrInvalidPacket, and nothing is written. Full pages are written as
// they fill up.
func (w *OpusWriter) WritePacket(pkt []byte, pts time.Duration) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrClosed
	}
	samples, err := opus.PacketSamples(pkt)
	if err != nil {
		return err
	}
	from := max(opus.DurationToSamples(pts), w.end)
	end := from + int64(samples)

	lacing := len(pkt)/255 + 1
	if w.nseg > 0 && (w.nseg+lacing > MaxSegments || w.pageFrom != noSample && end-w.pageFrom > w.maxPage) {
		if err := w.emitPage(0); err != nil {
			return err
		}
	}
	if w.pageFrom == noSample {
		w.pageFrom = from
	}
	w.cutSeg, w.cutBody, w.cutGranule = w.nseg, w.bodyLen, w.granule
	for {
		room := MaxSegments - w.nseg
		if len(pkt)/255 < room {
			// The rest of the packet ends on this page.
			for len(pkt) >= 255 {
				w.add(pkt[:255])
				pkt = pkt[255:]
			}
			w.add(pkt)
			break
		}
		for range room {
			w.add(pkt[:255])
			pkt = pkt[255:]
		}
		if err := w.emitPage(0); err != nil {
			return err
		}
		w.continued = true
		w.cutSeg = -1
	}
	w.granule = w.preSkip + end
	w.lastFrom, w.end = from, end
	w.packets++
	return nil
}

// add appends one segment (at most 255 bytes) to the page.
func (w *OpusWriter) add(seg []byte) {
	w.segs[w.nseg] = byte(len(seg))
	w.nseg++
	w.bodyLen += copy(w.buf[hdrSpace+w.bodyLen:], seg)
}

// emitPage writes the whole current page and starts an empty one.
func (w *OpusWriter) emitPage(flags uint8) error {
	if w.continued {
		flags |= FlagContinued
	}
	if err := w.emit(w.nseg, w.bodyLen, w.granule, flags); err != nil {
		return err
	}
	w.nseg, w.bodyLen = 0, 0
	w.continued = false
	w.granule = -1
	w.pageFrom = noSample
	w.cutSeg, w.cutBody, w.cutGranule = -1, 0, -1
	return nil
}

// emit writes a page made of the first nseg lacing values and bodyLen
// bytes of the current page.
func (w *OpusWriter) emit(nseg, bodyLen int, granule int64, flags uint8) error {
	hs := hdrSpace - nseg - HeaderLen
	appendHeader(w.buf[hs:hs], flags, granule, w.serial, w.seq, nseg) // in place, before the lacing values
	copy(w.buf[hdrSpace-nseg:hdrSpace], w.segs[:nseg])
	page := w.buf[hs : hdrSpace+bodyLen]
	binary.LittleEndian.PutUint32(page[22:], Checksum(page))
	w.seq++
	if _, err := w.w.Write(page); err != nil {
		w.err = err
		return err
	}
	return nil
}

// Flush writes every pending packet except the most recent one on complete
// pages, so that after it every byte written to the underlying writer
// belongs to a whole page. The most recent packet stays pending so that
// Close can mark a page that carries audio as the end of the stream. Flush
// writes nothing when at most one packet is pending.
func (w *OpusWriter) Flush() error {
	if w.err != nil || w.closed {
		return w.err
	}
	if w.cutSeg <= 0 {
		return nil
	}
	if err := w.emit(w.cutSeg, w.cutBody, w.cutGranule, w.flags()); err != nil {
		return err
	}
	w.nseg = copy(w.segs[:], w.segs[w.cutSeg:w.nseg])
	w.bodyLen = copy(w.buf[hdrSpace:], w.buf[hdrSpace+w.cutBody:hdrSpace+w.bodyLen])
	w.continued = false
	w.pageFrom = w.lastFrom
	w.cutSeg, w.cutBody, w.cutGranule = 0, 0, -1
	return nil
}

// flags returns the continued flag of the current page.
func (w *OpusWriter) flags() uint8 {
	if w.continued {
		return FlagContinued
	}
	return 0
}

// Close writes the pending packets on a last page marked EOS. A stream
// without packets gets an empty EOS page with granule position PreSkip.
// Close does not close the underlying writer. Calling it again returns the
// first call's result.
func (w *OpusWriter) Close() error {
	return w.close(false, 0)
}

// CloseAt is Close with end trimming (RFC 7845 section 4.4): the stream
// ends at end on the media timeline, and decoders drop the decoded samples
// after it. end is kept within the last packet, which must keep at least
// one sample; an end after the last packet trims nothing.
func (w *OpusWriter) CloseAt(end time.Duration) error {
	return w.close(true, opus.DurationToSamples(end))
}

func (w *OpusWriter) close(trim bool, end int64) error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.packets == 0 {
		w.granule = w.preSkip
		return w.emitPage(FlagEOS)
	}
	if trim && end < w.end {
		w.end = max(end, w.lastFrom+1)
		w.granule = w.preSkip + w.end
	}
	return w.emitPage(FlagEOS)
}

// Duration returns the media time written so far: the end of the last
// packet, or the trimmed end after CloseAt; 0 before the first packet.
func (w *OpusWriter) Duration() time.Duration {
	if w.packets == 0 {
		return 0
	}
	return opus.SamplesToDuration(w.end)
}

// Serial returns the stream's serial number.
func (w *OpusWriter) Serial() uint32 { return w.serial }
