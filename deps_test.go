package mediarecorder_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the root package free of pion, net/http and the
// server: the dependency direction of the layout stays true.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for dep := range strings.FieldsSeq(string(out)) {
		switch {
		case strings.Contains(dep, "github.com/pion/"),
			dep == "net/http",
			strings.HasPrefix(dep, "github.com/gomediarecorder/mediarecorder/server"),
			strings.HasPrefix(dep, "github.com/gomediarecorder/mediarecorder/rtpsource"),
			strings.HasPrefix(dep, "github.com/gomediarecorder/mediarecorder/filesource"),
			strings.HasPrefix(dep, "github.com/gomediarecorder/mediarecorder/internal/cli"),
			// Encoders register themselves; the root imports none (nor cgo).
			strings.HasPrefix(dep, "github.com/gomediarecorder/mediarecorder/encode"),
			dep == "runtime/cgo":
			t.Errorf("the root package depends on %s", dep)
		}
	}
}

// TestCodecTableDependencies keeps internal/codec, the codec table, a leaf:
// the standard library and the codecs/* bitstream packages only, so that
// every package above (containers, root, sources, command) may use it.
func TestCodecTableDependencies(t *testing.T) {
	const mod = "github.com/gomediarecorder/mediarecorder/"
	out, err := exec.Command("go", "list", "-deps", "./internal/codec").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for dep := range strings.FieldsSeq(string(out)) {
		first, _, _ := strings.Cut(dep, "/")
		switch {
		case dep == mod+"internal/codec", strings.HasPrefix(dep, mod+"codecs/"),
			dep == mod+"internal/bits": // the codecs' bit reader
		case !strings.Contains(first, "."): // the standard library
		default:
			t.Errorf("internal/codec depends on %s", dep)
		}
	}
}
