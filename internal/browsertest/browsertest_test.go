package browsertest

import (
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ffmpeg makes the file name in dir with ffmpeg, skipping the test when
// ffmpeg is missing (failing it when CI=true).
func ffmpeg(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs ffmpeg; skipped in -short mode")
	}
	exe, err := exec.LookPath("ffmpeg")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ffmpeg is required when CI=true: %v", err)
		}
		t.Skipf("ffmpeg not found: %v", err)
	}
	out := filepath.Join(dir, name)
	full := append([]string{"-nostdin", "-hide_banner", "-v", "error", "-y"}, args...)
	if b, err := exec.CommandContext(t.Context(), exe, append(full, out)...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %q: %v\n%s", args, err, b)
	}
	return out
}

func TestContentType(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"a.webm", "video/webm"},
		{"dir/A.WEBM", "video/webm"},
		{"a.weba", "audio/webm"},
		{"a.mkv", "video/x-matroska"},
		{"a.mp4", "video/mp4"},
		{"a.m4a", "audio/mp4"},
		{"a.ogg", "audio/ogg"},
		{"a.opus", "audio/ogg"},
		{"index.html", "text/html; charset=utf-8"},
		{"noext", "application/octet-stream"},
		{"a.unknownext", "application/octet-stream"},
	} {
		if got := ContentType(c.name); got != c.want {
			t.Errorf("ContentType(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestParseFloat(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
	}{
		{"6.021", 6.021},
		{"0", 0},
		{"Infinity", math.Inf(1)},
		{"-Infinity", math.Inf(-1)},
		{"1e+101", 1e101},
		{"NaN", math.NaN()},
		{"", math.NaN()},
		{"undefined", math.NaN()},
	} {
		got := parseFloat(c.in)
		if got != c.want && !(math.IsNaN(got) && math.IsNaN(c.want)) {
			t.Errorf("parseFloat(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	data := []byte("0123456789abcdef")
	p := filepath.Join(dir, "x.webm")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	base := Serve(t, map[string]string{"x.webm": p, "/sub/y.ogg": p, "gone.mp4": filepath.Join(dir, "gone")})
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Errorf("base URL %q is not on 127.0.0.1", base)
	}
	get := func(method, name, rng string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, base+name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	for _, c := range []struct {
		method, name, rng string
		status            int
		ctype, body       string
	}{
		{"GET", "/x.webm", "", 200, "video/webm", string(data)},
		{"GET", "/x.webm", "bytes=4-7", 206, "video/webm", "4567"},
		{"GET", "/x.webm", "bytes=-3", 206, "video/webm", "def"},
		{"GET", "/x.webm", "bytes=100-", 416, "", ""},
		{"HEAD", "/x.webm", "", 200, "video/webm", ""},
		{"GET", "/sub/y.ogg", "bytes=0-0", 206, "audio/ogg", "0"},
		{"GET", "/missing.webm", "", 404, "", ""},
		{"GET", "/gone.mp4", "", 500, "", ""},
	} {
		resp, body := get(c.method, c.name, c.rng)
		if resp.StatusCode != c.status {
			t.Errorf("%s %s %q: status %d, want %d", c.method, c.name, c.rng, resp.StatusCode, c.status)
			continue
		}
		if c.status >= 300 {
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != c.ctype {
			t.Errorf("%s %s: Content-Type %q, want %q", c.method, c.name, ct, c.ctype)
		}
		if body != c.body {
			t.Errorf("%s %s %q: body %q, want %q", c.method, c.name, c.rng, body, c.body)
		}
		if ar := resp.Header.Get("Accept-Ranges"); ar != "bytes" {
			t.Errorf("%s %s: Accept-Ranges %q", c.method, c.name, ar)
		}
	}
}

func TestNewMissingChromium(t *testing.T) {
	t.Setenv("CHROMIUM", filepath.Join(t.TempDir(), "no-such-chromium"))
	t.Setenv("CI", "")
	r := mediatest.RunTB(t, func(tb testing.TB) { New(tb) })
	if len(r.Skips) != 1 || len(r.Fatals) != 0 {
		t.Errorf("without CI: skips %q, fatals %q; want one skip", r.Skips, r.Fatals)
	}
	if testing.Short() {
		return // -short skips before looking for Chromium
	}
	t.Setenv("CI", "true")
	r = mediatest.RunTB(t, func(tb testing.TB) { New(tb) })
	if len(r.Fatals) != 1 || len(r.Skips) != 0 {
		t.Errorf("with CI=true: skips %q, fatals %q; want one fatal", r.Skips, r.Fatals)
	}
}

// TestBrowser checks PlayAndSeek and Eval in one browser.
func TestBrowser(t *testing.T) {
	b := New(t)
	dir := t.TempDir()
	video := ffmpeg(t, dir, "v.webm", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=15",
		"-t", "2", "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-f", "webm")
	audio := ffmpeg(t, dir, "a.ogg", "-f", "lavfi", "-i", "sine", "-t", "2", "-c:a", "libopus", "-f", "ogg")
	junk := filepath.Join(dir, "junk.webm")
	if err := os.WriteFile(junk, []byte(strings.Repeat("not media ", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "index.html")
	if err := os.WriteFile(page, []byte("<!doctype html><title>browsertest</title>"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := Serve(t, map[string]string{"v.webm": video, "a.ogg": audio, "junk.webm": junk, "index.html": page})

	t.Run("PlayAndSeek", func(t *testing.T) {
		for _, c := range []struct {
			name          string
			width, height int
		}{
			{"v.webm", 160, 120},
			{"a.ogg", 0, 0}, // played in an <audio> element
		} {
			res := b.PlayAndSeek(t, base+"/"+c.name)
			t.Logf("%s: %+v", c.name, res)
			if res.Error != "" || !res.CanPlay || !res.Seekable || !res.Seeked {
				t.Errorf("%s: %+v", c.name, res)
			}
			if math.Abs(res.Duration-2) > 0.1 || math.Abs(res.SeekedTo-res.Duration/2) > 0.1 {
				t.Errorf("%s: duration %v, seeked to %v", c.name, res.Duration, res.SeekedTo)
			}
			if res.VideoWidth != c.width || res.VideoHeight != c.height {
				t.Errorf("%s: size %dx%d, want %dx%d", c.name, res.VideoWidth, res.VideoHeight, c.width, c.height)
			}
		}
		for _, name := range []string{"junk.webm", "missing.webm"} {
			res := b.PlayAndSeek(t, base+"/"+name)
			t.Logf("%s: %+v", name, res)
			if !strings.HasPrefix(res.Error, "MediaError 4") || res.CanPlay || !math.IsNaN(res.Duration) {
				t.Errorf("%s: %+v, want MediaError 4 and no duration", name, res)
			}
		}
	})

	t.Run("Eval", func(t *testing.T) {
		var n int
		b.Eval(t, "about:blank", "1 + 2", &n)
		if n != 3 {
			t.Errorf("1 + 2 = %d", n)
		}
		var title string
		b.Eval(t, base+"/index.html", "new Promise((r) => setTimeout(() => r(document.title), 10))", &title)
		if title != "browsertest" {
			t.Errorf("title %q", title)
		}
		// The fake devices answer getUserMedia without a prompt.
		var kinds []string
		b.Eval(t, base+"/index.html", `navigator.mediaDevices.getUserMedia({audio: true, video: true})
			.then((s) => { const k = s.getTracks().map((t) => t.kind).sort(); s.getTracks().forEach((t) => t.stop()); return k; })`, &kinds)
		if strings.Join(kinds, ",") != "audio,video" {
			t.Errorf("getUserMedia tracks %q", kinds)
		}
		b.Eval(t, base+"/index.html", "void 0", nil)

		r := mediatest.RunTB(t, func(tb testing.TB) { b.Eval(tb, "about:blank", "Promise.reject(new Error('boom'))", nil) })
		if len(r.Fatals) != 1 || !strings.Contains(r.Fatals[0], "boom") {
			t.Errorf("a rejected promise: fatals %q", r.Fatals)
		}
		r = mediatest.RunTB(t, func(tb testing.TB) { b.Eval(tb, "about:blank", "'text'", &n) })
		if len(r.Fatals) != 1 {
			t.Errorf("a string into an int: fatals %q", r.Fatals)
		}
	})
}
