package filesource

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/codec"
)

// WAV format tags.
const (
	wavFormatPCM        = 1
	wavFormatExtensible = 0xfffe
)

// wavSubtypeTail is the KSDATAFORMAT_SUBTYPE GUID after its first two
// bytes (the format tag): xxxx0000-0000-0010-8000-00aa00389b71.
var wavSubtypeTail = [14]byte{0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71}

// wavUnknownSize is the data size of a WAV written to a stream.
const wavUnknownSize = 0xffffffff

// wavSource cuts the data chunk of a 16-bit PCM WAV file into samples.
type wavSource struct {
	r          *byteReader
	rate       uint64
	blockAlign int
	chunk      int   // bytes per sample, a multiple of blockAlign
	remaining  int64 // data bytes left; -1 until the end of the file
	dataSize   int64
	frames     int64 // sample frames fed so far
	buf        []byte
	err        error // pending, after the last whole blocks
}

// openWAV reads the RIFF header and the chunks up to the data chunk.
// size is the file size, or -1 when unknown.
func openWAV(r io.Reader, size int64, chunkDur time.Duration) (*openInfo, error) {
	br := newByteReader(r)
	var h [12]byte
	if err := br.full(h[:]); err != nil {
		if err == io.EOF {
			return nil, ErrEmptyFile
		}
		return nil, truncatedAt(0, "RIFF header")
	}
	if string(h[:4]) != "RIFF" || string(h[8:12]) != "WAVE" {
		return nil, errAt(0, fmt.Errorf("%w: no RIFF WAVE header", ErrInvalidFile))
	}
	var (
		haveFmt               bool
		channels, bits, align int
		rate                  uint32
		chunkHdr              [8]byte
		fmtBuf                [64]byte
	)
	for {
		start := br.off
		if err := br.full(chunkHdr[:]); err != nil {
			if err == io.EOF {
				if !haveFmt {
					return nil, errAt(start, fmt.Errorf("%w: no fmt chunk", ErrInvalidFile))
				}
				return nil, errAt(start, fmt.Errorf("%w: no data chunk", ErrInvalidFile))
			}
			return nil, truncatedAt(start, "chunk header")
		}
		id := string(chunkHdr[:4])
		n := int64(binary.LittleEndian.Uint32(chunkHdr[4:]))
		switch id {
		case "fmt ":
			if n < 16 {
				return nil, errAt(start, fmt.Errorf("%w: %d-byte fmt chunk", ErrInvalidFile, n))
			}
			b := fmtBuf[:min(n, int64(len(fmtBuf)))]
			if err := br.full(b); err != nil {
				return nil, truncatedAt(start, "fmt chunk")
			}
			if err := br.skip(n - int64(len(b)) + n&1); err != nil {
				return nil, truncatedAt(start, "fmt chunk")
			}
			tag := binary.LittleEndian.Uint16(b)
			channels = int(binary.LittleEndian.Uint16(b[2:]))
			rate = binary.LittleEndian.Uint32(b[4:])
			align = int(binary.LittleEndian.Uint16(b[12:]))
			bits = int(binary.LittleEndian.Uint16(b[14:]))
			if tag == wavFormatExtensible {
				if len(b) < 40 || [14]byte(b[26:40]) != wavSubtypeTail {
					return nil, errAt(start, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE without a known subformat", ErrUnsupportedCodec))
				}
				tag = binary.LittleEndian.Uint16(b[24:])
			}
			if tag != wavFormatPCM {
				return nil, errAt(start, fmt.Errorf("%w: WAV format tag %#x (%s), want 16-bit PCM", ErrUnsupportedCodec, tag, wavFormatName(tag)))
			}
			if bits != 16 {
				return nil, errAt(start, fmt.Errorf("%w: %d-bit WAV PCM, want 16-bit", ErrUnsupportedCodec, bits))
			}
			if channels == 0 || channels > 255 || rate == 0 || align != 2*channels {
				return nil, errAt(start, fmt.Errorf("%w: WAV with %d channels at %d Hz, block align %d", ErrInvalidFile, channels, rate, align))
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, errAt(start, fmt.Errorf("%w: data chunk before the fmt chunk", ErrInvalidFile))
			}
			s := &wavSource{r: br, rate: uint64(rate), blockAlign: align, remaining: n, dataSize: n}
			if n == wavUnknownSize {
				s.remaining, s.dataSize = -1, -1
			}
			frames := int64(rate) * int64(chunkDur) / int64(time.Second)
			frames = max(1, min(frames, maxFrameSize/int64(align)))
			s.chunk = int(frames) * align
			info := &openInfo{
				src: s,
				codecs: []mediarecorder.Codec{{
					MimeType: codec.PCM.RTPMimeType, ClockRate: rate, Channels: uint16(channels),
				}},
			}
			avail := s.dataSize
			if size >= 0 && (avail < 0 || avail > size-br.off) {
				avail = max(0, size-br.off)
			}
			if avail >= 0 {
				info.dur, info.hasDur = scaleTime(avail/int64(align), 1, uint64(rate)), true
			}
			return info, nil
		default:
			if err := br.skip(n + n&1); err != nil {
				return nil, truncatedAt(start, fmt.Sprintf("%q chunk", id))
			}
		}
	}
}

// wavFormatName names the common WAV format tags in errors.
func wavFormatName(tag uint16) string {
	switch tag {
	case 1:
		return "PCM"
	case 2:
		return "ADPCM"
	case 3:
		return "IEEE float"
	case 6:
		return "A-law"
	case 7:
		return "mu-law"
	case 0x55:
		return "MP3"
	}
	return "unknown"
}

func (s *wavSource) next() (sample, error) {
	if s.err != nil {
		return sample{}, s.err
	}
	want := s.chunk
	if s.remaining >= 0 && s.remaining < int64(want) {
		want = int(s.remaining)
	}
	if want == 0 {
		s.err = io.EOF
		return sample{}, s.err
	}
	start := s.r.off
	var err error
	s.buf, err = s.r.readInto(s.buf, want)
	whole := len(s.buf) - len(s.buf)%s.blockAlign
	if s.remaining >= 0 {
		s.remaining -= int64(len(s.buf))
	}
	switch {
	case err == nil:
	case (err == io.EOF || err == io.ErrUnexpectedEOF) && s.remaining < 0:
		s.err = io.EOF // a stream-written WAV ends where the file does
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		s.err = truncatedAt(start+int64(whole), fmt.Sprintf("data chunk (%d of %d bytes)", s.dataSize-s.remaining, s.dataSize))
	default:
		s.err = errAt(start+int64(len(s.buf)), err)
	}
	if whole == 0 {
		if s.err == nil {
			s.err = io.EOF
		}
		return sample{}, s.err
	}
	n := int64(whole / s.blockAlign)
	pts := scaleTime(s.frames, 1, s.rate)
	s.frames += n
	return sample{pts: pts, dur: scaleTime(s.frames, 1, s.rate) - pts, data: s.buf[:whole]}, nil
}
