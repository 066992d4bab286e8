// Package id makes the random identifiers of tracks, streams, sessions and
// recordings: one implementation for the root package, rtpsource and the
// server.
package id

import (
	"crypto/rand"
	"encoding/hex"
)

// New returns a random identifier in UUID (version 4) form, lower-case hex
// digits and dashes: 36 bytes, safe in URLs and file names.
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Valid reports whether s has the form New returns (any version and
// variant digits), so that a name that reached an outside interface may
// safely reach the filesystem.
func Valid(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}
