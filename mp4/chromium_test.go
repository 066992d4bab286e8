package mp4_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/mp4"
)

// chromiumPage loads each file named in the query string into a <video>,
// seeks to 1 s, plays for half a second and posts what happened to /log.
const chromiumPage = `<!doctype html><script>
const files = location.search.slice(1).split(",");
function test(name) {
  return new Promise(resolve => {
    const v = document.createElement("video");
    v.muted = true;
    let log = name + " ";
    const done = s => resolve(log + s);
    v.onerror = () => done("error " + (v.error && v.error.message));
    v.onloadedmetadata = () => { log += "duration=" + v.duration + " "; v.currentTime = 1; };
    v.onseeked = () => {
      log += "seeked=" + v.currentTime + " ";
      v.play().then(() => setTimeout(() => done("played=" + v.currentTime), 500), e => done("play failed " + e));
    };
    setTimeout(() => done("timeout"), 20000);
    v.src = name;
  });
}
(async () => {
  for (const f of files) await fetch("/log", {method: "POST", body: await test(f)});
  await fetch("/log", {method: "POST", body: "done"});
})();
</script>`

// TestChromium plays the writer's files in headless Chromium: each must
// load with its duration, seek to 1 s and play on. It takes a while, so it
// runs only with MEDIARECORDER_CHROMIUM=1.
func TestChromium(t *testing.T) {
	if os.Getenv("MEDIARECORDER_CHROMIUM") != "1" {
		t.Skip("set MEDIARECORDER_CHROMIUM=1 to play the files in Chromium")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var names []string
	want := map[string]time.Duration{}
	for _, c := range combos {
		var ms []media
		if c.video != nil {
			ms = append(ms, c.video(t, 1))
		}
		if c.audio {
			ms = append(ms, loadOpus(t, uint32(len(ms)+1)))
		}
		var opts mp4.Options
		for _, m := range ms {
			opts.Tracks = append(opts.Tracks, m.track)
		}
		samples := interleave(ms...)
		name := strings.ReplaceAll(c.name, "+", "-")
		w := writeSeekable(t, dir, name+".mp4", opts, samples)
		live := writeLive(t, opts, samples, 300*time.Millisecond)
		var all []byte
		for _, ch := range live {
			all = append(all, ch...)
		}
		os.WriteFile(filepath.Join(dir, name+"-live.mp4"), all, 0o644)
		pr := probeFile(t, w)
		for _, n := range []string{name + ".mp4", name + "-live.mp4"} {
			names = append(names, n)
			want[n] = pr.Duration
		}
	}
	logs := make(chan string, len(names)+1)
	mux := http.NewServeMux()
	mux.HandleFunc("/log", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		logs <- string(b)
	})
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, chromiumPage) })
	mux.Handle("/", http.FileServer(http.Dir(dir)))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--autoplay-policy=no-user-gesture-required", "--user-data-dir="+filepath.Join(dir, "profile"),
		srv.URL+"/page?"+strings.Join(names, ","))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	timeout := time.After(time.Duration(len(names)) * 25 * time.Second)
	for {
		select {
		case l := <-logs:
			if l == "done" {
				return
			}
			t.Log(l)
			f := strings.Fields(l)
			kv := map[string]string{}
			for _, x := range f[1:] {
				k, v, _ := strings.Cut(x, "=")
				kv[k] = v
			}
			d, _ := strconv.ParseFloat(kv["duration"], 64)
			played, _ := strconv.ParseFloat(kv["played"], 64)
			if got := time.Duration(d * float64(time.Second)); absDur(got-want[f[0]]) > 50*time.Millisecond ||
				kv["seeked"] != "1" || played < 1.1 {
				t.Errorf("%s: %s (want duration %v, a seek to 1 and playing on)", f[0], l, want[f[0]])
			}
		case <-timeout:
			t.Fatal("Chromium did not finish")
		}
	}
}
