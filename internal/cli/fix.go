package cli

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gomediarecorder/mediarecorder/webm"
)

func fixCmd(fs *flag.FlagSet, stderr io.Writer) func() error {
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: mediarecorder fix IN OUT\n\n"+
			"Turns a WebM/Matroska recording made by a browser's MediaRecorder (no Duration, no Cues,\n"+
			"unknown sizes, possibly cut off) into a finished, seekable OUT. No media byte changes.\n")
		fs.PrintDefaults()
	}
	return func() error {
		if fs.NArg() != 2 {
			return usageError{"fix takes IN and OUT"}
		}
		return fix(fs.Arg(0), fs.Arg(1), stderr)
	}
}

func fix(in, out string, stderr io.Writer) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%s: is a directory", in)
	}
	if st.Size() == 0 {
		return fmt.Errorf("%s: empty file", in)
	}
	tmp, err := createTemp(out)
	if err != nil {
		return err
	}
	bar := newProgress(stderr, st.Size(), 64<<20, "fixing", true)
	rep, err := webm.Fix(tmp, bufio.NewReaderSize(f, 1<<20), webm.FixOptions{
		Progress: func(done, _ int64) { bar.set(done) },
	})
	bar.done()
	if err != nil {
		discard(tmp)
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := commit(tmp, out, true); err != nil {
		return err
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintf(stderr, "mediarecorder fix: %s: fixed: %s\n", in, strings.Join(rep.Problems, "; "))
	}
	return nil
}
