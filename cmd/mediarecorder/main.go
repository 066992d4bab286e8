// Command mediarecorder records, probes and repairs media recordings with
// the MediaRecorder library. Run it without arguments for the list of
// subcommands; -h after a subcommand lists its flags.
package main

import (
	"os"

	"github.com/gomediarecorder/mediarecorder/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
