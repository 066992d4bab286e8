package id

import (
	"regexp"
	"testing"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		s := New()
		if !uuidV4.MatchString(s) || !Valid(s) {
			t.Fatalf("New() = %q: not a version 4 UUID", s)
		}
		if seen[s] {
			t.Fatalf("New() repeated %q", s)
		}
		seen[s] = true
	}
}

func TestValid(t *testing.T) {
	for _, s := range []string{
		"", "0123456789abcdef", "../../../../etc/passwd-aaaaaaaaaaaaa",
		"0123456a-89ab-4def-8123-456789abcde",     // short
		"0123456a-89ab-4def-8123-456789abcdef0",   // long
		"0123456A-89ab-4def-8123-456789abcdef",    // upper case
		"0123456a_89ab-4def-8123-456789abcdef",    // no dash
		"0123456a-89ab-4def-8123-456789abcde/",    // a slash
		"0123456a-89ab-4def-8123-456789abcd.\x00", // garbage
	} {
		if Valid(s) {
			t.Errorf("Valid(%q) = true", s)
		}
	}
	if !Valid("0123456a-89ab-4def-8123-456789abcdef") {
		t.Error("Valid rejects a UUID")
	}
}

func FuzzValid(f *testing.F) {
	f.Add("0123456a-89ab-4def-8123-456789abcdef")
	f.Add("../x")
	f.Fuzz(func(t *testing.T, s string) {
		if Valid(s) && !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(s) {
			t.Fatalf("Valid(%q) = true", s)
		}
	})
}
