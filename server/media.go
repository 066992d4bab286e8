package server

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gomediarecorder/mediarecorder"
)

// maxRanges is the most byte ranges answered in one multipart/byteranges
// response; a request for more, or for overlapping ranges, gets the
// whole file (RFC 9110 §14.2 lets a server ignore Range).
const maxRanges = 16

// byteRange is one satisfiable range: length bytes from start.
type byteRange struct{ start, length int64 }

// Errors of parseRange.
var (
	// errRangeUnit: a range unit other than bytes, which the server
	// ignores (RFC 9110 §14.2).
	errRangeUnit = errors.New("server: not a byte range")
	// errRangeSyntax: an invalid bytes ranges-specifier.
	errRangeSyntax = errors.New("server: malformed byte range")
	// errRangeUnsatisfiable: no range overlaps the representation.
	errRangeUnsatisfiable = errors.New("server: no satisfiable byte range")
)

// parseRange parses a Range header field (RFC 9110 §14.1.2) against a
// representation of size bytes. It returns the satisfiable ranges in the
// order asked, clamped to size (§14.1.1: an int-range whose first-pos is
// below size, or a suffix-range with a non-zero suffix-length), and no
// ranges and no error when the only satisfiable ranges are suffixes of
// an empty representation.
func parseRange(h string, size int64) ([]byteRange, error) {
	unit, set, ok := strings.Cut(h, "=")
	if !ok {
		return nil, errRangeSyntax
	}
	if !strings.EqualFold(unit, "bytes") {
		if validToken(unit) {
			return nil, errRangeUnit
		}
		return nil, errRangeSyntax
	}
	var out []byteRange
	specs, emptySuffix := 0, false
	for spec := range strings.SplitSeq(set, ",") {
		spec = strings.Trim(spec, " \t")
		if spec == "" {
			continue // empty list elements are allowed (RFC 9110 §5.6.1)
		}
		specs++
		first, last, ok := strings.Cut(spec, "-")
		if !ok {
			return nil, errRangeSyntax
		}
		if first == "" { // suffix-range
			n, ok := digits(last)
			switch {
			case !ok:
				return nil, errRangeSyntax
			case n == 0:
				continue // unsatisfiable
			case size == 0:
				emptySuffix = true
				continue
			}
			n = min(n, size)
			out = append(out, byteRange{size - n, n})
			continue
		}
		start, ok := digits(first)
		if !ok {
			return nil, errRangeSyntax
		}
		end := int64(math.MaxInt64)
		if last != "" {
			if end, ok = digits(last); !ok || end < start {
				return nil, errRangeSyntax
			}
		}
		if start >= size {
			continue // unsatisfiable
		}
		end = min(end, size-1)
		out = append(out, byteRange{start, end - start + 1})
	}
	switch {
	case specs == 0:
		return nil, errRangeSyntax
	case len(out) == 0 && !emptySuffix:
		return nil, errRangeUnsatisfiable
	}
	return out, nil
}

// digits parses 1*DIGIT; values too large for an int64 saturate.
func digits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return math.MaxInt64, true
	}
	return n, true
}

// validToken reports whether s is an RFC 9110 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// overlap reports whether any two ranges overlap.
func overlap(rs []byteRange) bool {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b byteRange) int { return cmp.Compare(a.start, b.start) })
	for i := 1; i < len(s); i++ {
		if s[i].start < s[i-1].start+s[i-1].length {
			return true
		}
	}
	return false
}

// ifRangeHolds reports whether an If-Range field lets Range apply to a
// representation last modified at modtime (it has no entity tag).
func ifRangeHolds(ir string, modtime time.Time) bool {
	if ir == "" {
		return true
	}
	t, err := http.ParseTime(ir)
	return err == nil && t.Unix() == modtime.Unix()
}

// serveFile answers GET/HEAD for a recording's file f, which may still
// be growing: the bytes it holds now, with Range requests answered by
// parseRange's rules (416 with "Content-Range: bytes */size" when
// malformed or unsatisfiable; a single range as 206; up to maxRanges
// disjoint ranges as multipart/byteranges; the whole file otherwise) and
// the file's modification time as Last-Modified.
func serveFile(w http.ResponseWriter, r *http.Request, name string, f *os.File) {
	fi, err := f.Stat()
	if err != nil {
		writeError(w, http.StatusInternalServerError, mediarecorder.NameUnknown, err.Error())
		return
	}
	serveReaderAt(w, r, name, f, fi.Size(), fi.ModTime())
}

// serveReaderAt is serveFile for the first size bytes of ra, modified at
// modtime (a file, or an object in the store read by ranged GETs).
func serveReaderAt(w http.ResponseWriter, r *http.Request, name string, ra io.ReaderAt, size int64, modtime time.Time) {
	h := r.Header.Get("Range")
	if h != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) && ifRangeHolds(r.Header.Get("If-Range"), modtime) {
		ranges, err := parseRange(h, size)
		switch {
		case errors.Is(err, errRangeUnit):
			r.Header.Del("Range")
		case err != nil:
			w.Header().Del("Content-Disposition")
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", size))
			writeError(w, http.StatusRequestedRangeNotSatisfiable, "RangeError", fmt.Sprintf("%s: %q (the file has %d bytes)", strings.TrimPrefix(err.Error(), "server: "), h, size))
			return
		case len(ranges) == 0 || len(ranges) > maxRanges || overlap(ranges):
			r.Header.Del("Range")
		default:
			// What net/http parses back to the same ranges: it would
			// answer bytes=-0 with an empty 206, for one.
			specs := make([]string, len(ranges))
			for i, br := range ranges {
				specs[i] = fmt.Sprintf("%d-%d", br.start, br.start+br.length-1)
			}
			r.Header.Set("Range", "bytes="+strings.Join(specs, ","))
		}
	}
	http.ServeContent(w, r, name, modtime, io.NewSectionReader(ra, 0, size))
}
