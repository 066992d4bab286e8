// Command rtploss is the lossy-network half of bench/rtp-loss.sh: a UDP
// relay that loses, delays and reorders RTP packets on loopback and copies
// what survives to several receivers, and a recorder of an SDP input
// through rtpsource (what `mediarecorder record IN.sdp` does) that prints
// the track's counters.
//
//	rtploss relay  -listen PORT -to PORT[,PORT...] -loss P -delay D -jitter D -seed N -idle D
//	rtploss record -sdp FILE -out FILE -idle D
//
// relay sends each packet it keeps to every -to port after the same delay
// (uniform in delay±jitter, so packets overtake each other), so every
// receiver gets the very same packets in the same order; it exits once no
// packet came for -idle and every delayed packet is out, and prints what
// it did as JSON. record records until its input is idle for -idle, then
// prints the video track's rtpsource.Stats as JSON.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/rtpsource"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet("rtploss "+os.Args[1], flag.ExitOnError)
	var run func() error
	switch os.Args[1] {
	case "relay":
		run = relayCmd(fs)
	case "record":
		run = recordCmd(fs)
	default:
		usage()
	}
	_ = fs.Parse(os.Args[2:])
	if err := run(); err != nil {
		slog.Error("rtploss "+os.Args[1], "err", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: rtploss relay|record [flags]  (rtploss MODE -h for the flags)")
	os.Exit(2)
}

// relayStats is what relay prints.
type relayStats struct {
	Received  int `json:"received"`
	Lost      int `json:"lost"`
	Forwarded int `json:"forwarded"`
	Reordered int `json:"reordered"` // packets sent after one that arrived later
}

func relayCmd(fs *flag.FlagSet) func() error {
	listen := fs.Int("listen", 0, "UDP port to receive on (127.0.0.1)")
	to := fs.String("to", "", "comma-separated UDP ports to send to (127.0.0.1)")
	loss := fs.Float64("loss", 0.05, "probability of losing each packet")
	delay := fs.Duration("delay", 50*time.Millisecond, "mean delay")
	jitter := fs.Duration("jitter", 20*time.Millisecond, "the delay is uniform in delay±jitter")
	seed := fs.Uint64("seed", 1, "random seed (the same seed loses the same packets)")
	idle := fs.Duration("idle", 3*time.Second, "exit after this long without a packet (after the first)")
	return func() error {
		if *listen == 0 || *to == "" {
			return errors.New("-listen and -to are required")
		}
		var dsts []*net.UDPAddr
		for p := range strings.SplitSeq(*to, ",") {
			n, err := strconv.Atoi(p)
			if err != nil {
				return fmt.Errorf("-to: %w", err)
			}
			dsts = append(dsts, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: n})
		}
		in, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: *listen})
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return err
		}
		defer out.Close()
		rng := rand.New(rand.NewPCG(*seed, 0x7274706c6f7373))
		var st relayStats
		var mu sync.Mutex
		var wg sync.WaitGroup
		var lastSent time.Time
		first := true
		buf := make([]byte, 2048)
		for {
			d := *idle
			if first {
				d = time.Minute
			}
			_ = in.SetReadDeadline(time.Now().Add(d))
			n, _, err := in.ReadFromUDP(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break
				}
				return err
			}
			first = false
			st.Received++
			if rng.Float64() < *loss {
				st.Lost++
				continue
			}
			pkt := append([]byte(nil), buf[:n]...)
			wait := *delay - *jitter + time.Duration(rng.Int64N(int64(2**jitter)+1))
			due := time.Now().Add(wait)
			wg.Add(1)
			time.AfterFunc(wait, func() {
				defer wg.Done()
				mu.Lock()
				defer mu.Unlock()
				for _, a := range dsts {
					_, _ = out.WriteToUDP(pkt, a)
				}
				st.Forwarded++
				if due.Before(lastSent) {
					st.Reordered++
				}
				lastSent = due
			})
		}
		wg.Wait()
		b, _ := json.Marshal(st)
		fmt.Println(string(b))
		return nil
	}
}

func recordCmd(fs *flag.FlagSet) func() error {
	sdp := fs.String("sdp", "", "SDP file of the input")
	outPath := fs.String("out", "", "output file")
	idle := fs.Duration("idle", 3*time.Second, "stop when no packet came for this long")
	return func() error {
		if *sdp == "" || *outPath == "" {
			return errors.New("-sdp and -out are required")
		}
		src, err := rtpsource.ListenSDP(*sdp, rtpsource.Options{})
		if err != nil {
			return err
		}
		defer src.Close()
		var tracks []mr.Track
		for _, t := range src.Tracks() {
			tracks = append(tracks, t)
		}
		rec, err := mr.New(mr.NewStream(tracks...), mr.Options{})
		if err != nil {
			return err
		}
		f, err := os.Create(*outPath)
		if err != nil {
			return err
		}
		defer f.Close()
		done := make(chan struct{})
		var recErr error
		rec.OnError(func(err error) { recErr = err })
		rec.OnStop(func() { close(done) })
		if err := rec.StartFile(f, 0); err != nil {
			return err
		}
		fmt.Println(`{"ready":true}`)
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		runErr := src.Run(ctx, *idle)
		if err := rec.Stop(); err != nil && !errors.Is(err, mr.ErrInvalidState) {
			return err
		}
		<-done
		if err := f.Close(); err != nil {
			return err
		}
		for _, t := range src.Tracks() {
			if t.Kind() == mr.KindVideo {
				b, _ := json.Marshal(t.Stats())
				fmt.Println(string(b))
			}
		}
		return errors.Join(runErr, recErr)
	}
}
