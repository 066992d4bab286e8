package rtpsource

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// pollEvery is how often the sockets of the running UDPSources are read
// on Linux, at multiples of it on the wall clock (as recordings take their
// batches: one thread's wake-up serves both). Datagrams wait in the socket
// buffers meanwhile (50 ms of a 20 Mb/s stream is 125 KB), stamped by the
// kernel as they arrive, and one wake-up of one goroutine serves every
// socket of every source: a goroutine woken for each packet costs more
// than the packet's own work. 50 ms is well inside the jitter window.
const pollEvery = 50 * time.Millisecond

// poller reads the sockets of every running UDPSource of the process.
var poller struct {
	mu      sync.Mutex
	regs    map[*UDPSource]*pollReg
	running bool
}

// pollReg is a source's sockets, and where its read error goes.
type pollReg struct {
	socks []pollSock
	errc  chan error // the first error, once

	mu   sync.Mutex // held while its sockets are read
	done bool       // failed, or the source stopped reading
}

type pollSock struct {
	c    *rawUDP
	st   *udpStream
	rtcp bool
}

// read reads the sockets until ctx is done, the streams go idle or a
// socket fails, through the process's poller.
func (s *UDPSource) read(ctx context.Context, idle time.Duration) error {
	reg := &pollReg{errc: make(chan error, 1)}
	for _, st := range s.streams {
		reg.socks = append(reg.socks, pollSock{c: st.rtpConn, st: st})
		if st.rtcpConn != nil {
			reg.socks = append(reg.socks, pollSock{c: st.rtcpConn, st: st, rtcp: true})
		}
	}
	poller.mu.Lock()
	if poller.regs == nil {
		poller.regs = map[*UDPSource]*pollReg{}
	}
	poller.regs[s] = reg
	if !poller.running {
		poller.running = true
		go pollLoop()
	}
	poller.mu.Unlock()
	defer func() {
		poller.mu.Lock()
		delete(poller.regs, s)
		poller.mu.Unlock()
		// Once done is set, no read of these sockets is under way or to
		// come.
		reg.mu.Lock()
		reg.done = true
		reg.mu.Unlock()
	}()

	var tick <-chan time.Time
	if idle > 0 {
		tk := time.NewTicker(min(idle/4+time.Millisecond, 100*time.Millisecond))
		defer tk.Stop()
		tick = tk.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-reg.errc:
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("rtpsource: %w", err)
		case now := <-tick:
			if s.idleSince(now.UnixNano(), idle) {
				return nil
			}
		}
	}
}

// pollLoop reads every registered socket each pollEvery, until no source
// is left.
func pollLoop() {
	b := newReadBatch()
	var p rtp.Packet
	tm := time.NewTimer(untilTick(time.Now()))
	defer tm.Stop()
	var regs []*pollReg
	for range tm.C {
		tm.Reset(untilTick(time.Now()))
		poller.mu.Lock()
		if len(poller.regs) == 0 {
			poller.running = false
			poller.mu.Unlock()
			return
		}
		regs = regs[:0]
		for _, reg := range poller.regs {
			regs = append(regs, reg)
		}
		poller.mu.Unlock()
		// Tracks are fed outside poller.mu: their callbacks
		// (OnKeyFrameRequest) may start or stop other sources.
		for _, reg := range regs {
			reg.mu.Lock()
			if !reg.done {
				reg.drain(b, &p)
			}
			reg.mu.Unlock()
		}
		clear(regs)
	}
}

// drain takes every datagram waiting in the source's sockets, without
// blocking. The first error goes to errc and ends the source's reading.
// reg.mu is held.
func (reg *pollReg) drain(b *readBatch, p *rtp.Packet) {
	for _, k := range reg.socks {
		err := k.c.drain(b, func(d []byte, arrival time.Time) {
			if k.rtcp {
				k.st.writeRTCP(d)
			} else {
				k.st.handleRTP(d, p, arrival)
			}
		})
		if err != nil {
			reg.done = true
			reg.errc <- err
			return
		}
	}
}

// untilTick returns how long from now until the next multiple of
// pollEvery of the wall clock.
func untilTick(now time.Time) time.Duration {
	return pollEvery - time.Duration(now.UnixNano()%int64(pollEvery))
}
