package server

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"github.com/gomediarecorder/mediarecorder/catalog"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder"
)

// fakeRecording adds a recording of size random bytes to s, as if it had
// been recorded; live gives it a recorder (never started), so that its
// event stream stays open.
func fakeRecording(t *testing.T, s *Server, size int, live bool) *recording {
	t.Helper()
	id := newID()
	data := make([]byte, size)
	_, _ = rand.Read(data)
	if err := os.WriteFile(filepath.Join(s.cfg.Dir, id+".webm"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	rc := &recording{s: s, e: catalog.Recording{
		ID: id, State: "inactive", MimeType: "video/webm", Size: int64(size), Created: time.Now().UTC(),
		File: id + ".webm", Finished: true}}
	if live {
		r, err := mediarecorder.New(mediarecorder.NewStream(mediarecorder.NewSampleTrack(mediarecorder.Codec{MimeType: "video/VP8", ClockRate: 90000})), mediarecorder.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rc.rec = r
	}
	s.mu.Lock()
	s.recs[id] = rc
	s.mu.Unlock()
	return rc
}

// TestMediaRanges checks every form of Range (RFC 9110 §14) on a
// recording's media. Before, net/http answered bytes=-0 with "206,
// Content-Range: bytes 108361-108360/108361" and no body, another unit
// than bytes with 416 and +5-9 as if it were 5-9.
func TestMediaRanges(t *testing.T) {
	const size = 108361
	s, hs := newTestServer(t, Config{})
	rc := fakeRecording(t, s, size, false)
	url := hs.URL + "/api/recordings/" + rc.e.ID + "/media"
	data, err := os.ReadFile(rc.path())
	if err != nil {
		t.Fatal(err)
	}
	type part struct{ start, end int } // inclusive
	tests := []struct {
		name, rng string
		status    int
		parts     []part // the 206 parts; 200 means the whole file
	}{
		{"none", "", 200, nil},
		{"first bytes", "bytes=0-99", 206, []part{{0, 99}}},
		{"one byte", "bytes=5-5", 206, []part{{5, 5}}},
		{"open-ended", "bytes=108000-", 206, []part{{108000, size - 1}}},
		{"open-ended from 0", "bytes=0-", 206, []part{{0, size - 1}}},
		{"last byte", "bytes=108360-", 206, []part{{size - 1, size - 1}}},
		{"end past the size", "bytes=100-999999", 206, []part{{100, size - 1}}},
		{"huge end", "bytes=100-99999999999999999999999", 206, []part{{100, size - 1}}},
		{"suffix", "bytes=-500", 206, []part{{size - 500, size - 1}}},
		{"suffix of one", "bytes=-1", 206, []part{{size - 1, size - 1}}},
		{"suffix longer than the file", "bytes=-999999", 206, []part{{0, size - 1}}},
		{"suffix zero", "bytes=-0", 416, nil},
		{"suffix zeros", "bytes=-000", 416, nil},
		{"start at the size", "bytes=108361-", 416, nil},
		{"start past the size", "bytes=200000-300000", 416, nil},
		{"huge start", "bytes=99999999999999999999999-", 416, nil},
		{"all unsatisfiable", "bytes=200000-,-0", 416, nil},
		{"unit case", "BYTES=0-9", 206, []part{{0, 9}}},
		{"whitespace around specs", "bytes= 0-9 , 20-29", 206, []part{{0, 9}, {20, 29}}},
		{"multiple", "bytes=0-9,100-199,-10", 206, []part{{0, 9}, {100, 199}, {size - 10, size - 1}}},
		{"multiple, one unsatisfiable", "bytes=0-9,200000-", 206, []part{{0, 9}}},
		{"multiple, empty elements", "bytes=,0-9,,", 206, []part{{0, 9}}},
		{"overlapping: the whole file", "bytes=0-99,50-149", 200, nil},
		{"too many: the whole file", "bytes=0-0" + manyRanges(maxRanges), 200, nil},
		{"other unit: ignored", "items=0-9", 200, nil},
		{"malformed: no dash", "bytes=5", 416, nil},
		{"malformed: end before start", "bytes=9-5", 416, nil},
		{"malformed: sign", "bytes=+5-9", 416, nil},
		{"malformed: negative", "bytes=--5", 416, nil},
		{"malformed: letters", "bytes=a-b", 416, nil},
		{"malformed: empty set", "bytes=", 416, nil},
		{"malformed: no equals", "bytes", 416, nil},
		{"malformed: spaces inside", "bytes=0 - 9", 416, nil},
		{"malformed: one bad of two", "bytes=0-9,x", 416, nil},
		{"malformed unit", "by tes=0-9", 416, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.rng != "" {
				hdr = []string{"Range", tc.rng}
			}
			r := do(t, "GET", url, nil, hdr...)
			if r.status != tc.status {
				t.Fatalf("Range %q: %d (Content-Range %q), want %d", tc.rng, r.status, r.header.Get("Content-Range"), tc.status)
			}
			switch {
			case tc.status == 416:
				if cr := r.header.Get("Content-Range"); cr != fmt.Sprintf("bytes */%d", size) {
					t.Errorf("Content-Range %q", cr)
				}
				if !strings.Contains(string(r.body), "RangeError") {
					t.Errorf("body %s", r.body)
				}
			case tc.status == 200:
				if !bytes.Equal(r.body, data) || r.header.Get("Accept-Ranges") != "bytes" {
					t.Errorf("%d bytes, Accept-Ranges %q; want the whole file", len(r.body), r.header.Get("Accept-Ranges"))
				}
			case len(tc.parts) == 1:
				p := tc.parts[0]
				if cr := r.header.Get("Content-Range"); cr != fmt.Sprintf("bytes %d-%d/%d", p.start, p.end, size) {
					t.Errorf("Content-Range %q, want %d-%d", cr, p.start, p.end)
				}
				if !bytes.Equal(r.body, data[p.start:p.end+1]) {
					t.Errorf("body of %d bytes is not bytes %d-%d", len(r.body), p.start, p.end)
				}
			default:
				mt, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
				if err != nil || mt != "multipart/byteranges" {
					t.Fatalf("Content-Type %q", r.header.Get("Content-Type"))
				}
				mr := multipart.NewReader(bytes.NewReader(r.body), params["boundary"])
				for i, p := range tc.parts {
					pt, err := mr.NextPart()
					if err != nil {
						t.Fatalf("part %d: %v", i, err)
					}
					b, _ := io.ReadAll(pt)
					if cr := pt.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes %d-%d/%d", p.start, p.end, size) || !bytes.Equal(b, data[p.start:p.end+1]) {
						t.Errorf("part %d: Content-Range %q, %d bytes; want %d-%d", i, cr, len(b), p.start, p.end)
					}
				}
				if _, err := mr.NextPart(); err != io.EOF {
					t.Errorf("more parts than %d: %v", len(tc.parts), err)
				}
			}
		})
	}

	// If-Range: a date other than Last-Modified means the whole file.
	lm := do(t, "HEAD", url, nil).header.Get("Last-Modified")
	if r := do(t, "GET", url, nil, "Range", "bytes=0-9", "If-Range", lm); r.status != 206 {
		t.Errorf("If-Range %s (Last-Modified): %d, want 206", lm, r.status)
	}
	old := time.Unix(0, 0).UTC().Format(http.TimeFormat)
	if r := do(t, "GET", url, nil, "Range", "bytes=-0", "If-Range", old); r.status != 200 || len(r.body) != size {
		t.Errorf("If-Range %s: %d, %d bytes; want 200 and the whole file", old, r.status, len(r.body))
	}

	// A growing file: each answer covers the bytes there are now.
	f, err := os.OpenFile(rc.path(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if r := do(t, "GET", url, nil, "Range", "bytes=108361-"); r.status != 206 || r.header.Get("Content-Range") != "bytes 108361-109360/109361" {
		t.Errorf("after growing: %d, Content-Range %q", r.status, r.header.Get("Content-Range"))
	}
}

// manyRanges returns n disjoint ranges, each after a comma.
func manyRanges(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, ",%d-%d", 10*(i+1), 10*(i+1)+1)
	}
	return b.String()
}

// TestMediaEmptyFile: an empty file has no satisfiable int-range, and a
// suffix-range is answered with the (empty) whole.
func TestMediaEmptyFile(t *testing.T) {
	s, hs := newTestServer(t, Config{})
	rc := fakeRecording(t, s, 0, false)
	url := hs.URL + "/api/recordings/" + rc.e.ID + "/media"
	for rng, want := range map[string]int{"": 200, "bytes=0-": 416, "bytes=-0": 416, "bytes=-5": 200} {
		if r := do(t, "GET", url, nil, "Range", rng); r.status != want || len(r.body) != 0 && want == 200 {
			t.Errorf("Range %q on an empty file: %d, %d bytes; want %d", rng, r.status, len(r.body), want)
		}
	}
}

// FuzzParseRange: parseRange never panics, and what it returns lies
// within the file, in order of the header.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-99", "bytes=-0", "bytes=-500", "bytes=5-", "bytes=0-9,20-29", "bytes=9-5", "items=1-2", "bytes=,", "bytes=99999999999999999999-"} {
		f.Add(s, int64(108361))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			return
		}
		rs, err := parseRange(h, size)
		if err != nil && len(rs) != 0 {
			t.Fatalf("%q: ranges %v with error %v", h, rs, err)
		}
		for _, r := range rs {
			if r.start < 0 || r.length <= 0 || r.start+r.length > size {
				t.Fatalf("%q on %d bytes: range %+v outside the file", h, size, r)
			}
		}
	})
}
