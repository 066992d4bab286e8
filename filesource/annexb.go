package filesource

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/internal/codec"
)

// annexBSource reads the access units of an H.264 Annex B stream. Having
// no timestamps, they are spaced at the frame rate of the SPS's VUI
// timing information, or Options.FrameRate.
type annexBSource struct {
	r     *h264.AccessUnitReader
	first []byte // the access unit read by openAnnexB, not yet returned
	fps   float64
	n     int64 // access units returned
	err   error
}

// openAnnexB reads the first access unit, for its SPS's frame rate.
func openAnnexB(r io.Reader, fps float64) (*openInfo, error) {
	s := &annexBSource{r: h264.NewAccessUnitReader(newByteReader(r).r), fps: fps}
	au, err := s.r.Next()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: no H.264 access unit", ErrInvalidFile)
	}
	if err != nil {
		return nil, err
	}
	s.first = au
	c := mediarecorder.Codec{MimeType: codec.H264.RTPMimeType, ClockRate: codec.H264.ClockRate}
	for nalu, rest := h264.NextNALU(au); nalu != nil; nalu, rest = h264.NextNALU(rest) {
		if h264.NALUType(nalu) != h264.NALUTypeSPS {
			continue
		}
		sps, err := h264.ParseSPS(nalu)
		if err != nil {
			break
		}
		if rate, ok := sps.FrameRate(); ok && rate >= 1 && rate <= 1000 {
			s.fps = rate
		}
		c.SDPFmtpLine = fmt.Sprintf("packetization-mode=1;profile-level-id=%02x%02x%02x",
			sps.ProfileIDC, sps.ConstraintFlags, sps.LevelIDC)
		break
	}
	return &openInfo{src: s, codecs: []mediarecorder.Codec{c}}, nil
}

// at returns the time of access unit n.
func (s *annexBSource) at(n int64) time.Duration {
	return time.Duration(math.Round(float64(n) * float64(time.Second) / s.fps))
}

func (s *annexBSource) next() (sample, error) {
	if s.err != nil {
		return sample{}, s.err
	}
	au := s.first
	s.first = nil
	if au == nil {
		var err error
		au, err = s.r.Next()
		if err != nil {
			s.err = err
			return sample{}, err
		}
	}
	pts := s.at(s.n)
	s.n++
	return sample{pts: pts, dur: s.at(s.n) - pts, data: au}, nil
}
