//go:build !unix

package rtpsource

// msgTrunc: no such flag here (a datagram cut short reads as garbage and
// fails to parse, or as a damaged frame).
const msgTrunc = 0
