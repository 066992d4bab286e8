package server

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/storage"
)

// TestDiskFull: the disk fills during a recording. The recorder fires
// error (UnknownError), the recording ends with the error in its entry,
// the file reads cleanly up to the last whole Cluster, and the server
// goes on serving.
func TestDiskFull(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	const limit = 150_000
	recordingFile = func(w storage.Writer) io.WriteSeeker {
		f, err := os.OpenFile(w.Name(), os.O_RDWR, 0)
		if err != nil {
			t.Error(err)
			return w
		}
		t.Cleanup(func() { f.Close() })
		return &mediatest.FullDisk{File: f, Limit: limit}
	}
	t.Cleanup(func() { recordingFile = func(w storage.Writer) io.WriteSeeker { return w } })
	_, hs := newTestServer(t, Config{AutoRecord: true})
	pub := publish(t, hs.URL, "")
	rec := autoRecording(t, hs.URL)
	events := subscribe(t, hs.URL+"/api/recordings/"+rec.ID+"/events")
	// The test media runs at a few hundred kb/s: the disk fills within
	// seconds and the recording stops by itself. The state turns
	// "inactive" at once (the spec's stop); the file is finished when the
	// stop event comes, which ends the event stream.
	var names []string
	select {
	case evs := <-events:
		for _, e := range evs {
			names = append(names, e.name)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the event stream did not end with the recording")
	}
	rec = decodeJSON[meta](t, do(t, "GET", hs.URL+"/api/recordings/"+rec.ID, nil).body)
	if rec.State != "inactive" {
		t.Fatalf("state %q after the stop event", rec.State)
	}
	if rec.Error == nil || rec.Error.Name != "UnknownError" {
		t.Fatalf("recording error %+v, want UnknownError", rec.Error)
	}
	t.Logf("error: %s; size %d", rec.Error.Message, rec.Size)
	if rec.Size == 0 || rec.Size > limit {
		t.Errorf("size %d, want 0 < size <= %d", rec.Size, limit)
	}
	if !containsSeq(names, "error", "dataavailable", "stop") {
		t.Errorf("events %v, want error, dataavailable, stop", names)
	}
	// What reached the disk reads without a single complaint.
	r := do(t, "GET", hs.URL+"/api/recordings/"+rec.ID+"/media", nil)
	path := t.TempDir() + "/full.webm"
	if err := os.WriteFile(path, r.body, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := mediatest.DecodeVFR(t, path); out != "" { // a live recording: its own time base
		t.Errorf("ffmpeg on the file left by the full disk: %s", out)
	}
	p := mediatest.FFprobe(t, path)
	if len(p.Streams) != 2 {
		t.Fatalf("streams %+v", p.Streams)
	}
	for _, st := range p.Streams {
		if st.NbReadFrames < 15 {
			t.Errorf("%s: %d frames survived the full disk, want at least 15", st.CodecName, st.NbReadFrames)
		}
	}
	// The server is fine: the session is still there and can record again
	// once there is room.
	recordingFile = func(w storage.Writer) io.WriteSeeker { return w }
	if r := do(t, "POST", hs.URL+"/api/recordings", []byte(`{"session":"`+pub.session+`"}`)); r.status != 201 {
		t.Errorf("a new recording after the full disk: %d %s", r.status, r.body)
	}
}

// containsSeq reports whether want appears in order (not necessarily
// adjacent) in got.
func containsSeq(got []string, want ...string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}
