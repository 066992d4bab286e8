package mediarecorder

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// TestStopAfterFailedPump: Stop comes while the samples queued before it
// fail to be written (here a full disk; in the field a damaged AV1 file's
// timestamps). The recording must still end — error, dataavailable, stop —
// instead of dropping the stop command and waiting forever (found by
// `record` on internal/cli/testdata/recorder-hang-av1.ivf).
func TestStopAfterFailedPump(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out.webm"))
	must(t, err)
	defer f.Close()
	track := pcmTrack()
	r := mustNew(t, NewStream(track), Options{})
	l := watch(r)
	release := make(chan struct{})
	var blocked atomic.Bool
	testHookWake = func(h *Recorder) {
		if h == r && !blocked.Load() {
			blocked.Store(true)
			<-release
		}
	}
	defer func() { testHookWake = nil }()
	must(t, r.StartFile(&mediatest.FullDisk{File: f, Limit: 64}, 0))
	for i := range 300 { // 576 KB: more than the file's write buffer
		must(t, track.WriteSample(pcm20ms(i)))
	}
	// The goroutine is held at its first wake-up (or has not woken yet):
	// the samples and the stop command are queued together.
	for deadline := time.Now().Add(10 * time.Second); !blocked.Load() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	must(t, r.Stop())
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = r.Wait(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("the recorder never fired stop after Stop")
	}
	if !errors.Is(err, ErrUnknown) {
		t.Fatalf("Wait = %v, want the write failure as an UnknownError", err)
	}
	l.expect(t, "start", "error", "dataavailable", "stop")
}
