//go:build linux

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/internal/opusfile"
)

// Payload types, as in the SDP files and the GStreamer caps.
const (
	vp8PT  = 96
	opusPT = 111
	mtu    = 1200
)

// frame is one VP8 frame or Opus packet and its duration in clock ticks.
type frame struct {
	data  []byte
	ticks uint32
}

// sendCmd: send -n N -base PORT -duration D -video V.ivf -audio A.ogg [-sr=false]
func sendCmd(fs *flag.FlagSet) func() error {
	n := fs.Int("n", 20, "number of streams")
	base := fs.Int("base", 20000, "first UDP port (stream i: base+4i video, base+4i+2 audio, +1 RTCP)")
	duration := fs.Duration("duration", 35*time.Second, "how long to send (the media loops if shorter)")
	video := fs.String("video", "", "VP8 IVF file (required)")
	audio := fs.String("audio", "", "Opus Ogg file (required)")
	sr := fs.Bool("sr", true, "send an RTCP Sender Report each second per RTP stream (to port+1)")
	return func() error {
		if *video == "" || *audio == "" || *n < 1 {
			return errors.New("-video, -audio and -n >= 1 are required")
		}
		vf, err := readVP8(*video)
		if err != nil {
			return err
		}
		af, err := readOpus(*audio)
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return send(ctx, sendConfig{n: *n, base: *base, duration: *duration, video: vf, audio: af, sr: *sr})
	}
}

type sendConfig struct {
	n, base      int
	duration     time.Duration
	video, audio []frame
	sr           bool
}

// sendStats counts what all the senders did.
type sendStats struct {
	packets, bytes, errs atomic.Int64
}

// send sends cfg.n streams until cfg.duration has passed or ctx is done.
// The streams start staggered over one video frame interval, as
// independent senders would.
func send(ctx context.Context, cfg sendConfig) error {
	var st sendStats
	var wg sync.WaitGroup
	t0 := time.Now().Add(100 * time.Millisecond)
	end := t0.Add(cfg.duration)
	var conns []*net.UDPConn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	dial := func(port int) (*net.UDPConn, error) {
		c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err == nil {
			conns = append(conns, c)
		}
		return c, err
	}
	for i := range cfg.n {
		start := t0.Add(time.Duration(i) * (time.Second / 30) / time.Duration(cfg.n))
		for _, m := range []struct {
			port  int
			pt    uint8
			clock uint32
			pay   rtp.Payloader
			fr    []frame
		}{
			{videoPort(cfg.base, i), vp8PT, 90000, &codecs.VP8Payloader{EnablePictureID: true}, cfg.video},
			{audioPort(cfg.base, i), opusPT, 48000, &codecs.OpusPayloader{}, cfg.audio},
		} {
			conn, err := dial(m.port)
			if err != nil {
				return err
			}
			var rtcpConn *net.UDPConn
			if cfg.sr {
				if rtcpConn, err = dial(m.port + 1); err != nil {
					return err
				}
			}
			s := &sender{
				conn: conn, rtcpConn: rtcpConn, frames: m.fr, clock: m.clock,
				ssrc: rand.Uint32(), ts0: rand.Uint32(), start: start, end: end, st: &st,
			}
			s.pk = rtp.NewPacketizerWithOptions(mtu, m.pay, rtp.NewRandomSequencer(), m.clock,
				rtp.WithPayloadType(m.pt), rtp.WithSSRC(s.ssrc), rtp.WithTimestamp(s.ts0))
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.run(ctx)
			}()
		}
	}
	wg.Wait()
	slog.Info("rtpload send: done", "streams", cfg.n, "packets", st.packets.Load(),
		"MB", fmt.Sprintf("%.1f", float64(st.bytes.Load())/1e6), "write_errors", st.errs.Load())
	return nil
}

// sender sends one RTP stream: frames in real time from start, looping,
// until end.
type sender struct {
	conn, rtcpConn *net.UDPConn
	pk             rtp.Packetizer
	frames         []frame
	clock          uint32
	ssrc, ts0      uint32
	start, end     time.Time
	st             *sendStats
	packets, bytes uint32 // for the Sender Reports
}

func (s *sender) run(ctx context.Context) {
	buf := make([]byte, 1500)
	var ticks uint64 // media time of the next frame, in clock ticks
	nextSR := s.start
	timer := time.NewTimer(time.Until(s.start))
	defer timer.Stop()
	for k := 0; ; k = (k + 1) % len(s.frames) {
		at := s.start.Add(time.Duration(ticks * uint64(time.Second) / uint64(s.clock)))
		if !at.Before(s.end) {
			return
		}
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		f := s.frames[k]
		for _, p := range s.pk.Packetize(f.data, f.ticks) {
			n, err := p.MarshalTo(buf)
			if err == nil {
				_, err = s.conn.Write(buf[:n])
			}
			if err != nil {
				s.st.errs.Add(1)
				continue
			}
			s.packets++
			s.bytes += uint32(len(p.Payload))
			s.st.packets.Add(1)
			s.st.bytes.Add(int64(n))
		}
		if s.rtcpConn != nil && !at.Before(nextSR) {
			s.sendSR(at, uint32(ticks))
			nextSR = nextSR.Add(time.Second)
		}
		ticks += uint64(f.ticks)
	}
}

// sendSR sends a Sender Report tying the RTP time ts0+ticks to the wall
// time at.
func (s *sender) sendSR(at time.Time, ticks uint32) {
	sr := rtcp.SenderReport{
		SSRC:        s.ssrc,
		NTPTime:     ntpTime(at),
		RTPTime:     s.ts0 + ticks,
		PacketCount: s.packets,
		OctetCount:  s.bytes,
	}
	b, err := sr.Marshal()
	if err == nil {
		// Nobody listens on the RTCP ports of the GStreamer pipelines:
		// ECONNREFUSED is expected there.
		_, _ = s.rtcpConn.Write(b)
	}
}

// ntpTime returns t as a 32.32 fixed-point NTP timestamp.
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // 1900-01-01 to 1970-01-01, in seconds
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// readVP8 reads the frames of a VP8 IVF file with their durations in
// 90 kHz ticks (the last frame gets the one before it's).
func readVP8(path string) ([]frame, error) {
	h, ivf, err := mediatest.ReadIVF(path)
	if err != nil {
		return nil, err
	}
	if h.FourCC != "VP80" || len(ivf) < 2 || h.TimebaseDen == 0 {
		return nil, fmt.Errorf("%s: want a VP8 IVF file of at least 2 frames", path)
	}
	toTicks := func(pts int64) uint64 {
		return uint64(pts) * 90000 * uint64(h.TimebaseNum) / uint64(h.TimebaseDen)
	}
	fr := make([]frame, len(ivf))
	for i, f := range ivf {
		fr[i].data = f.Data
		if i > 0 {
			fr[i-1].ticks = uint32(toTicks(f.PTS) - toTicks(ivf[i-1].PTS))
		}
	}
	fr[len(fr)-1].ticks = fr[len(fr)-2].ticks
	if fr[0].data[0]&1 != 0 {
		return nil, fmt.Errorf("%s: the first frame is not a key frame", path)
	}
	return fr, nil
}

// readOpus reads the audio packets of an Ogg Opus file with their
// durations in 48 kHz samples.
func readOpus(path string) ([]frame, error) {
	_, pkts, err := opusfile.Read(path)
	if err != nil {
		return nil, err
	}
	fr := make([]frame, len(pkts))
	for i, p := range pkts {
		fr[i] = frame{data: p.Data, ticks: uint32(p.Samples)}
	}
	return fr, nil
}
