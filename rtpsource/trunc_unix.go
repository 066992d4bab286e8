//go:build unix && !linux

package rtpsource

import "syscall"

// msgTrunc is the flag ReadMsgUDP reports for a datagram cut short (the
// blocking readers of read_other.go; Linux reads with recvmmsg).
const msgTrunc = syscall.MSG_TRUNC
