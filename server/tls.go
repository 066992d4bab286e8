package server

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// certReloader serves a certificate from PEM files and reads them again
// when either changes (modification time or size), so that a renewed
// certificate is used from the next handshake on, without a restart. A
// pair that fails to load (e.g. caught half-written) leaves the previous
// certificate in use until the files load again.
type certReloader struct {
	certFile, keyFile string
	onErr             func(error)

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string    // mtimes and sizes of the loaded pair
	checked time.Time // last look at the files
}

// checkEvery is how often, at most, the files are looked at (a stat per
// handshake would be cheap too, but bursts of handshakes need not stat).
const checkEvery = time.Second

func newCertReloader(certFile, keyFile string, onErr func(error)) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile, onErr: onErr}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

// stampOf describes the files' versions.
func (c *certReloader) stampOf() (string, error) {
	a, err := os.Stat(c.certFile)
	if err != nil {
		return "", err
	}
	b, err := os.Stat(c.keyFile)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d/%d/%d/%d", a.ModTime().UnixNano(), a.Size(), b.ModTime().UnixNano(), b.Size()), nil
}

// load reads the pair. c.mu is held, or c is not shared yet.
func (c *certReloader) load() error {
	stamp, err := c.stampOf()
	if err != nil {
		return fmt.Errorf("TLS certificate: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s, key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert, c.stamp, c.checked = &cert, stamp, time.Now()
	return nil
}

// GetCertificate is tls.Config.GetCertificate.
func (c *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.checked) >= checkEvery {
		c.checked = time.Now()
		if stamp, err := c.stampOf(); err == nil && stamp != c.stamp {
			if err := c.load(); err != nil && c.onErr != nil {
				c.onErr(err)
			}
		}
	}
	return c.cert, nil
}

// TLSConfig returns the TLS configuration of HTTPS (Config.TLSCert and
// TLSKey), or nil when the server speaks plain HTTP. HTTP/2 is offered
// through ALPN.
func (s *Server) TLSConfig() *tls.Config {
	if s.certs == nil {
		return nil
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: s.certs.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}

// refusalTLS is the TLS configuration of the answers to connections over
// Config.ConnsPerAddr: HTTP/1.1 only, whatever the client offers, since
// the answer is one HTTP/1.1 response. Nil for plain HTTP.
func (s *Server) refusalTLS() *tls.Config {
	c := s.TLSConfig()
	if c != nil {
		c.NextProtos = []string{"http/1.1"}
	}
	return c
}

// refuseTLS answers a TLS connection over the bound: the handshake, then
// the 503 of refuse inside TLS, then close.
func refuseTLS(c net.Conn, conf *tls.Config, limit int) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	tc := tls.Server(c, conf)
	if err := tc.Handshake(); err != nil {
		return
	}
	answerRefusal(tc, c, limit)
}
