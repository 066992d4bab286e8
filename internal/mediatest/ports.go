package mediatest

import (
	"net"
	"testing"
)

// FreeUDPPorts returns n even UDP ports on 127.0.0.1 that, with the odd port
// above each (for RTCP), were free a moment ago and are at least 4 apart.
func FreeUDPPorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var held []*net.UDPConn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for tries := 0; len(ports) < n && tries < 200; tries++ {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		p := c.LocalAddr().(*net.UDPAddr).Port &^ 1
		c.Close()
		if p < 1024 || p > 65530 {
			continue
		}
		ok := true
		for _, q := range ports {
			if p-q < 4 && q-p < 4 {
				ok = false
			}
		}
		if !ok {
			continue
		}
		var pair []*net.UDPConn
		for _, q := range []int{p, p + 1} {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: q})
			if err != nil {
				break
			}
			pair = append(pair, c)
		}
		held = append(held, pair...)
		if len(pair) == 2 {
			ports = append(ports, p)
		}
	}
	if len(ports) < n {
		t.Fatal("no free UDP ports")
	}
	return ports
}
