package cli

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gomediarecorder/mediarecorder/server"
)

// retainFlags defines serve's retention flags; the function it returns
// gives them as a server.Config.
func retainFlags(fs *flag.FlagSet) func() server.Config {
	var age ageValue
	var size sizeValue
	fs.Var(&age, "retain-for", "delete finished recordings older than this `age` (a Go duration, or days: 30d, 1d12h), oldest first; never live ones nor those marked keep; 0: keep them")
	fs.Var(&size, "retain-size", "delete the oldest finished recordings while all recordings take more than this `size` (bytes; k, M, G, T are powers of 1000, Ki, Mi, Gi, Ti of 1024; a trailing B is optional: 100GB, 500MiB, 1.5T); never live ones nor those marked keep; 0: no limit")
	return func() server.Config {
		return server.Config{RetainFor: time.Duration(age), RetainSize: int64(size)}
	}
}

// ageValue is -retain-for: a Go duration, or days with a d suffix,
// optionally followed by a Go duration (1d12h).
type ageValue time.Duration

func (v *ageValue) String() string {
	d := time.Duration(*v)
	if d == 0 {
		return "0"
	}
	if d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

// Set implements flag.Value.
func (v *ageValue) Set(s string) error {
	d, err := parseAge(s)
	if err != nil {
		return err
	}
	*v = ageValue(d)
	return nil
}

// parseAge parses an age: "30d", "1.5d", "1d12h", "36h", "0".
func parseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("%q is not an age like 30d, 1d12h or 36h", s)
	if s == "" {
		return 0, bad
	}
	var d time.Duration
	if days, rest, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) || n < 0 || n > 100*365 {
			return 0, bad
		}
		d = time.Duration(n * float64(24*time.Hour))
		s = rest
		if s == "" {
			return d, nil
		}
	}
	r, err := time.ParseDuration(s)
	if err != nil {
		return 0, bad
	}
	if r < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d + r, nil
}

// sizeValue is -retain-size in bytes.
type sizeValue int64

func (v *sizeValue) String() string { return strconv.FormatInt(int64(*v), 10) }

// Set implements flag.Value.
func (v *sizeValue) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*v = sizeValue(n)
	return nil
}

// sizeUnits are the multipliers of parseSize, by lower-case suffix (the
// trailing b removed): decimal for k, m, g, t (as disks are sold and df
// -H counts), binary for ki, mi, gi, ti.
var sizeUnits = map[string]float64{
	"": 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15,
	"ki": 1 << 10, "mi": 1 << 20, "gi": 1 << 30, "ti": 1 << 40, "pi": 1 << 50,
}

// errBadSize is parseSize's error.
var errBadSize = errors.New("not a size like 100GB, 500MiB or 1.5T")

// parseSize parses a size in bytes: a number, then an optional unit.
func parseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	i := strings.IndexFunc(t, func(r rune) bool { return !('0' <= r && r <= '9' || r == '.') })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	if unit != "b" {
		unit = strings.TrimSuffix(unit, "b")
	} else {
		unit = ""
	}
	mul, ok := sizeUnits[unit]
	n, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || num == "" {
		return 0, fmt.Errorf("%q is %w", s, errBadSize)
	}
	b := n * mul
	if b >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(math.Round(b)), nil
}
