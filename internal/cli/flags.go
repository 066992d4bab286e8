package cli

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// durationFlag is a flag.Value for a time.Duration whose errors say which
// units it takes: "-timeslice 1" is "1 what?", not a bare parse error.
type durationFlag struct{ d *time.Duration }

// durationVar defines a duration flag; usage should not repeat the units.
func durationVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var(durationFlag{p}, name, usage+" (a number with a unit: ms, s, m or h, e.g. 500ms, 2s, 1m30s)")
}

func (f durationFlag) String() string {
	if f.d == nil {
		return "0s"
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
			return fmt.Errorf("%s what? give a unit: %ss or %sms", s, s, s)
		}
		return errors.New("not a duration: want a number with a unit (ms, s, m, h), e.g. 500ms, 2s, 1m30s")
	}
	if d < 0 {
		return errors.New("must not be negative")
	}
	*f.d = d
	return nil
}

// bitrateFlag is a flag.Value for bits per second, as ffmpeg takes them:
// 64000, 64k, 1.5M, 2G (k, M, G: thousands, millions, billions; K is k).
type bitrateFlag struct{ v *uint64 }

func (f bitrateFlag) String() string {
	if f.v == nil || *f.v == 0 {
		return ""
	}
	return formatBitrate(*f.v)
}

func (f bitrateFlag) Set(s string) error {
	v, err := parseBitrate(s)
	if err != nil {
		return err
	}
	*f.v = v
	return nil
}

// maxBitrate is the largest rate taken: 10 Gbit/s, far above any codec.
const maxBitrate = 10_000_000_000

// parseBitrate parses bits per second with an optional k, M or G suffix.
func parseBitrate(s string) (uint64, error) {
	num, mul := s, 1.0
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		num, mul = s[:len(s)-1], 1e3
	case strings.HasSuffix(s, "M"):
		num, mul = s[:len(s)-1], 1e6
	case strings.HasSuffix(s, "G"):
		num, mul = s[:len(s)-1], 1e9
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(num, "xXpP_") {
		return 0, errors.New("not a bit rate: want bits per second, e.g. 64000, 64k, 1.5M")
	}
	v := math.Round(f * mul)
	if v < 1 {
		return 0, errors.New("must be at least 1 bit per second")
	}
	if v > maxBitrate {
		return 0, fmt.Errorf("more than %s", formatBitrate(maxBitrate))
	}
	return uint64(v), nil
}

// formatBitrate writes v the way parseBitrate reads it.
func formatBitrate(v uint64) string {
	switch {
	case v%1_000_000_000 == 0:
		return fmt.Sprintf("%dG", v/1_000_000_000)
	case v%1_000_000 == 0:
		return fmt.Sprintf("%dM", v/1_000_000)
	case v%1000 == 0:
		return fmt.Sprintf("%dk", v/1000)
	}
	return strconv.FormatUint(v, 10)
}
