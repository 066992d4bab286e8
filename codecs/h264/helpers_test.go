package h264

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// requireTool returns the path of an external tool, skipping the test when
// it is missing (failing it when CI=true).
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required when CI=true: %v", name, err)
		}
		t.Skipf("%s not found: %v", name, err)
	}
	return p
}

// ffmpeg runs ffmpeg with args (the output file last, relative to dir) and
// returns the output's path.
func ffmpeg(t testing.TB, dir string, args ...string) string {
	t.Helper()
	bin := requireTool(t, "ffmpeg")
	out := filepath.Join(dir, args[len(args)-1])
	args = append([]string{"-nostdin", "-hide_banner", "-v", "error", "-y"}, args[:len(args)-1]...)
	args = append(args, out)
	if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, b)
	}
	return out
}

// ffprobe runs ffprobe with args and the file path, returning stdout lines.
func ffprobe(t testing.TB, path string, args ...string) []string {
	t.Helper()
	bin := requireTool(t, "ffprobe")
	args = append([]string{"-v", "error"}, args...)
	args = append(args, path)
	b, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("ffprobe %v: %v", args, err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// bits builds a bit string from fields written as "value/width" pairs.
func bits(fields ...string) []byte {
	var out []byte
	var cur byte
	n := 0
	for _, f := range fields {
		v, w, _ := strings.Cut(f, "/")
		val, err := strconv.ParseUint(v, 0, 64)
		if err != nil {
			panic(err)
		}
		width, _ := strconv.Atoi(w)
		for i := width - 1; i >= 0; i-- {
			cur = cur<<1 | byte(val>>i&1)
			if n++; n == 8 {
				out, cur, n = append(out, cur), 0, 0
			}
		}
	}
	if n > 0 {
		out = append(out, cur<<(8-n))
	}
	return out
}
