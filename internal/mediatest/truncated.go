package mediatest

import (
	"bytes"
	"os/exec"
	"testing"
)

// FFprobeTruncated is FFprobe for files that are cut short on purpose (a
// crash, a full disk): ffprobe's complaints about the end of the file are
// returned instead of failing the test. It still fails when ffprobe cannot
// read the file at all.
func FFprobeTruncated(t testing.TB, path string) (Probe, string) {
	t.Helper()
	ffprobe := RequireTool(t, "ffprobe")
	cmd := exec.CommandContext(t.Context(), ffprobe, "-v", "error", "-show_format", "-show_streams",
		"-count_frames", "-of", "json", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("mediatest: ffprobe %s: %v\n%s", path, err, stderr.Bytes())
		return Probe{}, stderr.String()
	}
	p, err := parseFFprobe(stdout.Bytes())
	if err != nil {
		t.Fatalf("mediatest: ffprobe %s: %v", path, err)
	}
	return p, stderr.String()
}
