//go:build unix

package rtpsource

import "syscall"

// msgTrunc is the flag ReadMsgUDP reports for a datagram cut short.
const msgTrunc = syscall.MSG_TRUNC
