package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// oggHeaderPages returns the bytes of an Ogg file's first two pages
// (OpusHead, OpusTags).
func oggHeaderPages(t *testing.T, b []byte) []byte {
	t.Helper()
	third := bytes.Index(b[bytes.Index(b[1:], []byte("OggS"))+2:], []byte("OggS"))
	if third < 0 {
		t.Fatal("fewer than three Ogg pages")
	}
	return b[:third+bytes.Index(b[1:], []byte("OggS"))+2]
}

// Inputs that hold no frame, valid or damaged, end in exit 1 naming OUT
// (record) or IN (fix) and saying "no frames", with no OUT left behind.
// Before, record exited 0 with a 0-byte OUT and fix with a header and no
// frames.
func TestNoFrames(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ivf, _ := os.ReadFile(mediatest.Testdata(t, "vp8.ivf"))
	ogg, _ := os.ReadFile(mediatest.Testdata(t, "opus-stereo.ogg"))
	av, err := os.ReadFile(fixture(t, "browser/webm-ts1000/concat.webm")) // live: unknown sizes
	if err != nil {
		t.Fatal(err)
	}
	cluster := bytes.Index(av, []byte{0x1F, 0x43, 0xB6, 0x75})
	headerIVF := write("header.ivf", ivf[:32])
	headerOgg := write("header.ogg", oggHeaderPages(t, ogg))
	headerWebM := write("header.webm", av[:cluster])
	// A WebM whose blocks are all garbage: every byte after the header
	// flipped.
	garbled := bytes.Clone(av)
	for i := cluster + 4; i < len(garbled); i++ {
		garbled[i] ^= 0xA5
	}
	garbledWebM := write("garbled.webm", garbled)
	out := filepath.Join(dir, "out.webm")
	for _, c := range []struct {
		args []string
		name string // in the message
	}{
		{[]string{"record", "-o", out, headerIVF}, out},
		{[]string{"record", "-o", out, headerOgg}, out},
		{[]string{"record", "-o", out, headerWebM}, out},
		{[]string{"record", "-o", out, garbledWebM}, out},
		{[]string{"record", "-o", "-", headerIVF}, "standard output"},
		{[]string{"fix", headerWebM, out}, headerWebM},
		{[]string{"fix", garbledWebM, out}, garbledWebM},
		{[]string{"fix", headerWebM, "-"}, headerWebM},
	} {
		code, stdout, stderr := runCLI(c.args...)
		if code != 1 || !strings.Contains(stderr, "no frames") || !strings.Contains(stderr, c.name) ||
			strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q", c.args, code, stderr)
		}
		if stdout != "" {
			t.Errorf("%v: %d bytes on stdout", c.args, len(stdout))
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: OUT left behind", c.args)
			os.Remove(out)
		}
	}
}
