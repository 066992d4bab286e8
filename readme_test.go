package mediarecorder_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// TestREADMEProgram builds and runs the program in README.md's first Go
// block, as a user who copies it would, and has ffmpeg and ffprobe judge
// the file it writes.
func TestREADMEProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program and runs ffmpeg")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```go\npackage main\n")
	src, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README.md has no Go program (a ```go block starting with package main)")
	}
	dir := t.TempDir()
	main := filepath.Join(dir, "main.go")
	if err := os.WriteFile(main, []byte("package main\n"+src), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "tone")
	build := exec.Command("go", "build", "-o", bin, main) // in this module, as after go get
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := exec.Command(bin)
	run.Dir = dir
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("the README's program: %v\n%s", err, out)
	} else {
		t.Logf("%s", out)
	}
	mediatest.RequireTool(t, "ffmpeg")
	file := filepath.Join(dir, "tone.webm")
	if msg := mediatest.Decode(t, file); msg != "" {
		t.Errorf("ffmpeg: %s", msg)
	}
	p := mediatest.FFprobe(t, file)
	if len(p.Streams) != 1 || p.Streams[0].CodecName != "pcm_s16le" || p.Duration < 1.99 || p.Duration > 2.01 {
		t.Errorf("ffprobe: %+v", p)
	}
}
