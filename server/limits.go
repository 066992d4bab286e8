package server

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Defaults of the limits in Config, taken where a field is zero.
const (
	DefaultCapacity        = 100
	DefaultSessionsPerAddr = 10
	DefaultConnsPerAddr    = 64
	DefaultMaxCandidates   = 100
	DefaultConnectTimeout  = 10 * time.Second
	DefaultHeaderTimeout   = 10 * time.Second
	DefaultBodyTimeout     = 30 * time.Second
	DefaultIdleTimeout     = 30 * time.Second
	DefaultWriteTimeout    = 30 * time.Second
)

// limits are the limits of a Config with its defaults applied: a count
// of 0 or a duration of 0 means no limit.
type limits struct {
	capacity, sessionsPerAddr, connsPerAddr, maxCandidates int
	connect, header, body, idle, write                     time.Duration
}

// limitsOf applies the defaults: zero takes the default, a negative value
// means no limit.
func limitsOf(c Config) limits {
	n := func(v, def int) int {
		switch {
		case v == 0:
			return def
		case v < 0:
			return 0
		}
		return v
	}
	d := func(v, def time.Duration) time.Duration {
		switch {
		case v == 0:
			return def
		case v < 0:
			return 0
		}
		return v
	}
	return limits{
		capacity:        n(c.Capacity, DefaultCapacity),
		sessionsPerAddr: n(c.SessionsPerAddr, DefaultSessionsPerAddr),
		connsPerAddr:    n(c.ConnsPerAddr, DefaultConnsPerAddr),
		maxCandidates:   n(c.MaxCandidates, DefaultMaxCandidates),
		connect:         d(c.ConnectTimeout, DefaultConnectTimeout),
		header:          d(c.HeaderTimeout, DefaultHeaderTimeout),
		body:            d(c.BodyTimeout, DefaultBodyTimeout),
		idle:            d(c.IdleTimeout, DefaultIdleTimeout),
		write:           d(c.WriteTimeout, DefaultWriteTimeout),
	}
}

// addrOf returns the IP address of a remote address "host:port" (the
// whole string when it has no port).
func addrOf(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return host
}

// errFull is why a session slot was refused.
var (
	errCapacity = errors.New("server: at capacity")
	errPerAddr  = errors.New("server: too many sessions from this address")
)

// slots counts the WHIP sessions held, in all and per client address,
// from the moment an offer is accepted for answering until the session
// ends.
type slots struct {
	mu     sync.Mutex
	total  int
	byAddr map[string]int
}

// take reserves a slot for a session from addr, or says why not.
func (sl *slots) take(addr string, l limits) error {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if l.capacity > 0 && sl.total >= l.capacity {
		return errCapacity
	}
	if l.sessionsPerAddr > 0 && sl.byAddr[addr] >= l.sessionsPerAddr {
		return errPerAddr
	}
	if sl.byAddr == nil {
		sl.byAddr = map[string]int{}
	}
	sl.total++
	sl.byAddr[addr]++
	return nil
}

// give returns a slot taken for addr.
func (sl *slots) give(addr string) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	sl.total--
	if sl.byAddr[addr]--; sl.byAddr[addr] <= 0 {
		delete(sl.byAddr, addr)
	}
}

// count returns how many slots are taken.
func (sl *slots) count() int {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return sl.total
}

// retryAfter is the Retry-After (seconds) answered when the server is
// full: by then sessions that never connect have been ended.
func (l limits) retryAfter() string {
	s := int(math.Ceil(l.connect.Seconds()))
	if s < 1 {
		s = 1
	}
	return strconv.Itoa(s)
}

// Listener is a net.Listener that bounds the connections open at once
// from one client IP address: a connection over the bound is answered
// "503 Service Unavailable" (with Retry-After) and closed at once, and
// Accept goes on to the next one.
type Listener struct {
	net.Listener
	perAddr int
	log     *slog.Logger
	tls     *tls.Config // set with HTTPS: refusals are answered over TLS (tls.go)

	mu     sync.Mutex
	open   int
	byAddr map[string]int
}

// Listener wraps ln so that it bounds the connections per client address
// (Config.ConnsPerAddr). Serve the HTTPServer on it.
func (s *Server) Listener(ln net.Listener) *Listener {
	return &Listener{Listener: ln, perAddr: s.lim.connsPerAddr, log: s.log, byAddr: map[string]int{}, tls: s.refusalTLS()}
}

// tooMany is the answer to a connection over the bound.
const tooMany = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"

// Accept returns the next connection within the bound.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := addrOf(c.RemoteAddr().String())
		l.mu.Lock()
		over := l.perAddr > 0 && l.byAddr[addr] >= l.perAddr
		if !over {
			l.open++
			l.byAddr[addr]++
		}
		l.mu.Unlock()
		if over {
			l.log.Debug("http: too many connections", "remote", addr, "limit", l.perAddr)
			if l.tls != nil {
				go refuseTLS(c, l.tls, l.perAddr)
			} else {
				go refuse(c, l.perAddr)
			}
			continue
		}
		return &limitedConn{Conn: c, l: l, addr: addr}, nil
	}
}

// refuse answers a connection over the bound and closes it.
func refuse(c net.Conn, limit int) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	answerRefusal(c, c, limit)
}

// answerRefusal answers the request on rw (c itself, or TLS over it) with
// 503. It waits for the request head first: a response that arrives
// before the client has sent its request is one the client's HTTP stack
// drops as unsolicited, and the client sees a broken connection instead
// of the 503. Then it reads what else the client sent, so that closing c
// does not reset the connection before the answer is read. c's deadline
// bounds it all.
func answerRefusal(rw io.ReadWriter, c net.Conn, limit int) {
	head := make([]byte, 0, 1024)
	var buf [512]byte
	for !bytes.Contains(head, []byte("\r\n\r\n")) && len(head) < 8<<10 {
		n, err := rw.Read(buf[:])
		head = append(head, buf[:n]...)
		if err != nil {
			break
		}
	}
	body := fmt.Sprintf(`{"error":{"name":"QuotaExceededError","message":"more than %d connections from this address"}}`+"\n", limit)
	_, _ = fmt.Fprintf(rw, tooMany, len(body), body)
	if cw, ok := rw.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite() // close_notify over TLS, FIN on TCP
	}
	if tc, ok := c.(*net.TCPConn); ok && rw != net.Conn(tc) {
		_ = tc.CloseWrite()
	}
	for {
		if _, err := c.Read(buf[:]); err != nil {
			break
		}
	}
}

// Open returns how many accepted connections are open.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

func (l *Listener) release(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.byAddr[addr]--; l.byAddr[addr] <= 0 {
		delete(l.byAddr, addr)
	}
}

// limitedConn gives its slot back when closed.
type limitedConn struct {
	net.Conn
	l    *Listener
	addr string
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.addr) })
	return err
}

// HTTPServer returns an http.Server for s with its timeouts
// (Config.HeaderTimeout, IdleTimeout; BodyTimeout and WriteTimeout are
// applied per request by the handler, so that live event streams and
// media downloads go on while they make progress).
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		TLSConfig:         s.TLSConfig(),
		ReadHeaderTimeout: s.lim.header,
		IdleTimeout:       s.lim.idle,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}
