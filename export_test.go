package mediarecorder

// UseBubbleClock is useBubbleClock for the package's external tests: a
// test inside a testing/synctest bubble calls it first, so that Now runs
// on the bubble's clock.
var UseBubbleClock = useBubbleClock

// SetWriteHook has f run each time a recording writes a sample (on the
// recording's goroutine; an error fails the write), until restore.
func SetWriteHook(f func() error) (restore func()) {
	testHookWrite = f
	return func() { testHookWrite = nil }
}
