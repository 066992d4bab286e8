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
