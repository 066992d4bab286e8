package rtpsource

import (
	"context"
	"errors"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/gomediarecorder/mediarecorder"
)

// ErrNilRemote is returned by FromRemote without a remote track.
var ErrNilRemote = errors.New("rtpsource: nil remote track")

// NACKInterval is how often the receiver built by RegisterInterceptors
// asks for missing packets (pion's default is 100 ms): short enough that a
// retransmission fills its hole well within the jitter window.
const NACKInterval = 20 * time.Millisecond

// nackTries bounds the NACKs per lost packet: about the jitter window's
// worth, after which the frame is given up anyway. (pion's generator does
// not see packets repaired over RTX, so it would otherwise ask for them
// until they leave its log.)
const nackTries = 8

// RegisterInterceptors registers pion's default interceptors (NACK
// generator and responder, RTCP reports, simulcast header extensions,
// stats, TWCC) on m and ir, with the NACK generator asking every
// NACKInterval, at most 8 times a packet. Use it for the PeerConnections whose tracks go to
// FromRemote: lost packets come back before their frames are given up.
func RegisterInterceptors(m *webrtc.MediaEngine, ir *interceptor.Registry) error {
	return webrtc.RegisterDefaultInterceptorsWithOptions(m, ir,
		webrtc.WithNackGeneratorOptions(nack.GeneratorInterval(NACKInterval), nack.GeneratorMaxNacksPerPacket(nackTries)))
}

// FromRemote returns a Track fed by a pion remote track: a goroutine reads
// its RTP packets (and another the RTCP of recv, if not nil, for Sender
// Reports) until the track ends or ctx is done, then stops the Track.
// Key-frame requests send an RTCP PLI through pc (if not nil), then call
// opt.OnKeyFrameRequest (if set). Give the tracks of one pc the same
// opt.Session so that they line up.
func FromRemote(ctx context.Context, remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver, pc *webrtc.PeerConnection, opt Options) (*Track, error) {
	if remote == nil {
		return nil, ErrNilRemote
	}
	c := remote.Codec()
	codec := mediarecorder.Codec{
		MimeType:    c.MimeType,
		ClockRate:   c.ClockRate,
		Channels:    c.Channels,
		SDPFmtpLine: c.SDPFmtpLine,
	}
	user := opt.OnKeyFrameRequest
	ssrc := uint32(remote.SSRC())
	opt.OnKeyFrameRequest = func() {
		if pc != nil {
			_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
		}
		if user != nil {
			user()
		}
	}
	t, err := NewTrack(codec, opt)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	// ctx's end unblocks the reads (no goroutine waits for it).
	stopWatch := context.AfterFunc(ctx, func() {
		_ = remote.SetReadDeadline(time.Now())
		if recv != nil {
			_ = recv.SetReadDeadline(time.Now())
		}
	})
	go func() {
		defer close(done)
		defer stopWatch()
		defer t.Stop()
		for {
			p, _, err := remote.ReadRTP()
			if err != nil {
				return
			}
			if t.WritePacket(p, time.Now()) != nil {
				return
			}
		}
	}()
	if recv != nil {
		go func() {
			for {
				pkts, _, err := recv.ReadRTCP()
				if err != nil {
					return
				}
				t.WriteRTCP(pkts)
				select {
				case <-done:
					return
				default:
				}
			}
		}()
	}
	return t, nil
}
