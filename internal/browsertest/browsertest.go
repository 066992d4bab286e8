// Package browsertest runs headless Chromium for tests: it serves media
// files over HTTP, plays them in a <video> or <audio> element and reports
// what the element said (duration, seekable range, where a seek landed,
// errors), and runs JavaScript in pages.
//
// It is meant to be imported only from _test.go files. Chromium is found
// through the environment variable CHROMIUM, else /usr/bin/chromium, else
// chromium, chromium-browser, google-chrome or headless-shell in PATH.
// When none is there the test is skipped, or, when the environment variable
// CI is "true", it fails: a CI machine cannot silently skip the checks.
//
// Each Browser is its own Chromium process with a fresh profile directory,
// run headless without sandbox, GPU or background network traffic, with
// fake capture devices (so that getUserMedia works without prompts), muted
// autoplay, and Local Network Access checks off: Chromium 142 and later
// otherwise block a page such as about:blank from loading media from
// 127.0.0.1, and the media element reports only "Format error". A test makes one Browser and may use it for many pages;
// every PlayAndSeek or Eval call runs in a new tab, closed afterwards.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Timeout bounds each PlayAndSeek and Eval call.
const Timeout = 2 * time.Minute

// Browser is one headless Chromium process, owned by one test.
type Browser struct {
	ctx context.Context // the browser's chromedp context
}

// logger forwards chromedp's messages to the test until the test ends.
type logger struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (l *logger) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Logf("browsertest: chromedp: "+format, args...)
	}
}

func (l *logger) stop() {
	l.mu.Lock()
	l.done = true
	l.mu.Unlock()
}

// ExecPath returns the Chromium binary to use: $CHROMIUM when set, else
// /usr/bin/chromium, else the first of chromium, chromium-browser,
// google-chrome, google-chrome-stable and headless-shell found in PATH. It
// returns "" when there is none.
func ExecPath() string {
	names := []string{"/usr/bin/chromium", "chromium", "chromium-browser",
		"google-chrome", "google-chrome-stable", "headless-shell"}
	if env := os.Getenv("CHROMIUM"); env != "" {
		names = []string{env}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// flags are Chromium's command-line flags, besides --user-data-dir.
var flags = []chromedp.ExecAllocatorOption{
	chromedp.Flag("headless", true),
	chromedp.Flag("no-sandbox", true),
	chromedp.Flag("disable-gpu", true),
	chromedp.Flag("disable-quic", true),
	chromedp.Flag("no-first-run", true),
	chromedp.Flag("no-default-browser-check", true),
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.Flag("disable-extensions", true),
	chromedp.Flag("disable-breakpad", true),
	chromedp.Flag("disable-default-apps", true),
	chromedp.Flag("disable-background-timer-throttling", true),
	chromedp.Flag("disable-renderer-backgrounding", true),
	chromedp.Flag("disable-backgrounding-occluded-windows", true),
	chromedp.Flag("use-fake-device-for-media-stream", true),
	chromedp.Flag("use-fake-ui-for-media-stream", true),
	chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	chromedp.Flag("mute-audio", true),
	chromedp.Flag("disable-features", "LocalNetworkAccessChecks"),
	chromedp.Flag("hide-scrollbars", true),
	chromedp.Flag("password-store", "basic"),
	chromedp.Flag("use-mock-keychain", true),
}

// New starts a headless Chromium for the test t; t.Cleanup closes it. When
// no Chromium is found New skips the test, or fails it when the
// environment variable CI is "true". A Chromium that does not start fails
// the test. Under go test -short it skips the test.
func New(t testing.TB) *Browser {
	t.Helper()
	return NewWithFlags(t)
}

// NewWithFlags is New with more Chromium flags, e.g.
// chromedp.Flag("ignore-certificate-errors", true) for a server whose
// certificate a test made.
func NewWithFlags(t testing.TB, extra ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	if testing.Short() {
		t.Skip("browsertest: needs Chromium; skipped in -short mode")
		return nil
	}
	exe := ExecPath()
	if exe == "" {
		msg := "browsertest: Chromium not found (set CHROMIUM or install /usr/bin/chromium)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; it is required when CI=true")
		} else {
			t.Skip(msg)
		}
		return nil
	}
	// Registered before the browser's cleanup, so removed after it.
	dataDir := t.TempDir()

	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(dataDir),
	}, flags...)
	opts = append(opts, extra...)
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	lg := &logger{t: t}
	ctx, cancel := chromedp.NewContext(allocCtx,
		chromedp.WithErrorf(lg.logf), chromedp.WithLogf(lg.logf))
	t.Cleanup(func() {
		lg.stop()
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		_ = chromedp.Cancel(cctx) // closes the browser gracefully
		ccancel()
		cancel()
		allocCancel() // waits for the process to exit
	})

	// Start the browser now, so that a broken Chromium fails here. No
	// timeout on this first Run: it would stop the browser with it.
	start := make(chan error, 1)
	go func() { start <- chromedp.Do(ctx) }()
	select {
	case err := <-start:
		if err != nil {
			t.Fatalf("browsertest: starting %s: %v", exe, err)
		}
	case <-time.After(Timeout):
		t.Fatalf("browsertest: %s did not start within %v", exe, Timeout)
	}
	return &Browser{ctx: ctx}
}

// contentTypes maps file extensions to the Content-Type Serve sends.
var contentTypes = map[string]string{
	".webm": "video/webm",
	".weba": "audio/webm",
	".mkv":  "video/x-matroska",
	".mka":  "audio/x-matroska",
	".mp4":  "video/mp4",
	".m4v":  "video/mp4",
	".m4a":  "audio/mp4",
	".ogg":  "audio/ogg",
	".oga":  "audio/ogg",
	".opus": "audio/ogg",
	".ogv":  "video/ogg",
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
}

// ContentType returns the Content-Type Serve sends for a file name:
// video/webm, audio/webm (.weba), video/x-matroska, video/mp4, audio/mp4
// (.m4a), audio/ogg (.ogg, .oga, .opus), ...; application/octet-stream
// when the extension is unknown.
func ContentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if ct, ok := contentTypes[ext]; ok {
		return ct
	}
	if ct := mime.TypeByExtension(ext); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// Serve serves the files (URL name -> file path) over HTTP on 127.0.0.1
// until the test ends, and returns the base URL, without a trailing slash:
// the file named "a.webm" is at base+"/a.webm". Responses carry the
// Content-Type of ContentType, honour Range requests (http.ServeContent)
// and allow any origin (Access-Control-Allow-Origin: *). Other paths get
// 404. Each file is opened on every request, so it may be written after
// Serve returns.
func Serve(t testing.TB, files map[string]string) string {
	t.Helper()
	byPath := make(map[string]string, len(files))
	for name, p := range files {
		byPath["/"+strings.TrimPrefix(name, "/")] = p
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := byPath[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		f, err := os.Open(p)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", ContentType(r.URL.Path))
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cache-Control", "no-store")
		http.ServeContent(w, r, path.Base(r.URL.Path), fi.ModTime(), f)
	}))
	t.Cleanup(func() {
		// A browser may still hold a paused media download open.
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL
}

// MediaResult is what a media element reported for a file.
type MediaResult struct {
	// Duration is the element's duration at loadedmetadata, as reported:
	// +Inf for a file of unknown length, NaN when no metadata loaded.
	Duration float64
	// Seekable is set when the seekable ranges are not empty and the last
	// one ends within 0.1 s of a finite Duration.
	Seekable bool
	// SeekableEnd is the end of the last seekable range, 0 when there is
	// none.
	SeekableEnd float64
	// Seeked is set when the element fired 'seeked' after the seek to the
	// middle. No seek is tried when Duration is not finite and there is no
	// seekable range: the element would ignore it.
	Seeked bool
	// SeekedTo is currentTime after the seek (after 'seeked' fired, or the
	// timeout).
	SeekedTo float64
	// VideoWidth and VideoHeight are the element's intrinsic size, 0 for
	// audio.
	VideoWidth, VideoHeight int
	// Error is the MediaError ("MediaError 4: ...") or the rejection of
	// play(), "" when there was none.
	Error string
	// CanPlay is set when the element fired 'canplay'.
	CanPlay bool
}

// mediaJSON is the page's answer; floats that may be non-finite travel as
// strings because JSON has no Infinity or NaN.
type mediaJSON struct {
	Duration    string `json:"duration"`
	SeekLen     int    `json:"seekLen"`
	SeekableEnd string `json:"seekableEnd"`
	Seeked      bool   `json:"seeked"`
	SeekedTo    string `json:"seekedTo"`
	VideoWidth  int    `json:"videoWidth"`
	VideoHeight int    `json:"videoHeight"`
	Error       string `json:"error"`
	CanPlay     bool   `json:"canPlay"`
}

// playAndSeekJS loads the media (%[1]s: its URL, %[2]s: the element's tag as
// JSON strings), plays it muted for a moment, seeks to the middle and
// reports. Waits poll, so that an event fired early is not missed.
const playAndSeekJS = `(async (src, tag) => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const el = document.createElement(tag);
  el.muted = true;
  el.preload = 'auto';
  document.body.appendChild(el);
  const fired = {};
  for (const ev of ['loadedmetadata', 'canplay', 'seeked']) {
    el.addEventListener(ev, () => { fired[ev] = (fired[ev] || 0) + 1; });
  }
  const waitFor = async (pred, ms) => {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      if (pred()) return true;
      if (el.error) return false;
      await sleep(20);
    }
    return pred();
  };
  const r = {duration: 'NaN', seekLen: 0, seekableEnd: '0', seeked: false, seekedTo: 'NaN',
    videoWidth: 0, videoHeight: 0, error: '', canPlay: false};
  const errs = [];
  el.src = src;
  if (await waitFor(() => fired.loadedmetadata, 30000)) {
    r.duration = String(el.duration);
    r.canPlay = await waitFor(() => fired.canplay, 30000);
    try {
      await Promise.race([el.play(), sleep(3000)]);
      await waitFor(() => el.currentTime > 0.1, 2000);
    } catch (e) {
      errs.push('play: ' + e.name + ': ' + e.message);
    }
    el.pause();
    const s = el.seekable;
    r.seekLen = s.length;
    let target = NaN;
    if (s.length > 0) {
      r.seekableEnd = String(s.end(s.length - 1));
    }
    if (Number.isFinite(el.duration) && el.duration > 0) {
      target = el.duration / 2;
    } else if (s.length > 0 && Number.isFinite(s.end(s.length - 1))) {
      target = (s.start(0) + s.end(s.length - 1)) / 2;
    }
    if (Number.isFinite(target)) {
      const before = fired.seeked || 0;
      el.currentTime = target;
      r.seeked = await waitFor(() => (fired.seeked || 0) > before, 30000);
    }
    r.seekedTo = String(el.currentTime);
    r.videoWidth = el.videoWidth || 0;
    r.videoHeight = el.videoHeight || 0;
  } else if (!el.error) {
    errs.push('no loadedmetadata within 30 s');
  }
  if (el.error) {
    errs.unshift('MediaError ' + el.error.code + ': ' + el.error.message);
  }
  r.error = errs.join('; ');
  el.removeAttribute('src');
  el.load();
  return r;
})(%[1]s, %[2]s)`

// audioExt lists the extensions PlayAndSeek plays in an <audio> element.
var audioExt = map[string]bool{".ogg": true, ".oga": true, ".opus": true,
	".weba": true, ".m4a": true, ".mka": true, ".wav": true, ".mp3": true, ".flac": true}

// PlayAndSeek plays the media at url in a new tab: a <video> element, or
// an <audio> element when the URL's extension is an audio one (.ogg, .opus,
// .weba, .m4a, ...). It waits for loadedmetadata, plays briefly (muted),
// seeks to the middle of the duration (of the seekable range when the
// duration is not finite) and waits for 'seeked', then returns what the
// element reported. An infinite duration is reported as it is: the
// workaround of seeking to 1e101 to make Chromium compute it is not used.
// The call takes at most Timeout and ends with the test's context; a
// failure to run the page fails the test.
func (b *Browser) PlayAndSeek(t testing.TB, url string) MediaResult {
	t.Helper()
	tag := "video"
	if audioExt[strings.ToLower(path.Ext(urlPath(url)))] {
		tag = "audio"
	}
	src, _ := json.Marshal(url)
	tg, _ := json.Marshal(tag)
	var j mediaJSON
	b.Eval(t, "about:blank", fmt.Sprintf(playAndSeekJS, src, tg), &j)
	res := MediaResult{
		Duration:    parseFloat(j.Duration),
		SeekableEnd: parseFloat(j.SeekableEnd),
		Seeked:      j.Seeked,
		SeekedTo:    parseFloat(j.SeekedTo),
		VideoWidth:  j.VideoWidth,
		VideoHeight: j.VideoHeight,
		Error:       j.Error,
		CanPlay:     j.CanPlay,
	}
	res.Seekable = j.SeekLen > 0 && !math.IsInf(res.Duration, 0) && !math.IsNaN(res.Duration) &&
		math.Abs(res.SeekableEnd-res.Duration) <= 0.1
	return res
}

// urlPath returns the path part of a URL, without query or fragment.
func urlPath(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	return u
}

// parseFloat parses JavaScript's String(number): "Infinity", "-Infinity",
// "NaN" and decimals; anything else gives NaN.
func parseFloat(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// Eval opens url in a new tab, waits for it to load, evaluates the
// JavaScript expression js there (awaiting it when it is a Promise) and
// decodes its JSON value into out (skipped when out is nil). The call
// takes at most Timeout and ends with the test's context. A failed load,
// a thrown exception or a value out cannot hold fails the test.
func (b *Browser) Eval(t testing.TB, url, js string, out any) {
	t.Helper()
	tab, closeTab := chromedp.NewContext(b.ctx)
	defer closeTab()
	ctx, cancel := context.WithTimeout(tab, Timeout)
	defer cancel()
	stop := context.AfterFunc(t.Context(), cancel)
	defer stop()

	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("browsertest: opening %s: %v", url, err)
		return
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %v: %w", Timeout, err)
		}
		t.Fatalf("browsertest: evaluating in %s: %v", url, err)
		return
	}
	if out == nil {
		return
	}
	if len(raw) == 0 {
		raw = []byte("null")
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("browsertest: decoding the result %s: %v", raw, err)
	}
}

// Tab opens url in a new tab, waits for it to load and returns the tab's
// chromedp context, for chromedp.Run and chromedp.Do (screenshots,
// viewport changes, evaluations). The context ends after timeout, with
// the test's context, or when close is called; a failed load fails the
// test.
func (b *Browser) Tab(t testing.TB, url string, timeout time.Duration) (ctx context.Context, close func()) {
	t.Helper()
	tab, closeTab := chromedp.NewContext(b.ctx)
	ctx, cancel := context.WithTimeout(tab, timeout)
	stop := context.AfterFunc(t.Context(), cancel)
	close = func() { stop(); cancel(); closeTab() }
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		close()
		t.Fatalf("browsertest: opening %s: %v", url, err)
	}
	return ctx, close
}
