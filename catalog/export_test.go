package catalog

import "time"

// SetListenIdle sets how long the listener waits before it pings, and
// returns a function that restores it.
func SetListenIdle(d time.Duration) func() {
	old := listenIdle
	listenIdle = d
	return func() { listenIdle = old }
}

// SchemaVersion is the schema version Open migrates to.
var SchemaVersion = len(migrations)

// Migration1 is the first schema version's SQL.
var Migration1 = migrations[0]
