package storage_test

import (
	"context"
	"testing"
)

// An empty recording commits to an empty object.
func TestEmptyCommit(t *testing.T) {
	eachBackend(t, false, func(t *testing.T, b backend) {
		st := newStore(t, b, t.TempDir(), nil)
		w := create(t, st, "empty.webm")
		if err := w.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := readObject(t, st, "empty.webm"); len(got) != 0 {
			t.Fatalf("%d bytes", len(got))
		}
	})
}
