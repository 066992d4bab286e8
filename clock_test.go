package mediarecorder

import (
	"testing"
	"time"
)

// useBubbleClock moves the origin of Now to the current time, for a test
// inside a testing/synctest bubble (whose fake clock starts in 2000, long
// before the package's real origin), and moves it back when t ends.
func useBubbleClock(t *testing.T) {
	t.Helper()
	old := clockOrigin.Load()
	origin := time.Now()
	clockOrigin.Store(&origin)
	t.Cleanup(func() { clockOrigin.Store(old) })
}
