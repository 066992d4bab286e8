package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/mp4"
	"github.com/gomediarecorder/mediarecorder/ogg"
	"github.com/pion/webrtc/v4"
)

// TestKilledServerRecovers records over WHIP into MP4 (VP9 and Opus) and
// Ogg (Opus) in a server process that is then killed with SIGKILL; a new
// server on the same directory finishes both files at start-up (mp4.Fix,
// ogg.Fix) and lists them as recovered, with the duration of what reached
// the file. Before, MP4 and Ogg files were left as they were: duration 0
// in the API, and the MP4 one held no fragment at all.
func TestKilledServerRecovers(t *testing.T) {
	if dir := os.Getenv("MR_KILLED_SERVER_CHILD"); dir != "" {
		killedServerChild(t, dir)
		return
	}
	mediatest.RequireTool(t, "ffmpeg")
	if testing.Short() {
		t.Skip("records for seconds in a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledServerRecovers$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MR_KILLED_SERVER_CHILD="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ids := map[string]string{} // extension -> recording id
	ready := make(chan struct{})
	var output bytes.Buffer
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			mu.Lock()
			output.WriteString(sc.Text() + "\n")
			if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "recording" {
				ids[f[1]] = f[2]
			}
			if sc.Text() == "recorded" {
				close(ready)
			}
			mu.Unlock()
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the child did not record:\n%s", output.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	_, hs := newTestServer(t, Config{Dir: dir})
	mu.Lock()
	defer mu.Unlock()
	for _, ext := range []string{".mp4", ".ogg"} {
		id := ids[ext]
		r := do(t, "GET", hs.URL+"/api/recordings/"+id, nil)
		m := decodeJSON[meta](t, r.body)
		t.Logf("%s: %+v", ext, m)
		// The child recorded at least 2.5 s, then 1.2 s more (at most a
		// second is lost).
		if r.status != 200 || !m.Recovered || m.State != "inactive" || m.Error != nil || m.Duration < 2 || m.Duration > 8 {
			t.Errorf("%s: %d %s", ext, r.status, r.body)
		}
		path := filepath.Join(dir, id+ext)
		if out := mediatest.DecodeVFR(t, path); out != "" {
			t.Errorf("%s: ffmpeg: %s", ext, out)
		}
		p := mediatest.FFprobe(t, path)
		if p.Duration < m.Duration-0.05 || p.Duration > m.Duration+0.05 {
			t.Errorf("%s: ffprobe %.3f s, the catalog %.3f s", ext, p.Duration, m.Duration)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		switch ext {
		case ".mp4":
			if pr, err := mp4.Probe(f); err != nil || !pr.Seekable || len(pr.Problems) > 0 {
				t.Errorf("mp4.Probe: %+v %v", pr, err)
			}
		case ".ogg":
			// Fixed already: fixing again finds nothing cut off.
			if rep, err := ogg.Fix(io.Discard, f); err != nil || rep.Truncated || len(rep.Problems) > 0 {
				t.Errorf("ogg.Fix again: %+v %v", rep, err)
			}
		}
		f.Close()
	}
}

// killedServerChild runs a server in dir that records a VP9 and Opus
// publisher into MP4 and an Opus one into Ogg, and prints "recorded"
// after about 3 s of recording; it is killed then.
func killedServerChild(t *testing.T, dir string) {
	_, hs := newTestServer(t, Config{Dir: dir})
	var ids []string
	vp9 := mediatest.IVFFrames(t, mediatest.Testdata(t, "vp9.ivf"))
	opus := readOpus(t, mediatest.Testdata(t, "opus-stereo.ogg"))
	for _, c := range []struct {
		ext, mime string
		video     [][]byte
	}{{".mp4", "video/mp4", vp9}, {".ogg", "audio/ogg", nil}} {
		session := publishCodecs(t, hs.URL, c.video, opus)
		r := do(t, "POST", hs.URL+"/api/recordings", []byte(`{"session":"`+session+`","mimeType":"`+c.mime+`"}`),
			"Content-Type", "application/json")
		if r.status != http.StatusCreated {
			t.Fatalf("POST /api/recordings %s: %d %s", c.mime, r.status, r.body)
		}
		m := decodeJSON[meta](t, r.body)
		ids = append(ids, m.ID)
		fmt.Printf("recording %s %s\n", c.ext, m.ID)
	}
	// Until each has recorded 2.5 s (however long a loaded box takes to
	// connect and send), then a little more than the recorder's 1 s flush
	// to the file.
	for _, id := range ids {
		waitFor(t, 2*time.Minute, id+" recording 2.5 s", func() bool {
			return decodeJSON[meta](t, do(t, "GET", hs.URL+"/api/recordings/"+id, nil).body).Duration >= 2.5
		})
	}
	time.Sleep(1200 * time.Millisecond)
	fmt.Println("recorded")
	time.Sleep(time.Minute) // killed long before
}

// publishCodecs publishes VP9 frames (none: audio only) and Opus packets
// over WHIP from a pion PeerConnection, in real time and in a loop until
// the test ends, and returns the session id.
func publishCodecs(t *testing.T, base string, vp9 [][]byte, opus [][]byte) string {
	t.Helper()
	pc := publisherPC(t)
	var sends []sendLoop
	if vp9 != nil {
		tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP9, ClockRate: 90000}, "video", "pub")
		if err != nil {
			t.Fatal(err)
		}
		sends = append(sends, sendLoop{tr, vp9, time.Second / 30})
	}
	tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "pub")
	if err != nil {
		t.Fatal(err)
	}
	sends = append(sends, sendLoop{tr, opus, 20 * time.Millisecond})
	var tracks []webrtc.TrackLocal
	for _, s := range sends {
		tracks = append(tracks, s.tr)
	}
	r := offerTracks(t, pc, base, tracks)
	session, ok := strings.CutPrefix(r.header.Get("Location"), "/whip/")
	if !ok {
		t.Fatalf("Location %q", r.header.Get("Location"))
	}
	connectAnswer(t, pc, r.body, 10*time.Second)
	sendLoops(t, nil, sends...)
	return session
}
