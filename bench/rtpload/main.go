//go:build linux

// Command rtpload is a load benchmark of plain-RTP ingest: N senders of
// VP8 + Opus over UDP on loopback, recorded either by rtpsource and
// mediarecorder in one process or by one GStreamer process per stream,
// with the recorders' CPU and memory measured over the same window.
//
// Modes:
//
//	rtpload send   -n N -base PORT -duration D -video V.ivf -audio A.ogg
//	rtpload record -n N -base PORT -dir DIR [-cpuprofile F] [-memprofile F]
//	rtpload run    -impl ours,gst -n N -warmup D -window D -video V.ivf -audio A.ogg -out DIR
//
// send sends N streams in real time; record records N streams in this
// process until SIGINT or SIGTERM; run starts both (or N gst-launch-1.0
// processes), measures them and prints a table. Stream i uses the ports
// base+4i (VP8 RTP), base+4i+1 (its RTCP), base+4i+2 (Opus RTP) and
// base+4i+3 (its RTCP), all on 127.0.0.1. bench/rtp-load.sh runs it.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	mode, args := os.Args[1], os.Args[2:]
	fs := flag.NewFlagSet("rtpload "+mode, flag.ExitOnError)
	var run func() error
	switch mode {
	case "send":
		run = sendCmd(fs)
	case "record":
		run = recordCmd(fs)
	case "run":
		run = runCmd(fs)
	default:
		usage()
	}
	_ = fs.Parse(args)
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "rtpload %s: unexpected argument %q\n", mode, fs.Arg(0))
		os.Exit(2)
	}
	if err := run(); err != nil {
		slog.Error("rtpload "+mode, "err", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: rtpload send|record|run [flags]  (rtpload MODE -h for the flags)")
	os.Exit(2)
}

// Port layout of stream i.
func videoPort(base, i int) int { return base + 4*i }
func audioPort(base, i int) int { return base + 4*i + 2 }
