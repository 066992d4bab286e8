package cli

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// ffmpegAccepts reports whether ffmpeg opens the file at path and decodes
// at least one frame of it (exit status 0, a framecrc line); msg is what
// it said otherwise.
func ffmpegAccepts(t testing.TB, path string) (ok bool, msg string) {
	t.Helper()
	ffmpeg := mediatest.RequireTool(t, "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-hide_banner", "-v", "error",
		"-i", path, "-map", "0", "-f", "framecrc", "-")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	frames := 0
	for _, l := range strings.Split(stdout.String(), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			frames++
		}
	}
	if err != nil || frames == 0 {
		return false, fmt.Sprintf("ffmpeg: %v, %d frames: %s", err, frames, oneLine(stderr.String()))
	}
	return true, ""
}

// damage returns damaged copies of a WebM/Matroska file: its header
// elements broken the ways real damage broke them (CodecID, CodecPrivate,
// picture size, an element size overflowing its parent), random bytes of
// its Tracks and of the whole file flipped, and a cut.
func damage(b []byte, seed uint64) map[string][]byte {
	r := rand.New(rand.NewPCG(seed, 1))
	out := map[string][]byte{}
	tracks := bytes.Index(b, []byte{0x16, 0x54, 0xAE, 0x6B})
	cluster := bytes.Index(b[max(tracks, 0):], []byte{0x1F, 0x43, 0xB6, 0x75})
	if tracks < 0 || cluster < 0 {
		return out
	}
	hdr := b[tracks : tracks+cluster] // the Tracks element and what follows it before the first Cluster
	at := func(name string, pat []byte, f func(c []byte, i int)) {
		if i := bytes.Index(hdr, pat); i >= 0 {
			c := bytes.Clone(b)
			f(c, tracks+i)
			out[name] = c
		}
	}
	// CodecID: its first letters (V_/A_) garbled.
	at("codecid", []byte{0x86}, func(c []byte, i int) {
		if j := bytes.Index(c[i:tracks+cluster], []byte("_")); j > 0 && j < 8 {
			copy(c[i+j-1:], "Z?")
		}
	})
	// CodecPrivate: its body inverted.
	at("codecprivate", []byte{0x63, 0xA2}, func(c []byte, i int) {
		n := int(c[i+2] & 0x7f)
		for k := i + 3; k < i+3+n && k < len(c); k++ {
			c[k] ^= 0xFF
		}
	})
	// PixelWidth and PixelHeight: 0.
	at("picture", []byte{0xB0}, func(c []byte, i int) {
		for _, id := range []byte{0xB0, 0xBA} {
			if j := bytes.IndexByte(c[i:tracks+cluster], id); j >= 0 && j < 16 {
				n := int(c[i+j+1] & 0x7f)
				for k := 0; k < n; k++ {
					c[i+j+2+k] = 0
				}
			}
		}
	})
	// The CodecID's size: larger than its TrackEntry.
	at("size", []byte{0x86}, func(c []byte, i int) { c[i+1] = 0x80 | 0x70 })
	for k := 0; k < 3; k++ {
		c := bytes.Clone(b)
		for n := 1 + r.IntN(3); n > 0; n-- {
			c[tracks+r.IntN(cluster)] ^= byte(1 + r.IntN(255))
		}
		out[fmt.Sprintf("tracks-flip-%d", k)] = c
	}
	c := bytes.Clone(b)
	for n := 0; n < 20; n++ {
		c[r.IntN(len(c))] ^= byte(1 + r.IntN(255))
	}
	out["flip"] = c
	out["cut"] = bytes.Clone(b[:tracks+cluster+r.IntN(len(b)-tracks-cluster)])
	return out
}

// TestDamagedRecordings replays damaged copies of the browser fixtures
// through fix and record, and checks the rule: exit 0 only with an OUT that
// ffmpeg decodes; otherwise exit 1, one line naming the file. Before, fix
// copied a garbled CodecID, CodecPrivate, picture size or overflowing
// element as it was and exited 0 with a file ffmpeg rejects.
func TestDamagedRecordings(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	if testing.Short() {
		t.Skip("runs ffmpeg on each damaged copy")
	}
	dir := t.TempDir()
	ok, failed := 0, 0
	for i, name := range []string{
		"browser/av-5s.webm", "browser/av-3s-vp9.webm", "browser/audio-3s-opus.webm",
		"browser/av-3s-h264.mkv", "browser/webm-ts1000/concat.webm", "firefox/av-4s.webm",
	} {
		b, err := os.ReadFile(fixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		for kind, d := range damage(b, uint64(i)) {
			in := filepath.Join(dir, strings.NewReplacer("/", "-", ".", "-").Replace(name)+"-"+kind+filepath.Ext(name))
			if err := os.WriteFile(in, d, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, cmd := range []string{"fix", "record"} {
				out := filepath.Join(dir, "out"+filepath.Ext(name))
				args := []string{"fix", in, out}
				if cmd == "record" {
					args = []string{"record", "-o", out, in}
				}
				code, _, stderr := runCLI(args...)
				switch code {
				case 0:
					if good, msg := ffmpegAccepts(t, out); !good {
						t.Errorf("%s %s: exit 0, but %s (stderr %q)", cmd, filepath.Base(in), msg, stderr)
					}
					ok++
				case 1:
					if !strings.Contains(stderr, in) && !strings.Contains(stderr, out) ||
						strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
						t.Errorf("%s %s: exit 1, stderr %q", cmd, filepath.Base(in), stderr)
					}
					if _, err := os.Stat(out); err == nil {
						t.Errorf("%s %s: exit 1 and an OUT", cmd, filepath.Base(in))
					}
					failed++
				default:
					t.Errorf("%s %s: exit %d: %s", cmd, filepath.Base(in), code, stderr)
				}
				os.Remove(out)
			}
		}
	}
	t.Logf("%d runs succeeded (ffmpeg decodes each OUT), %d failed cleanly", ok, failed)
}
