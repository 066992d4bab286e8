package rtpsource

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestPollPace(t *testing.T) {
	pc := pollPace{every: pollMax}
	// A busy socket halves the interval at each read, down to pollMin.
	for _, want := range []time.Duration{pollMax / 2, pollMax / 4, pollMax / 8, pollMin} {
		pc.note(pollBusy + 1)
		if pc.every != want {
			t.Fatalf("busy: every = %v, want %v", pc.every, want)
		}
	}
	// Moderate traffic holds it there.
	for range 3 * pollCalm {
		pc.note(pollBusy / 2)
	}
	if pc.every != pollMin {
		t.Fatalf("moderate: every = %v, want %v", pc.every, pollMin)
	}
	// Calm reads double it back, pollCalm reads at a time, up to pollMax;
	// one busy read in between starts the count again.
	pc.note(1)
	pc.note(pollBusy / 2)
	for range pollCalm - 1 {
		pc.note(1)
	}
	if pc.every != pollMin {
		t.Fatalf("calm count restarted: every = %v, want %v", pc.every, pollMin)
	}
	pc.note(1)
	if pc.every != 2*pollMin {
		t.Fatalf("calm: every = %v, want %v", pc.every, 2*pollMin)
	}
	for range 10 * pollCalm {
		pc.note(0)
	}
	if pc.every != pollMax {
		t.Fatalf("calm: every = %v, want %v", pc.every, pollMax)
	}
	// The next read falls on a multiple of the interval.
	now := time.Unix(100, int64(30*time.Millisecond))
	if got := pc.next(now); got != pollMax-30*time.Millisecond {
		t.Fatalf("next = %v", got)
	}
}

// TestRawUDP reads a burst through recvmmsg: every datagram, in order,
// stamped with when it arrived; one too large is dropped; a closed socket
// reports net.ErrClosed.
func TestRawUDP(t *testing.T) {
	c, err := listenUDP(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(c.fd)
	if err != nil {
		t.Fatal(err)
	}
	port := sa.(*unix.SockaddrInet4).Port
	out, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	// The kernel turns time stamping on a moment after the option is set
	// (a deferred switch, shared by every socket of the machine): until
	// then datagrams are stamped as they are read. Wait for a datagram
	// stamped as it came.
	b := newReadBatch()
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, err := out.Write([]byte{0}); err != nil {
			t.Fatal(err)
		}
		sentAt := time.Now()
		time.Sleep(20 * time.Millisecond)
		stamped := false
		if _, err := c.drain(b, func(_ []byte, at time.Time) { stamped = at.Before(sentAt.Add(10 * time.Millisecond)) }); err != nil {
			t.Fatal(err)
		}
		if stamped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("datagrams are not stamped as they arrive")
		}
	}

	const n = 3*batchLen + 5
	before := time.Now()
	for i := range n {
		size := 1200
		if i == 7 {
			size = maxRTPDatagram + 1
		}
		b := make([]byte, size)
		b[0] = byte(i)
		if _, err := out.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	sent := time.Now()
	time.Sleep(30 * time.Millisecond)
	var got []byte
	taken, err := c.drain(b, func(d []byte, at time.Time) {
		if len(d) != 1200 {
			t.Errorf("datagram of %d bytes", len(d))
		}
		if at.Before(before) || at.After(sent) {
			t.Errorf("arrival %v not within the sending (%v to %v)", at, before, sent)
		}
		got = append(got, d[0])
	})
	if err != nil {
		t.Fatal(err)
	}
	if taken != n || len(got) != n-1 {
		t.Fatalf("took %d, handed out %d; want %d and %d", taken, len(got), n, n-1)
	}
	for i, k := 0, 0; i < n; i++ {
		if i == 7 {
			continue
		}
		if got[k] != byte(i) {
			t.Fatalf("datagram %d is %d", k, got[k])
		}
		k++
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.drain(newReadBatch(), func([]byte, time.Time) {}); err != net.ErrClosed {
		t.Fatalf("drain after Close: %v", err)
	}
}
