package cli

import (
	"testing"
	"time"
)

// TestParseRetain: the ages and sizes -retain-for and -retain-size take,
// and those they refuse.
func TestParseRetain(t *testing.T) {
	ages := map[string]time.Duration{
		"0": 0, "30d": 30 * 24 * time.Hour, "1.5d": 36 * time.Hour, "1d12h": 36 * time.Hour,
		"36h": 36 * time.Hour, "90m": 90 * time.Minute, " 7d ": 7 * 24 * time.Hour,
	}
	for in, want := range ages {
		if got, err := parseAge(in); err != nil || got != want {
			t.Errorf("parseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "30", "-1d", "-3h", "30days", "1d-2h", "NaNd", "1e9d", "x"} {
		if got, err := parseAge(in); err == nil {
			t.Errorf("parseAge(%q) = %v, want an error", in, got)
		}
	}
	sizes := map[string]int64{
		"0": 0, "1234": 1234, "100GB": 100e9, "100G": 100e9, "100gb": 100e9, "500MiB": 500 << 20,
		"1.5T": 1.5e12, "1.5TB": 1.5e12, "2Ki": 2048, "10 kB": 10000, "7B": 7, "1GiB": 1 << 30,
	}
	for in, want := range sizes {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GB", "-5GB", "1.2.3G", "100 parsecs", "1e3", "5XB", "99999999999P"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
	// The flags print back what they parse.
	var a ageValue
	var s sizeValue
	if a.Set("30d") != nil || a.String() != "30d" || s.Set("1KiB") != nil || s.String() != "1024" {
		t.Errorf("String: %s %s", a.String(), s.String())
	}
}

// TestServeRetainSettings: the retention flags reach the server's
// configuration, from the environment too.
func TestServeRetainSettings(t *testing.T) {
	fs := serveFlags(t, "-retain-size", "2GiB")
	if _, err := layerSettings(fs, func(k string) (string, bool) { return "45d", k == "MEDIARECORDER_RETAIN_FOR" }); err != nil {
		t.Fatal(err)
	}
	if got := fs.Lookup("retain-for").Value.String(); got != "45d" {
		t.Errorf("-retain-for from the environment: %s", got)
	}
	if got := fs.Lookup("retain-size").Value.String(); got != "2147483648" {
		t.Errorf("-retain-size: %s", got)
	}
}
