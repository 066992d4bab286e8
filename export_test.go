package mediarecorder

// UseBubbleClock is useBubbleClock for the package's external tests: a
// test inside a testing/synctest bubble calls it first, so that Now runs
// on the bubble's clock.
var UseBubbleClock = useBubbleClock
