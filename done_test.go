package mediarecorder

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

func TestDoneBeforeStart(t *testing.T) {
	r := mustNew(t, NewStream(pcmTrack()), Options{})
	select {
	case <-r.Done():
	default:
		t.Fatal("Done is not closed before the first Start")
	}
	if err := r.Wait(context.Background()); err != nil {
		t.Fatalf("Wait before Start: %v", err)
	}
}

func TestDoneAfterStopHandler(t *testing.T) {
	track := pcmTrack()
	r := mustNew(t, NewStream(track), Options{})
	var handled bool // written by the stop handler, read after Done
	r.OnStop(func() { handled = true })
	must(t, r.Start(0))
	done := r.Done()
	select {
	case <-done:
		t.Fatal("Done closed while recording")
	default:
	}
	for i := range 5 {
		must(t, track.WriteSample(pcm20ms(i)))
	}
	must(t, r.Stop())
	if err := r.Wait(context.Background()); err != nil {
		t.Fatalf("Wait after a normal stop: %v", err)
	}
	<-done
	if !handled {
		t.Fatal("Done closed before the stop handler ran")
	}
	// A second recording gets a fresh channel.
	must(t, r.Start(0))
	if r.Done() == done {
		t.Fatal("a new recording reuses the old Done channel")
	}
	must(t, r.Stop())
	<-r.Done()
}

func TestWaitContext(t *testing.T) {
	r := mustNew(t, NewStream(pcmTrack()), Options{})
	must(t, r.Start(0))
	defer r.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := r.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with an expired context: %v", err)
	}
}

func TestWaitTrackEnded(t *testing.T) {
	track := pcmTrack()
	r := mustNew(t, NewStream(track), Options{})
	must(t, r.Start(0))
	must(t, track.WriteSample(pcm20ms(0)))
	track.Stop() // every track ended: the recorder stops by itself, no error
	if err := r.Wait(context.Background()); err != nil {
		t.Fatalf("Wait after the tracks ended: %v", err)
	}
}

// A full disk ends the recording with an UnknownError that keeps its cause.
func TestWaitDiskFullUnwrap(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out.webm"))
	must(t, err)
	defer f.Close()
	disk := &enospcFile{mediatest.FullDisk{File: f, Limit: 4096}}
	track := pcmTrack()
	r := mustNew(t, NewStream(track), Options{})
	must(t, r.StartFile(disk, 0))
	for i := 0; i < 500 && r.State() != StateInactive; i++ {
		if err := track.WriteSampleWait(pcm20ms(i)); err != nil {
			break
		}
	}
	if r.State() != StateInactive {
		must(t, r.Stop())
	}
	err = r.Wait(context.Background())
	if !errors.Is(err, ErrUnknown) {
		t.Fatalf("Wait after a full disk: %v, want an UnknownError", err)
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("errors.Is(%v, ENOSPC) is false: the cause is lost", err)
	}
	var dom *DOMException
	if !errors.As(err, &dom) || dom.Unwrap() == nil {
		t.Fatalf("no *DOMException with a cause: %#v", err)
	}
}

// enospcFile fails like a real full disk: with a *PathError wrapping ENOSPC.
type enospcFile struct{ mediatest.FullDisk }

func (f *enospcFile) Write(p []byte) (int, error) { return f.wrap(f.FullDisk.Write(p)) }

func (f *enospcFile) WriteAt(p []byte, off int64) (int, error) {
	return f.wrap(f.FullDisk.WriteAt(p, off))
}

func (f *enospcFile) wrap(n int, err error) (int, error) {
	if errors.Is(err, mediatest.ErrDiskFull) {
		err = &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return n, err
}
