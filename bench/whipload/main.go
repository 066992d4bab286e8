//go:build linux

// Command whipload is the WebRTC load benchmark of the recording server
// (issue 4): N pion publishers on loopback send the same VP8 + Opus media
// over WHIP, and the server records every session.
//
// It runs as two processes, so that what the publishers cost is not
// counted as the server's:
//
//	whipload server  -dir D -ready F [-autorecord]
//	whipload publish -ready F -n N [-seconds S] ...
//
// The server process runs server.New on loopback and a side HTTP listener
// with /debug/stats (heap after GC, goroutines, open fds, CPU time, and
// what the server logged about its tracks and recordings) and
// /debug/pprof. The publish process starts the publishers, walks the
// phases (baseline, connected, recording, ended), checks every recorded
// file with ffmpeg and ffprobe, and prints the table. bench/whip-load.sh
// builds it, makes the media and runs both.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "server":
		err = runServer(os.Args[2:])
	case "publish":
		err = runPublish(os.Args[2:])
	case "-h", "-help", "--help", "help":
		usage()
		return
	default:
		usage()
		os.Exit(2)
	}
	if err == errUsage {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "whipload:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  whipload server  -dir DIR -ready FILE [-autorecord] [-addr A] [-stats-addr A]
  whipload publish -ready FILE -n N -video F.ivf -audio F.ogg [-seconds S] [-rate R] ...
"whipload server -h" and "whipload publish -h" list the flags.
`)
}
