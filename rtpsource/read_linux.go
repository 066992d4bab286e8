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

// How often the sockets of the running UDPSources are read on Linux: one
// wake-up of one goroutine serves every socket of every source (a
// goroutine woken for each packet costs more than the packet's own work).
// Datagrams wait in the socket buffers meanwhile, stamped by the kernel
// as they arrive. The poller reads every pollMax (well inside the jitter
// window), at multiples of it on the wall clock, as recordings take their
// batches: one thread's wake-up serves both. A socket that held more than
// pollBusy datagrams at a read halves the interval, down to pollMin, so
// that no buffer fills (a default 208 KiB socket buffer holds about 90
// full-size datagrams); after pollCalm reads with fewer than pollBusy/4
// datagrams in every socket, it doubles back.
const (
	pollMax  = 100 * time.Millisecond
	pollMin  = pollMax / 8
	pollBusy = 48
	pollCalm = 20
)

// pollPace is the poller's interval, as the traffic sets it.
type pollPace struct {
	every time.Duration
	calm  int // reads in a row with little waiting
}

// note adapts the interval to the most datagrams one socket held at the
// last read.
func (pc *pollPace) note(most int) {
	switch {
	case most > pollBusy:
		pc.every = max(pc.every/2, pollMin)
		pc.calm = 0
	case most < pollBusy/4 && pc.every < pollMax:
		if pc.calm++; pc.calm >= pollCalm {
			pc.every = min(pc.every*2, pollMax)
			pc.calm = 0
		}
	default:
		pc.calm = 0
	}
}

// next returns how long from now until the next multiple of the interval
// on the wall clock.
func (pc *pollPace) next(now time.Time) time.Duration {
	return pc.every - time.Duration(now.UnixNano()%int64(pc.every))
}

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

// pollLoop reads every registered socket at the pace the traffic sets, until no source
// is left.
func pollLoop() {
	b := newReadBatch()
	var p rtp.Packet
	pace := pollPace{every: pollMax}
	tm := time.NewTimer(pace.next(time.Now()))
	defer tm.Stop()
	var regs []*pollReg
	for range tm.C {
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
		most := 0
		for _, reg := range regs {
			reg.mu.Lock()
			if !reg.done {
				most = max(most, reg.drain(b, &p))
			}
			reg.mu.Unlock()
		}
		clear(regs)
		pace.note(most)
		tm.Reset(pace.next(time.Now()))
	}
}

// drain takes every datagram waiting in the source's sockets, without
// blocking, and returns the most one socket held. The first error goes to
// errc and ends the source's reading. reg.mu is held.
func (reg *pollReg) drain(b *readBatch, p *rtp.Packet) (most int) {
	for _, k := range reg.socks {
		n, err := k.c.drain(b, func(d []byte, arrival time.Time) {
			if k.rtcp {
				k.st.writeRTCP(d)
			} else {
				k.st.handleRTP(d, p, arrival)
			}
		})
		most = max(most, n)
		if err != nil {
			reg.done = true
			reg.errc <- err
			return most
		}
	}
	return most
}
