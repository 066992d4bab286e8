package mediatest

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// Outcome is a testing.TB that records failures and skips instead of
// acting on them, so that test helpers' failure paths can be tested. Fatal
// and Skip end the calling goroutine, as the real ones do.
type Outcome struct {
	testing.TB
	mu                    sync.Mutex
	Errors, Fatals, Skips []string
}

func (r *Outcome) add(list *[]string, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*list = append(*list, fmt.Sprintf(format, args...))
}

// Helper does nothing.
func (r *Outcome) Helper() {}

// Error records an error.
func (r *Outcome) Error(args ...any) { r.add(&r.Errors, "%s", fmt.Sprint(args...)) }

// Errorf records an error.
func (r *Outcome) Errorf(format string, args ...any) { r.add(&r.Errors, format, args...) }

// Fatal records a fatal error and ends the goroutine.
func (r *Outcome) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// Fatalf records a fatal error and ends the goroutine.
func (r *Outcome) Fatalf(format string, args ...any) {
	r.add(&r.Fatals, format, args...)
	runtime.Goexit()
}

// FailNow records a fatal error and ends the goroutine.
func (r *Outcome) FailNow() { r.Fatalf("FailNow") }

// Skip records a skip and ends the goroutine.
func (r *Outcome) Skip(args ...any) { r.Skipf("%s", fmt.Sprint(args...)) }

// SkipNow records a skip and ends the goroutine.
func (r *Outcome) SkipNow() { r.Skipf("SkipNow") }

// Skipf records a skip and ends the goroutine.
func (r *Outcome) Skipf(format string, args ...any) {
	r.add(&r.Skips, format, args...)
	runtime.Goexit()
}

// RunTB runs fn with an Outcome wrapping t, in its own goroutine so that
// Fatal and Skip can end it, and returns what fn reported.
func RunTB(t testing.TB, fn func(tb testing.TB)) *Outcome {
	r := &Outcome{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r
}
