package server

import (
	"os"
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/s3test"
)

// TestMain stops the package's shared SeaweedFS (s3test.Shared) after the
// tests.
func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }
