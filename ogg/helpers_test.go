package ogg

import (
	"bytes"
	"fmt"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// run runs a tool and returns its stdout and stderr, failing the test if it
// exits with an error.
func run(t testing.TB, name string, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(mediatest.RequireTool(t, name), args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, e.String())
	}
	return o.String(), e.String()
}

var (
	ffmpegMu    sync.Mutex
	ffmpegCache = map[string][]byte{}
)

// ffmpegOpus returns an Ogg Opus file made by ffmpeg's libopus encoder from
// a 2 s sine, cached for the test binary's lifetime.
func ffmpegOpus(t testing.TB, channels int, frameMS string, inputRate int) []byte {
	t.Helper()
	key := fmt.Sprint(channels, frameMS, inputRate)
	ffmpegMu.Lock()
	defer ffmpegMu.Unlock()
	if b, ok := ffmpegCache[key]; ok {
		return b
	}
	p := filepath.Join(t.TempDir(), "in.opus")
	run(t, "ffmpeg", "-v", "error", "-f", "lavfi",
		"-i", fmt.Sprintf("sine=frequency=440:duration=2:sample_rate=%d", inputRate),
		"-ac", fmt.Sprint(channels), "-c:a", "libopus", "-b:a", "64k",
		"-frame_duration", frameMS, p)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	ffmpegCache[key] = b
	return b
}

// writeTemp writes b to a file in a test temporary directory.
func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// mustPage encodes a page.
func mustPage(t testing.TB, p Page) []byte {
	t.Helper()
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lacing returns the lacing values of packets laid out on one page.
func lacing(sizes ...int) []byte {
	var l []byte
	for _, n := range sizes {
		for ; n >= 255; n -= 255 {
			l = append(l, 255)
		}
		l = append(l, byte(n))
	}
	return l
}

// pattern returns n bytes of a recognisable pattern starting with b0.
func pattern(n int, b0 byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = b0 + byte(i*7)
	}
	return b
}

// rawPage is a page as read by an independent parser: a check on Reader.
type rawPage struct {
	flags   byte
	granule int64
	serial  uint32
	seq     uint32
	segs    []byte
	body    []byte
	raw     []byte
}

// splitPages parses a well-formed Ogg stream without the Reader.
func splitPages(t testing.TB, b []byte) []rawPage {
	t.Helper()
	var pages []rawPage
	le32 := func(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24 }
	for len(b) > 0 {
		if len(b) < 27 || string(b[:4]) != "OggS" {
			t.Fatalf("splitPages: no page at %q", b[:min(len(b), 8)])
		}
		n := int(b[26])
		body := 0
		for _, v := range b[27 : 27+n] {
			body += int(v)
		}
		size := 27 + n + body
		p := rawPage{
			flags:   b[5],
			granule: int64(le32(b[6:])) | int64(le32(b[10:]))<<32,
			serial:  le32(b[14:]),
			seq:     le32(b[18:]),
			segs:    b[27 : 27+n],
			body:    b[27+n : size],
			raw:     b[:size],
		}
		pages = append(pages, p)
		b = b[size:]
	}
	return pages
}
