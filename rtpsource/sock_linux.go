package rtpsource

import (
	"net"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// udpConn is a stream's socket. On Linux it is kept out of Go's network
// poller: the process's poller goroutine reads it without blocking, at
// least every pollMax. In the network poller (edge-triggered epoll), the
// first datagram after each read would wake a thread of the process that
// finds nothing to do: for every socket, at every read.
type udpConn = *rawUDP

// rawUDP is a bound UDP socket read with recvmmsg.
type rawUDP struct {
	mu     sync.Mutex // held while it is read, and by Close
	fd     int
	closed bool
}

// listenUDP binds addr as net.ListenUDP does, then keeps a copy of the
// socket's descriptor and closes the net.UDPConn, which takes it out of
// the network poller.
func listenUDP(addr *net.UDPAddr) (*rawUDP, error) {
	c, err := net.ListenUDP("udp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(f uintptr) {
		fd, derr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0)
		derr = os.NewSyscallError("fcntl", derr)
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	// The kernel stamps each datagram as it arrives (the poller reads
	// them up to pollMax later), and the buffer holds what arrives
	// meanwhile at high rates: both best effort (the buffer is capped by
	// net.core.rmem_max).
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	if n, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF); err == nil && n < recvBuffer {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, recvBuffer)
	}
	return &rawUDP{fd: fd}, nil
}

// recvBuffer is the socket receive buffer asked for: pollMax of a 20 Mb/s
// stream, with the kernel's overhead per datagram.
const recvBuffer = 1 << 20

// Close closes the socket; once it returns no read of it is under way.
func (s *rawUDP) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return net.ErrClosed
	}
	s.closed = true
	return os.NewSyscallError("close", unix.Close(s.fd))
}

// batchLen is how many datagrams one recvmmsg call takes.
const batchLen = 32

// readBatch is scratch space for recvmmsg: batchLen buffers of
// maxRTPDatagram bytes, room for their arrival times, and their headers.
type readBatch struct {
	buf  []byte
	oob  []byte
	iov  [batchLen]unix.Iovec
	hdrs [batchLen]unix.Mmsghdr
}

// oobLen is the room for a datagram's control message: its arrival time
// (SCM_TIMESTAMPNS).
var oobLen = unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{})))

func newReadBatch() *readBatch {
	b := &readBatch{buf: make([]byte, batchLen*maxRTPDatagram), oob: make([]byte, batchLen*oobLen)}
	for i := range b.hdrs {
		b.iov[i].Base = &b.buf[i*maxRTPDatagram]
		b.iov[i].SetLen(maxRTPDatagram)
		b.hdrs[i].Hdr.Iov = &b.iov[i]
		b.hdrs[i].Hdr.SetIovlen(1)
		b.hdrs[i].Hdr.Control = &b.oob[i*oobLen]
	}
	return b
}

// arrival returns when datagram i arrived, from its kernel time stamp,
// on the clock of now (read just after the datagrams were taken), or now
// without a usable stamp.
func (b *readBatch) arrival(i int, now time.Time) time.Time {
	oob := b.oob[i*oobLen:][:min(int(b.hdrs[i].Hdr.Controllen), oobLen)]
	if len(oob) < unix.SizeofCmsghdr {
		return now
	}
	c, data, _, err := unix.ParseOneSocketControlMessage(oob)
	if err != nil || c.Level != unix.SOL_SOCKET || c.Type != unix.SCM_TIMESTAMPNS || len(data) < int(unsafe.Sizeof(unix.Timespec{})) {
		return now
	}
	ts := (*unix.Timespec)(unsafe.Pointer(&data[0]))
	ago := time.Duration(now.UnixNano() - ts.Nano())
	if ago < 0 || ago > time.Second {
		return now // the wall clock moved
	}
	return now.Add(-ago)
}

// drain calls fn with each datagram waiting in the socket and its arrival
// time, without blocking, until none is left; datagrams cut short (longer
// than maxRTPDatagram) are dropped. It returns how many datagrams it took,
// and net.ErrClosed once the socket is closed, or the error of a failed
// read.
func (s *rawUDP) drain(b *readBatch, fn func(d []byte, arrival time.Time)) (taken int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, net.ErrClosed
	}
	for {
		for i := range b.hdrs {
			b.hdrs[i].Hdr.Flags = 0
			b.hdrs[i].Hdr.SetControllen(oobLen)
		}
		// Never blocks (MSG_DONTWAIT), so it need not tell the scheduler.
		// (x/sys/unix has the types but no recvmmsg.)
		r, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(s.fd),
			uintptr(unsafe.Pointer(&b.hdrs[0])), batchLen, unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return taken, nil
		default:
			return taken, os.NewSyscallError("recvmmsg", e)
		}
		n := int(r)
		taken += n
		now := time.Now()
		for i := range n {
			if b.hdrs[i].Hdr.Flags&unix.MSG_TRUNC != 0 {
				continue
			}
			fn(b.buf[i*maxRTPDatagram:i*maxRTPDatagram+int(b.hdrs[i].Len)], b.arrival(i, now))
		}
		if n < batchLen {
			return taken, nil
		}
	}
}
