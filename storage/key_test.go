package storage

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCleanKey: an accepted key names a file inside the store's directory,
// and is its own clean form.
func FuzzCleanKey(f *testing.F) {
	for _, k := range []string{"a.webm", "a/b.webm", "../x", "a/../../x", "/abs", "a//b", ".", "..", "a\\b", "", "a/./b", "x\x00y"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		k, err := cleanKey(key)
		if err != nil {
			return
		}
		if k != key {
			t.Fatalf("accepted %q as %q", key, k)
		}
		dir := "/store"
		p := filepath.Join(dir, filepath.FromSlash(k))
		if !strings.HasPrefix(p, dir+"/") {
			t.Fatalf("%q escapes to %s", key, p)
		}
	})
}
