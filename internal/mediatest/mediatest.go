// Package mediatest holds helpers for tests that handle real media: finding
// external tools (ffmpeg, ffprobe, mkvinfo), making and checking files with
// them, locating the module's testdata/ files, reading the raw IVF and WAV
// files kept there, finding a box in an MP4 file and spelling out
// hand-built bitstreams bit by bit (Bits).
//
// It is meant to be imported only from _test.go files of other packages.
// Helpers that take a testing.TB report problems through it; the plain
// readers (ReadIVF, ReadWAV) return errors instead and never panic.
//
// A helper that needs a tool skips the test when the tool is missing, unless
// the environment variable CI is "true": then a missing tool fails the test,
// so that a CI machine cannot silently skip the checks that matter. Under
// go test -short every helper that needs a tool skips the test.
package mediatest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RequireTool returns the path of the external tool name, found with
// exec.LookPath. When the tool is missing it skips the test, or, when the
// environment variable CI is "true", fails it with t.Fatal.
//
// Under go test -short it skips the test whatever the tool: -short is the
// fast tier, pure Go, with no external process.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("mediatest: needs %s; skipped in -short mode", name)
		return ""
	}
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mediatest: %s is required when CI=true: %v", name, err)
		} else {
			t.Skipf("mediatest: %s not found, skipping: %v", name, err)
		}
		return ""
	}
	return path
}

// Testdata returns the absolute path of the file name in the module's
// testdata/ directory. The module root is found by walking up from the
// working directory (the package directory under go test) to the nearest
// go.mod. The test fails at once when the root or the file cannot be found.
func Testdata(t testing.TB, name string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("mediatest: %v", err)
		return ""
	}
	path := filepath.Join(root, "testdata", filepath.FromSlash(name))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("mediatest: testdata file: %v", err)
		return ""
	}
	return path
}

// moduleRoot returns the nearest directory at or above the working
// directory that holds a go.mod file.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errNoModule
		}
		dir = parent
	}
}
