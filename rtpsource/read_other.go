//go:build !linux

package rtpsource

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// udpConn is a stream's socket: a goroutine blocks in its reads here.
type udpConn = *net.UDPConn

func listenUDP(addr *net.UDPAddr) (udpConn, error) { return net.ListenUDP("udp", addr) }

// read reads the sockets until ctx is done, the streams go idle or a
// socket fails: a goroutine per socket here.
func (s *UDPSource) read(ctx context.Context, idle time.Duration) error {
	return s.readBlocking(ctx, idle)
}

// readBlocking reads every socket on a goroutine of its own, blocked in
// its read, until ctx is done, the streams go idle or a socket fails.
func (s *UDPSource) readBlocking(ctx context.Context, idle time.Duration) error {
	var stopping atomic.Bool
	errc := make(chan error, 2*len(s.streams))
	var wg sync.WaitGroup
	for _, st := range s.streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- st.readRTP(&stopping)
		}()
		if st.rtcpConn != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errc <- st.readRTCP(&stopping)
			}()
		}
	}

	var tick <-chan time.Time
	if idle > 0 {
		tk := time.NewTicker(min(idle/4+time.Millisecond, 100*time.Millisecond))
		defer tk.Stop()
		tick = tk.C
	}
	var err error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case e := <-errc:
			if e != nil {
				err = e
			}
			break loop
		case now := <-tick:
			if s.idleSince(now.UnixNano(), idle) {
				break loop
			}
		}
	}

	stopping.Store(true)
	past := time.Unix(1, 0)
	for _, st := range s.streams {
		_ = st.rtpConn.SetReadDeadline(past)
		if st.rtcpConn != nil {
			_ = st.rtcpConn.SetReadDeadline(past)
		}
	}
	wg.Wait()
	return err
}

// readRTP feeds the RTP packets (and multiplexed RTCP) of the stream to
// its tracks. It returns nil once stopping is set or the socket is
// closed.
func (st *udpStream) readRTP(stopping *atomic.Bool) error {
	buf := make([]byte, maxRTPDatagram)
	var p rtp.Packet
	for {
		n, _, flags, _, err := st.rtpConn.ReadMsgUDP(buf, nil)
		if err != nil {
			return readErr(err, stopping)
		}
		if flags&msgTrunc != 0 {
			continue // too large: cut short, useless
		}
		st.handleRTP(buf[:n], &p, time.Now())
	}
}

// readRTCP feeds the stream's RTCP socket to its tracks.
func (st *udpStream) readRTCP(stopping *atomic.Bool) error {
	buf := make([]byte, maxRTCPDatagram)
	for {
		n, _, flags, _, err := st.rtcpConn.ReadMsgUDP(buf, nil)
		if err != nil {
			return readErr(err, stopping)
		}
		if flags&msgTrunc != 0 {
			continue
		}
		st.writeRTCP(buf[:n])
	}
}

// readErr returns nil for the errors that end a read loop normally.
func readErr(err error, stopping *atomic.Bool) error {
	if stopping.Load() || errors.Is(err, net.ErrClosed) {
		return nil
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	return fmt.Errorf("rtpsource: %w", err)
}
