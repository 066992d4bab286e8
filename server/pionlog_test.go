package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestPionLogs: pion's log lines become slog records of the server's
// handler (JSON here), at the mapped levels, with their scope.
func TestPionLogs(t *testing.T) {
	var buf bytes.Buffer
	lg := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l := pionLogs{lg}.NewLogger("ice")
	l.Tracef("hidden %d", 1)
	l.Infof("state %s", "checking")
	l.Errorf("failed: %v", "x")
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		recs = append(recs, m)
	}
	if len(recs) != 2 || recs[0]["level"] != "DEBUG" || recs[0]["msg"] != "state checking" ||
		recs[1]["level"] != "ERROR" || recs[1]["msg"] != "failed: x" || recs[1]["component"] != "pion/ice" {
		t.Errorf("records %v", recs)
	}
}
