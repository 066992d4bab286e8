package server

import (
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// paddingFilter is an interceptor that hides padding-only RTP packets
// (bandwidth probes, which browsers send on the media SSRC when no RTX is
// negotiated) from the tracks. Added after the default interceptors, it
// reads from them, so NACK and receiver reports still count the packets.
type paddingFilter struct{ interceptor.NoOp }

type paddingFilterFactory struct{}

func (paddingFilterFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &paddingFilter{}, nil
}

// BindRemoteStream skips the padding-only packets of an incoming stream.
func (*paddingFilter) BindRemoteStream(_ *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		for {
			n, attr, err := r.Read(b, a)
			if err != nil || n > len(b) || !paddingOnly(b[:n]) {
				return n, attr, err
			}
		}
	})
}

// paddingOnly reports whether pkt is an RTP packet with no payload but
// padding.
func paddingOnly(pkt []byte) bool {
	var h rtp.Header
	hl, err := h.Unmarshal(pkt)
	if err != nil || !h.Padding || len(pkt) == 0 {
		return false
	}
	return hl+int(pkt[len(pkt)-1]) >= len(pkt)
}
