package server

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/mp4"
	"github.com/gomediarecorder/mediarecorder/ogg"
	"github.com/gomediarecorder/mediarecorder/webm"
)

// loadCatalog reads the catalog into s.recs, finishing the files that a
// crash left unfinished.
func (s *Server) loadCatalog() error {
	entries, err := s.cat.all()
	if err != nil {
		return fmt.Errorf("server: reading the catalog: %w", err)
	}
	for _, e := range entries {
		if !validID(e.ID) || !validID(strings.TrimSuffix(e.File, filepath.Ext(e.File))) {
			s.log.Warn("catalog: skipping an entry with a bad id", "id", e.ID, "file", e.File)
			continue
		}
		if !e.Finished {
			s.recoverEntry(&e)
			if err := s.cat.put(e); err != nil {
				return fmt.Errorf("server: catalog: %w", err)
			}
		}
		s.recs[e.ID] = &recording{s: s, e: e}
	}
	return nil
}

// recoverEntry finishes the file of an entry that a crash left behind.
func (s *Server) recoverEntry(e *entry) {
	path := filepath.Join(s.cfg.Dir, e.File)
	e.Finished, e.Recovered = true, true
	e.State = string(mediarecorder.StateInactive)
	fail := func(err error) {
		s.log.Error("recovery failed", "recording", e.ID, "file", path, "err", err)
		e.Error = &errorBody{Name: mediarecorder.NameUnknown, Message: "recovery failed: " + err.Error()}
	}
	fi, err := os.Stat(path)
	if err != nil {
		fail(err)
		return
	}
	e.Size = fi.Size()
	fix := fixerFor(filepath.Ext(e.File))
	if fix == nil {
		s.log.Info("recovered recording", "recording", e.ID, "file", path)
		return
	}
	dur, size, err := fixInPlace(path, fix)
	if err != nil {
		fail(err)
		return
	}
	e.Duration, e.Size = dur, size
	s.log.Info("recovered recording", "recording", e.ID, "file", path, "duration", dur, "size", size)
}

// fixFunc writes the finished form of src into dst and returns its
// duration.
type fixFunc func(dst io.WriteSeeker, src io.Reader) (time.Duration, error)

// fixerFor returns the repair of a recording file by its extension: the
// whole clusters (webm.Fix), fragments (mp4.Fix) or pages (ogg.Fix) that
// reached the file, finished; nil for an unknown one.
func fixerFor(ext string) fixFunc {
	switch ext {
	case ".webm", ".mkv":
		return func(dst io.WriteSeeker, src io.Reader) (time.Duration, error) {
			rep, err := webm.Fix(dst, src, webm.FixOptions{})
			return rep.Duration, err
		}
	case ".mp4":
		return func(dst io.WriteSeeker, src io.Reader) (time.Duration, error) {
			rep, err := mp4.Fix(dst, src, mp4.FixOptions{})
			return rep.Duration, err
		}
	case ".ogg":
		return func(dst io.WriteSeeker, src io.Reader) (time.Duration, error) {
			rep, err := ogg.Fix(dst, src)
			return rep.Duration, err
		}
	}
	return nil
}

// fixInPlace finishes a file with fix into a temporary file that then
// replaces it, and returns the duration in seconds and the size.
func fixInPlace(path string, fix fixFunc) (float64, int64, error) {
	src, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".recover-*")
	if err != nil {
		return 0, 0, err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	dur, err := fix(tmp, src)
	if err != nil {
		return 0, 0, err
	}
	if err := tmp.Sync(); err != nil {
		return 0, 0, err
	}
	fi, err := tmp.Stat()
	if err != nil {
		return 0, 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, 0, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return 0, 0, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, 0, err
	}
	ok = true
	return dur.Seconds(), fi.Size(), nil
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sessions := len(s.sessions)
	var live []*recording
	for _, rc := range s.recs {
		live = append(live, rc)
	}
	total := len(s.recs)
	s.mu.Unlock()
	active, paused := 0, 0
	dropped, keyReqs := s.m.droppedDone.Load(), s.m.keyFrameReqsDone.Load()
	for _, rc := range live {
		rc.mu.Lock()
		r := rc.rec
		rc.mu.Unlock()
		if r == nil {
			continue
		}
		st := r.Stats()
		dropped += st.Dropped
		keyReqs += st.KeyFrameRequests
		switch r.State() {
		case mediarecorder.StateRecording:
			active++
		case mediarecorder.StatePaused:
			paused++
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	metric := func(name, typ, help string, lines ...string) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for _, l := range lines {
			fmt.Fprintf(w, "%s%s\n", name, l)
		}
	}
	metric("mediarecorder_sessions", "gauge", "WHIP sessions open now.", fmt.Sprintf(" %d", sessions))
	metric("mediarecorder_sessions_total", "counter", "WHIP sessions opened.", fmt.Sprintf(" %d", s.m.sessionsTotal.Load()))
	metric("mediarecorder_recordings", "gauge", "Recordings by state.",
		fmt.Sprintf(`{state="recording"} %d`, active),
		fmt.Sprintf(`{state="paused"} %d`, paused),
		fmt.Sprintf(`{state="inactive"} %d`, total-active-paused))
	metric("mediarecorder_recordings_total", "counter", "Recordings started.", fmt.Sprintf(" %d", s.m.recordingsTotal.Load()))
	metric("mediarecorder_recorded_bytes_total", "counter", "Bytes delivered in dataavailable blobs.", fmt.Sprintf(" %d", s.m.bytesWritten.Load()))
	metric("mediarecorder_dropped_frames_total", "counter", "Samples dropped because a recorder fell behind.", fmt.Sprintf(" %d", dropped))
	metric("mediarecorder_keyframe_requests_total", "counter", "Key frames asked of the publishers.", fmt.Sprintf(" %d", keyReqs))
}
