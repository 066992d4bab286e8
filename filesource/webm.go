package filesource

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/codecs/av1"
	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/internal/codec"
	"github.com/gomediarecorder/mediarecorder/webm"
)

// maxWebMQueue bounds the frames held while waiting for the next frame of
// a video track (its duration): beyond it a frame gets the track's usual
// spacing.
const maxWebMQueue = 64

// defaultFrameDuration is the duration given to a video frame that has
// none and no known spacing.
const defaultFrameDuration = time.Second / 30

// webmTrack is one playable track of a WebM/Matroska file.
type webmTrack struct {
	num   uint64
	index int // sample.track
	codec *codec.Codec
	video bool

	lengthSize int    // H.264: NAL unit length field size
	prefix     []byte // H.264 SPS/PPS (Annex B) or AV1 sequence header OBU, for the first key frame
	prefixDone bool

	delay       time.Duration // Opus CodecDelay, subtracted from timestamps
	bytesPerSec int64         // PCM

	spacing time.Duration // video: the last distance between frames
	pending int64         // video: the queued frame without duration (absolute index), -1
}

// webmEntry is a frame held in file order until its duration is known.
type webmEntry struct {
	t        *webmTrack
	pts, dur time.Duration
	known    bool
	data     []byte
}

// webmSource reads the frames of the playable tracks of a WebM/Matroska
// file, in file order. Frames without a duration (video SimpleBlocks) wait
// for the next frame of their track.
type webmSource struct {
	r      *webm.Reader
	tracks []*webmTrack

	q      []webmEntry // q[head:] are queued
	head   int
	popped int64 // frames taken from the queue so far
	free   [][]byte
	last   []byte // the buffer returned by the previous call
	err    error
}

// openWebM reads the header of a WebM or Matroska file and keeps the
// tracks this package can play; others are skipped (an error only when
// none is left).
func openWebM(r io.Reader) (*openInfo, error) {
	rd, err := webm.NewReader(r)
	if err != nil {
		return nil, webmErr(err)
	}
	h := rd.Header()
	s := &webmSource{r: rd}
	info := &openInfo{src: s}
	var skipped []string
	for _, e := range h.Tracks {
		t, c, ok := webmTrackFor(e)
		if !ok {
			skipped = append(skipped, fmt.Sprintf("%d (%s)", e.Number, e.CodecID))
			continue
		}
		dup := false
		for _, u := range s.tracks {
			dup = dup || u.num == e.Number
		}
		if dup {
			continue
		}
		t.index = len(s.tracks)
		s.tracks = append(s.tracks, t)
		info.codecs = append(info.codecs, c)
	}
	if len(s.tracks) == 0 {
		return nil, fmt.Errorf("%w: no playable track in the %s file (tracks %v)", ErrUnsupportedCodec, h.DocType, skipped)
	}
	if h.HasDuration && h.Duration > 0 {
		info.dur, info.hasDur = h.Duration, true
	}
	return info, nil
}

// webmTrackFor maps a TrackEntry to a track and its codec; ok is false
// for a codec this package does not play.
func webmTrackFor(e webm.TrackEntry) (t *webmTrack, c mediarecorder.Codec, ok bool) {
	row := codec.ByMatroskaID(e.CodecID)
	if !row.Recordable() {
		return nil, c, false // unknown, or known by name only (Vorbis)
	}
	t = &webmTrack{num: e.Number, pending: -1, codec: row, video: row.Kind == codec.Video}
	c.MimeType, c.ClockRate = row.RTPMimeType, row.ClockRate
	// What the track entry says beyond the codec: its configuration.
	switch row {
	case codec.AV1:
		// av1C: 4 bytes, then the configOBUs (the sequence header).
		if len(e.CodecPrivate) > 4 {
			t.prefix = append([]byte(nil), e.CodecPrivate[4:]...)
		}
	case codec.H264:
		t.lengthSize = 4
		if len(e.CodecPrivate) > 0 {
			n, ps, err := parseAVCC(e.CodecPrivate)
			if err != nil {
				return nil, c, false
			}
			t.lengthSize, t.prefix = n, ps
		}
	case codec.Opus:
		c.Channels = uint16(e.Channels)
		if h, err := opus.ParseHead(e.CodecPrivate); err == nil {
			if h.MappingFamily != 0 && h.StreamCount != 1 {
				return nil, c, false
			}
			c.Channels = uint16(h.Channels)
		}
		if c.Channels == 0 {
			c.Channels = 1
		}
		if c.Channels > 2 {
			return nil, c, false
		}
		t.delay = e.CodecDelay
	case codec.PCM:
		rate := uint32(e.SamplingFrequency)
		ch := max(e.Channels, 1)
		if e.BitDepth != row.BitDepth || rate == 0 || float64(rate) != e.SamplingFrequency {
			return nil, c, false
		}
		c.ClockRate, c.Channels = rate, uint16(ch)
		t.bytesPerSec = int64(rate) * int64(ch) * 2
	}
	return t, c, true
}

// parseAVCC returns the NAL unit length size of an
// AVCDecoderConfigurationRecord and its SPS and PPS in Annex B form.
func parseAVCC(b []byte) (lengthSize int, annexB []byte, err error) {
	bad := fmt.Errorf("%w: bad avcC record", ErrInvalidFile)
	if len(b) < 7 || b[0] != 1 {
		return 0, nil, bad
	}
	lengthSize = int(b[4]&3) + 1
	if lengthSize == 3 {
		return 0, nil, bad
	}
	p := b[5:]
	for list := range 2 {
		if len(p) < 1 {
			return 0, nil, bad
		}
		n := int(p[0])
		if list == 0 {
			n &= 0x1f
		}
		p = p[1:]
		for range n {
			if len(p) < 2 {
				return 0, nil, bad
			}
			l := int(binary.BigEndian.Uint16(p))
			if len(p) < 2+l || l == 0 {
				return 0, nil, bad
			}
			annexB = append(annexB, 0, 0, 0, 1)
			annexB = append(annexB, p[2:2+l]...)
			p = p[2+l:]
		}
	}
	return lengthSize, annexB, nil
}

// appendAnnexB converts a sample of NAL units with size-byte lengths to
// Annex B; ok is false when a length runs past the end.
func appendAnnexB(dst, b []byte, size int) ([]byte, bool) {
	if size == 4 {
		return h264.AppendAnnexB(dst, b)
	}
	orig := len(dst)
	for len(b) > 0 {
		if len(b) < size {
			return dst[:orig], false
		}
		n := 0
		for _, c := range b[:size] {
			n = n<<8 | int(c)
		}
		b = b[size:]
		if n > len(b) {
			return dst[:orig], false
		}
		dst = append(dst, 0, 0, 0, 1)
		dst = append(dst, b[:n]...)
		b = b[n:]
	}
	return dst, true
}

// webmErr turns a webm.Reader error into one of this package's.
func webmErr(err error) error {
	var te *webm.TruncatedError
	switch {
	case errors.As(err, &te):
		return errAt(te.Element, fmt.Errorf("%w: %w", ErrTruncated, err))
	case errors.Is(err, webm.ErrNotWebM):
		return fmt.Errorf("%w: %w", ErrInvalidFile, err)
	}
	return err
}

func (s *webmSource) track(num uint64) *webmTrack {
	for _, t := range s.tracks {
		if t.num == num {
			return t
		}
	}
	return nil
}

func (s *webmSource) buf() []byte {
	if n := len(s.free); n > 0 {
		b := s.free[n-1]
		s.free = s.free[:n-1]
		return b[:0]
	}
	return nil
}

func (s *webmSource) next() (sample, error) {
	if s.last != nil {
		s.free = append(s.free, s.last)
		s.last = nil
	}
	for {
		if s.head < len(s.q) {
			e := &s.q[s.head]
			if !e.known && (s.err != nil || len(s.q)-s.head >= maxWebMQueue) {
				s.estimate(e)
			}
			if e.known {
				out := sample{track: e.t.index, pts: e.pts, dur: e.dur, data: e.data}
				s.last = e.data
				*e = webmEntry{}
				s.head++
				s.popped++
				if s.head == len(s.q) {
					s.q, s.head = s.q[:0], 0
				} else if s.head >= 32 && s.head*2 >= len(s.q) {
					n := copy(s.q, s.q[s.head:])
					clear(s.q[n:])
					s.q, s.head = s.q[:n], 0
				}
				return out, nil
			}
		}
		if s.err != nil {
			return sample{}, s.err
		}
		if err := s.read(); err != nil {
			s.err = err
		}
	}
}

// estimate gives e, a video frame whose next frame has not come, the
// track's usual spacing.
func (s *webmSource) estimate(e *webmEntry) {
	e.dur = e.t.spacing
	if e.dur <= 0 {
		e.dur = defaultFrameDuration
	}
	e.known = true
	if e.t.pending == s.popped {
		e.t.pending = -1
	}
}

// read reads one frame into the queue (frames of skipped tracks and
// broken frames are dropped).
func (s *webmSource) read() error {
	fr, err := s.r.ReadFrame()
	if err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return webmErr(err)
	}
	t := s.track(fr.Track)
	if t == nil {
		return nil
	}
	data := s.buf()
	switch t.codec {
	case codec.H264:
		start := len(data)
		if !t.prefixDone && fr.KeyFrame {
			data = append(data, t.prefix...)
			start = len(data)
		}
		var ok bool
		data, ok = appendAnnexB(data, fr.Data, t.lengthSize)
		if !ok {
			s.free = append(s.free, data)
			return nil
		}
		if !t.prefixDone && h264.IsKeyFrame(data[start:]) {
			t.prefixDone = true
			if hasSPS(data[start:]) {
				// The frame carries its own parameter sets.
				data = append(data[:0], data[start:]...)
			}
		}
	case codec.AV1:
		if !t.prefixDone && fr.KeyFrame {
			t.prefixDone = true
			if _, _, ok := av1.FindSequenceHeader(fr.Data); !ok {
				data = append(data, t.prefix...)
			}
		}
		data = append(data, fr.Data...)
	default:
		data = append(data, fr.Data...)
	}
	e := webmEntry{t: t, pts: fr.Timestamp - t.delay, dur: fr.Duration, known: fr.Duration > 0, data: data}
	switch t.codec {
	case codec.Opus:
		if d, err := opus.PacketDuration(data); err == nil && (!e.known || d < e.dur) {
			e.dur = d
		}
		e.known = true
	case codec.PCM:
		e.dur = time.Duration(int64(len(data)) * int64(time.Second) / t.bytesPerSec)
		e.known = true
	}
	if t.video {
		if t.pending >= 0 {
			p := &s.q[s.head+int(t.pending-s.popped)]
			if d := e.pts - p.pts; d > 0 {
				p.dur, t.spacing = d, d
			} else {
				p.dur = max(t.spacing, defaultFrameDuration)
			}
			p.known = true
			t.pending = -1
		}
		if !e.known {
			t.pending = s.popped + int64(len(s.q)-s.head)
		}
	}
	s.q = append(s.q, e)
	return nil
}

// hasSPS reports whether the Annex B access unit au holds an SPS.
func hasSPS(au []byte) bool {
	for nalu, rest := h264.NextNALU(au); nalu != nil; nalu, rest = h264.NextNALU(rest) {
		if h264.NALUType(nalu) == h264.NALUTypeSPS {
			return true
		}
	}
	return false
}
