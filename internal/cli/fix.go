package cli

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gomediarecorder/mediarecorder/mp4"
	"github.com/gomediarecorder/mediarecorder/ogg"
	"github.com/gomediarecorder/mediarecorder/webm"
)

func fixCmd(fs *flag.FlagSet, stdout, stderr io.Writer) func() error {
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: mediarecorder fix IN OUT\n\n"+
			"Turns a WebM/Matroska recording made by a browser's MediaRecorder (no Duration, no Cues,\n"+
			"unknown sizes, possibly cut off) into a finished, seekable OUT. No media byte changes.\n"+
			"A fragmented MP4 or an Ogg file cut off (a crash) keeps its whole fragments or pages.\n"+
			"OUT may be - (standard output), a FIFO or a device: written in place, never replaced.\n")
		fs.PrintDefaults()
	}
	return func() error {
		if fs.NArg() != 2 {
			return usageError{"fix takes IN and OUT"}
		}
		ctx, stop := signalContext()
		defer stop()
		return fix(ctx, fs.Arg(0), fs.Arg(1), stdout, stderr)
	}
}

// fixer repairs one container: it reads src and writes the finished file
// to dst, and returns what it found wrong (for stderr). It fails when
// nothing playable can be made, "no frames" included.
type fixer func(dst io.WriteSeeker, src io.Reader, progress func(done, total int64)) (problems []string, err error)

// fixerFor picks the fixer for a file that starts with head.
func fixerFor(head []byte) fixer {
	switch {
	case string(head[:min(4, len(head))]) == "OggS":
		return fixOgg
	case len(head) >= 8 && strings.Contains(" ftyp styp moov free skip wide ", " "+string(head[4:8])+" "):
		return fixMP4
	}
	return fixWebM
}

func fixOgg(dst io.WriteSeeker, src io.Reader, _ func(done, total int64)) ([]string, error) {
	rep, err := ogg.Fix(dst, src)
	return rep.Problems, err
}

func fixMP4(dst io.WriteSeeker, src io.Reader, progress func(done, total int64)) ([]string, error) {
	rep, err := mp4.Fix(dst, src, mp4.FixOptions{Progress: progress})
	return rep.Problems, err
}

func fixWebM(dst io.WriteSeeker, src io.Reader, progress func(done, total int64)) ([]string, error) {
	rep, err := webm.Fix(dst, src, webm.FixOptions{Progress: progress})
	return rep.Problems, err
}

func fix(ctx context.Context, in, out string, stdout, stderr io.Writer) error {
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
	src := bufio.NewReaderSize(f, 1<<20)
	head, _ := src.Peek(16)
	repair := fixerFor(head)
	o, err := openOut(ctx, out, stdout)
	if err != nil {
		return err
	}
	// A stream OUT cannot be finished in place: the file is made in a
	// scratch file, then copied into it.
	dst := o.tmp
	if o.isStream() {
		if dst, err = os.CreateTemp("", "mediarecorder-fix-*"); err != nil {
			o.discard()
			return err
		}
		defer discard(dst)
	}
	bar := newProgress(stderr, st.Size(), 64<<20, "fixing", true)
	problems, err := repair(dst, src, func(done, _ int64) { bar.set(done) })
	bar.done()
	if err != nil {
		o.discard()
		return fmt.Errorf("%s: %w", in, err)
	}
	if o.isStream() {
		if _, err := dst.Seek(0, io.SeekStart); err != nil {
			o.discard()
			return err
		}
		if _, err := io.Copy(o, dst); err != nil {
			o.discard()
			return err
		}
	}
	if err := o.commit(true); err != nil {
		return err
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "mediarecorder fix: %s: fixed: %s\n", in, strings.Join(problems, "; "))
	}
	return nil
}
