package cli

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gomediarecorder/mediarecorder/mp4"
	"github.com/gomediarecorder/mediarecorder/ogg"
	"github.com/gomediarecorder/mediarecorder/webm"
)

func fixCmd(fs *flag.FlagSet, stderr io.Writer) func() error {
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: mediarecorder fix IN OUT\n\n"+
			"Turns a WebM/Matroska recording made by a browser's MediaRecorder (no Duration, no Cues,\n"+
			"unknown sizes, possibly cut off) into a finished, seekable OUT. No media byte changes.\n"+
			"A fragmented MP4 or an Ogg file cut off (a crash) keeps its whole fragments or pages.\n")
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
	br := bufio.NewReaderSize(f, 1<<20)
	progress := func(done, _ int64) { bar.set(done) }
	var problems []string
	switch head, _ := br.Peek(8); {
	case string(head[:min(4, len(head))]) == "OggS":
		var rep ogg.FixReport
		rep, err = ogg.Fix(tmp, br)
		problems = rep.Problems
	case len(head) == 8 && strings.Contains(" ftyp styp moov free skip wide ", " "+string(head[4:])+" "):
		var rep mp4.FixReport
		rep, err = mp4.Fix(tmp, br, mp4.FixOptions{Progress: progress})
		problems = rep.Problems
	default:
		var rep webm.FixReport
		rep, err = webm.Fix(tmp, br, webm.FixOptions{Progress: progress})
		problems = rep.Problems
	}
	bar.done()
	if err != nil {
		discard(tmp)
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := commit(tmp, out, true); err != nil {
		return err
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "mediarecorder fix: %s: fixed: %s\n", in, strings.Join(problems, "; "))
	}
	return nil
}
