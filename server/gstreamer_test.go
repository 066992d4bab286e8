package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/catalog"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// gstPython is the interpreter whose GStreamer bindings whip_publish.py
// uses: Debian's, not whichever python3 comes first in PATH.
const gstPython = "/usr/bin/python3"

// gstElements are the GStreamer elements whip_publish.py needs.
var gstElements = []string{
	"webrtcbin", "nicesrc", "nicesink", "dtlssrtpenc", "x264enc", "opusenc", "rtph264pay", "rtpopuspay",
	"videotestsrc", "audiotestsrc", "videoconvert", "audioconvert", "audioresample", "valve",
}

// gstCheck imports the bindings whip_publish.py imports and exits non-zero
// naming the elements of its arguments that are missing.
const gstCheck = `import sys, gi
for ns in ("Gst", "GstSdp", "GstWebRTC"):
    gi.require_version(ns, "1.0")
from gi.repository import Gst, GstSdp, GstWebRTC
Gst.init(None)
missing = [e for e in sys.argv[1:] if Gst.ElementFactory.find(e) is None]
if missing:
    sys.exit("missing GStreamer elements: " + " ".join(missing))
`

// requireGStreamer skips the test when gstPython cannot run
// whip_publish.py, or, when the environment variable CI is "true", fails it
// (like mediatest.RequireTool).
func requireGStreamer(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs GStreamer; skipped in -short mode")
	}
	args := append([]string{"-c", gstCheck}, gstElements...)
	out, err := exec.CommandContext(t.Context(), gstPython, args...).CombinedOutput()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("GStreamer WebRTC for %s is missing (Debian: python3-gst-1.0 gir1.2-gst-plugins-bad-1.0 "+
		"gstreamer1.0-nice gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly): %v: %s",
		gstPython, err, bytes.TrimSpace(out))
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; required when CI=true", msg)
	}
	t.Skip(msg)
}

// publishGStreamer runs testdata/whip_publish.py: GStreamer publishes H.264
// and Opus to whipURL for seconds of media, then DELETEs its session. It
// returns the session's id and when the media started to flow and when
// the DELETE was sent. The script is killed if it outlives its timeout; its
// standard error is logged if the test fails.
func publishGStreamer(t *testing.T, whipURL string, seconds float64, token string) (session string, connected, deleted time.Time) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", "whip_publish.py"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Duration(seconds*float64(time.Second))+60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, gstPython, script, whipURL, strconv.FormatFloat(seconds, 'f', -1, 64), token)
	cmd.WaitDelay = 5 * time.Second // for pipes held open by a killed script's children
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("whip_publish.py stdout:\n%s\nstderr:\n%s", stdout.Bytes(), stderr.Bytes())
		}
	})
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%w (killed after its timeout)", err)
		}
		t.Fatalf("whip_publish.py: %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	unix := func(s string) time.Time {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("whip_publish.py: bad time %q", s)
		}
		return time.Unix(0, int64(math.Round(f*1e9)))
	}
	for line := range strings.Lines(stdout.String()) {
		key, val, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch key {
		case "session":
			session = path.Base(val)
		case "connected":
			connected = unix(val)
		case "deleted":
			deleted = unix(val)
		}
	}
	if session == "" || connected.IsZero() || deleted.IsZero() {
		t.Fatalf("whip_publish.py printed no session, connected or deleted line:\n%s", stdout.Bytes())
	}
	return session, connected, deleted
}

// TestGStreamerWHIP: an independent WebRTC stack, GStreamer's webrtcbin
// (ICE by libnice, its own DTLS, SRTP and RTP), publishes H.264 and Opus
// over WHIP to a server with AutoRecord and a token. Once the session is
// DELETEd, the recording is finished (API and catalog), and its file
// decodes without a word from ffmpeg, holds h264 and opus, and lasts from
// the recording's start to the DELETE.
func TestGStreamerWHIP(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	requireGStreamer(t)
	mediatest.RequireTool(t, "ffmpeg")
	mediatest.RequireTool(t, "ffprobe")
	dir := t.TempDir()
	s, hs := newTestServer(t, Config{Dir: dir, AutoRecord: true, Token: testToken})
	auth := []string{"Authorization", "Bearer " + testToken}

	const sent = 4.0 // seconds of media
	session, connected, deleted := publishGStreamer(t, hs.URL+"/whip", sent, testToken)

	var rec meta
	waitFor(t, 15*time.Second, "the recording to be finished", func() bool {
		r := do(t, "GET", hs.URL+"/api/recordings", nil, auth...)
		if r.status != 200 {
			t.Fatalf("GET /api/recordings: %d %s", r.status, r.body)
		}
		list := decodeJSON[struct{ Recordings []meta }](t, r.body).Recordings
		if len(list) != 1 {
			t.Fatalf("%d recordings, want the one AutoRecord made: %+v", len(list), list)
		}
		rec = list[0]
		if rec.State != "inactive" {
			return false
		}
		// The state is "inactive" from the spec's stop on; the file and
		// its catalog entry are finished by the stop event a moment later.
		entries, err := s.cat.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(entries, func(e catalog.Recording) bool { return e.ID == rec.ID })
		if i >= 0 && entries[i].Finished {
			rec = decodeJSON[struct{ Recordings []meta }](t, do(t, "GET", hs.URL+"/api/recordings", nil, auth...).body).Recordings[0]
			return true
		}
		return false
	})
	if rec.Session != session {
		t.Errorf("recording of session %q, want %q", rec.Session, session)
	}
	if rec.Error != nil {
		t.Errorf("recording error %+v", rec.Error)
	}
	if rec.MimeType != "video/x-matroska;codecs=avc1,opus" {
		t.Errorf("mimeType %q, want video/x-matroska;codecs=avc1,opus", rec.MimeType)
	}

	entries, err := s.cat.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(entries, func(e catalog.Recording) bool { return e.ID == rec.ID })
	if i < 0 {
		t.Fatalf("recording %s is not in the catalog", rec.ID)
	}
	e := entries[i]
	file := filepath.Join(dir, e.File)
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Finished || e.State != "inactive" || e.Size != fi.Size() || e.Size == 0 {
		t.Errorf("catalog entry %+v (file %d bytes), want finished, inactive, the file's size", e, fi.Size())
	}

	// Live capture: the frames keep GStreamer's capture times, a video
	// frame's phase against the audio can sit on ffmpeg's half-ticks (see
	// mediatest.DecodeVFR).
	if out := mediatest.DecodeVFR(t, file); out != "" {
		t.Errorf("ffmpeg: %s", out)
	}
	p := mediatest.FFprobe(t, file)
	var codecs []string
	frames := map[string]int{}
	for _, st := range p.Streams {
		codecs = append(codecs, st.CodecName)
		frames[st.CodecName] = st.NbReadFrames
		if st.CodecName == "h264" && (st.Width != 320 || st.Height != 240) {
			t.Errorf("h264 %dx%d, want 320x240", st.Width, st.Height)
		}
	}
	slices.Sort(codecs)
	if !slices.Equal(codecs, []string{"h264", "opus"}) {
		t.Errorf("codecs %v, want h264 and opus", codecs)
	}
	// The file runs from the recording's first sample, which comes right
	// after its creation, to the DELETE that ended the tracks.
	want := deleted.Sub(rec.Created).Seconds()
	t.Logf("sent %.3f s (media flowing to DELETE), recording created to DELETE %.3f s, file %.3f s (catalog %.3f s); "+
		"%d h264 frames, %d opus packets",
		deleted.Sub(connected).Seconds(), want, p.Duration, e.Duration, frames["h264"], frames["opus"])
	// Not longer than the wall time it was recorded over; not shorter is
	// judged by the media GStreamer sent (below): on a loaded box its
	// sender's clock falls behind the wall clock (4.0 s sent over 4.6 s).
	if p.Duration > want+0.5 {
		t.Errorf("file duration %.3f s, want at most %.3f + 0.5 s (recording created to DELETE)", p.Duration, want)
	}
	if p.Duration < sent-0.5 {
		t.Errorf("file duration %.3f s, want about the %.1f s sent: the recording missed the start", p.Duration, sent)
	}
	// 30 frames/s of video and 50 packets/s of audio, give or take the
	// first frames before a key frame.
	if least := int(0.8 * 30 * p.Duration); frames["h264"] < least {
		t.Errorf("%d h264 frames in %.3f s, want at least %d", frames["h264"], p.Duration, least)
	}
	if least := int(0.9 * 50 * p.Duration); frames["opus"] < least {
		t.Errorf("%d opus packets in %.3f s, want at least %d", frames["opus"], p.Duration, least)
	}
}
