package mediatest

import (
	"os/exec"
	"testing"
)

// execOutput runs name with args and returns its combined output.
func execOutput(t *testing.T, name string, args ...string) ([]byte, error) {
	return exec.CommandContext(t.Context(), name, args...).CombinedOutput()
}
