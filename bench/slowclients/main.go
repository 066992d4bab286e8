// Command slowclients measures what slow and abusive clients cost a
// running `mediarecorder serve` (issue 10): it opens idle keep-alive
// connections and request bodies that stall after 5 bytes, and prints the
// server's open descriptors (from /proc/PID/fd) before, just after and
// -wait later; then it POSTs one WHIP offer with -candidates ICE
// candidates and prints the answer's status, the time to it and the
// server's CPU time (from /proc/PID/stat) spent meanwhile.
//
// With -offers N it then POSTs N offers without candidates (sessions that
// never connect) and follows the server's descriptors for 16 s.
//
//	go run ./bench/slowclients -url http://127.0.0.1:8080 -pid PID [-idle 200] [-stalled 50] [-wait 35s] [-candidates 5000] [-offers 500]
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "the server")
	pid := flag.Int("pid", 0, "the server's process id")
	idle := flag.Int("idle", 200, "idle keep-alive connections")
	stalled := flag.Int("stalled", 50, "request bodies stalled after 5 bytes")
	wait := flag.Duration("wait", 35*time.Second, "how long to wait before counting again")
	cands := flag.Int("candidates", 5000, "ICE candidates in the offer (0: none sent)")
	offers := flag.Int("offers", 0, "then POST this many offers without candidates (whose sessions never connect)")
	flag.Parse()
	if *pid == 0 {
		fmt.Fprintln(os.Stderr, "slowclients: -pid is required")
		os.Exit(2)
	}
	host := strings.TrimPrefix(*url, "http://")
	fmt.Printf("server fds before: %d\n", fds(*pid))
	var conns []net.Conn
	refused := 0
	for range *idle {
		c, err := net.Dial("tcp", host)
		if err != nil {
			refused++
			continue
		}
		fmt.Fprint(c, "GET /api/recordings HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			refused++
			c.Close()
			continue
		}
		resp.Body.Close()
		conns = append(conns, c)
	}
	for range *stalled {
		c, err := net.Dial("tcp", host)
		if err != nil {
			refused++
			continue
		}
		fmt.Fprint(c, "POST /whip HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\nContent-Length: 1000\r\n\r\nv=0\r\n")
		conns = append(conns, c)
	}
	time.Sleep(500 * time.Millisecond)
	fmt.Printf("%d idle + %d stalled clients (%d refused or answered 503): server fds %d\n", *idle, *stalled, refused, fds(*pid))
	time.Sleep(*wait)
	fmt.Printf("after %v: server fds %d\n", *wait, fds(*pid))
	for _, c := range conns {
		c.Close()
	}
	time.Sleep(time.Second)
	if *cands > 0 {
		candidates(*url, *pid, *cands)
	}
	if *offers > 0 {
		iceless(*url, *pid, *offers)
	}
}

const offerHead = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtpmap:111 opus/48000/2\r\n" +
	"a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\na=setup:actpass\r\n"

// iceless POSTs n offers without candidates, 20 at a time, and prints
// the answers' statuses and the server's descriptors then and later.
func iceless(url string, pid, n int) {
	status := map[int]int{}
	sem := make(chan struct{}, 20)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			resp, err := http.Post(url+"/whip", "application/sdp", strings.NewReader(offerHead))
			code := 0
			if err == nil {
				code = resp.StatusCode
				resp.Body.Close()
			}
			mu.Lock()
			status[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	fmt.Printf("%d offers without candidates: statuses %v; server fds %d\n", n, status, fds(pid))
	for _, d := range []time.Duration{5 * time.Second, 6 * time.Second, 5 * time.Second} {
		time.Sleep(d)
		fmt.Printf("  later: server fds %d\n", fds(pid))
	}
}

// candidates POSTs one offer with n candidates.
func candidates(url string, pid, n int) {
	var offer bytes.Buffer
	offer.WriteString(offerHead)
	for i := range n {
		fmt.Fprintf(&offer, "a=candidate:%d 1 udp %d 127.0.0.%d %d typ host\r\n", i, 2130706431-i, 2+i/60000, 1024+i%60000)
	}
	size := offer.Len()
	cpu0, t0 := cpu(pid), time.Now()
	resp, err := http.Post(url+"/whip", "application/sdp", &offer)
	if err != nil {
		fmt.Println("offer:", err)
		return
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	d, c := time.Since(t0), cpu(pid)-cpu0
	msg := ""
	if resp.StatusCode != 201 {
		msg = strings.TrimSpace(string(b))
	}
	fmt.Printf("offer of %d KB with %d candidates: %d after %v, server CPU %v %s\n", size>>10, n, resp.StatusCode, d.Round(time.Millisecond), c, msg)
}

// fds counts the open descriptors of process pid.
func fds(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(ents)
}

// cpu returns the user+system CPU time of process pid.
func cpu(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * time.Second / 100 // USER_HZ
}
