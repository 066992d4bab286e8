package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gomediarecorder/mediarecorder"
)

// stopWait is how long POST .../stop and DELETE wait for the file to be
// finished before answering.
const stopWait = 15 * time.Second

// sseEvent is one event of a recording, as sent over SSE.
type sseEvent struct {
	name string
	data string
}

// recording is one recording: its catalog entry and, while it runs, its
// recorder and file.
type recording struct {
	s *Server

	mu       sync.Mutex
	e        entry
	rec      *mediarecorder.Recorder // nil once stopped
	f        *os.File
	segStart time.Time     // when the current recording stretch began
	active   time.Duration // recorded time before segStart
	running  bool          // recording, not paused
	events   []sseEvent
	changed  chan struct{} // closed and replaced at each event
	done     chan struct{} // closed when the file is finished
}

func (rc *recording) path() string { return filepath.Join(rc.s.cfg.Dir, rc.e.File) }

// view returns the recording as the API shows it.
func (rc *recording) view() meta {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	m := rc.e.meta
	if rc.rec != nil {
		m.State = string(rc.rec.State())
		d := rc.active
		if rc.running {
			d += time.Since(rc.segStart)
		}
		m.Duration = d.Seconds()
		if rc.f != nil {
			if st, err := rc.f.Stat(); err == nil {
				m.Size = st.Size()
			}
		}
	}
	return m
}

// emit records an event and wakes the SSE streams. rc.mu is held.
func (rc *recording) emit(name string, data any) {
	b, _ := json.Marshal(data)
	rc.events = append(rc.events, sseEvent{name: name, data: string(b)})
	close(rc.changed)
	rc.changed = make(chan struct{})
}

// save writes the entry to the catalog. rc.mu is held.
func (rc *recording) save() {
	if err := rc.s.cat.put(rc.e); err != nil {
		rc.s.log.Error("catalog write failed", "recording", rc.e.ID, "err", err)
	}
}

// stopRecorder stops the recorder, if it runs.
func (rc *recording) stopRecorder() {
	rc.mu.Lock()
	r := rc.rec
	rc.mu.Unlock()
	if r != nil {
		_ = r.Stop()
	}
}

// wait waits until the file is finished or d passes.
func (rc *recording) wait(d time.Duration) {
	if rc.done == nil {
		return
	}
	select {
	case <-rc.done:
	case <-time.After(d):
	}
}

// createRequest is the body of POST /api/recordings.
type createRequest struct {
	Session            string  `json:"session"`
	Name               string  `json:"name"` // the recording's name, free text
	MimeType           string  `json:"mimeType"`
	Timeslice          float64 `json:"timeslice"` // milliseconds
	AudioBitsPerSecond uint64  `json:"audioBitsPerSecond"`
	VideoBitsPerSecond uint64  `json:"videoBitsPerSecond"`
}

// domStatus maps a recorder error to an HTTP status and DOMException name.
func domStatus(err error) (int, string) {
	var de *mediarecorder.DOMException
	if !errors.As(err, &de) {
		return http.StatusInternalServerError, mediarecorder.NameUnknown
	}
	switch de.Name {
	case mediarecorder.NameInvalidState:
		return http.StatusConflict, de.Name
	case mediarecorder.NameNotSupported:
		return http.StatusBadRequest, de.Name
	}
	return http.StatusInternalServerError, de.Name
}

func domMessage(err error) string {
	var de *mediarecorder.DOMException
	if errors.As(err, &de) {
		return de.Message
	}
	return err.Error()
}

// recordingFile is what a recorder writes into: the file itself (tests
// put a full disk in between).
var recordingFile = func(f *os.File) io.WriteSeeker { return f }

// createRecording constructs and starts a recorder on ss. It returns the
// HTTP status to answer with on failure.
func (s *Server) createRecording(ss *session, req createRequest) (*recording, int, error) {
	r, err := mediarecorder.New(ss.stream, mediarecorder.Options{
		MimeType:           req.MimeType,
		AudioBitsPerSecond: req.AudioBitsPerSecond,
		VideoBitsPerSecond: req.VideoBitsPerSecond,
	})
	if err != nil {
		st, _ := domStatus(err)
		return nil, st, err
	}
	id := newID()
	name := id + ".webm" // when ContainerFor fails, so will Start
	if _, ext, err := mediarecorder.ContainerFor(ss.stream, req.MimeType); err == nil {
		name = id + ext
	}
	f, err := os.OpenFile(filepath.Join(s.cfg.Dir, name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, http.StatusInternalServerError, &mediarecorder.DOMException{Name: mediarecorder.NameUnknown, Message: "creating the file: " + err.Error()}
	}
	rc := &recording{
		s: s, rec: r, f: f,
		e: entry{meta: meta{
			ID: id, Name: req.Name, Session: ss.id, State: string(mediarecorder.StateInactive),
			MimeType: req.MimeType, Created: time.Now().UTC().Truncate(time.Millisecond),
		}, File: name},
		changed: make(chan struct{}),
		done:    make(chan struct{}),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		f.Close()
		os.Remove(f.Name())
		return nil, http.StatusServiceUnavailable, &mediarecorder.DOMException{Name: mediarecorder.NameInvalidState, Message: "the server is shutting down"}
	}
	s.recs[id] = rc
	s.wg.Add(1)
	s.mu.Unlock()
	s.installHandlers(rc, r)

	rc.mu.Lock()
	rc.save()
	rc.mu.Unlock()
	timeslice := time.Duration(max(req.Timeslice, 0) * float64(time.Millisecond))
	if err := r.StartFile(recordingFile(f), timeslice); err != nil {
		s.mu.Lock()
		delete(s.recs, id)
		s.mu.Unlock()
		s.wg.Done()
		f.Close()
		os.Remove(f.Name())
		_ = s.cat.delete(id)
		st, _ := domStatus(err)
		return nil, st, err
	}
	rc.mu.Lock()
	rc.e.State = string(mediarecorder.StateRecording)
	rc.segStart, rc.running = time.Now(), true
	rc.mu.Unlock()
	s.m.recordingsTotal.Add(1)
	s.log.Info("recording started", "recording", id, "session", ss.id, "file", name)
	return rc, 0, nil
}

// installHandlers wires the recorder's events to the recording.
func (s *Server) installHandlers(rc *recording, r *mediarecorder.Recorder) {
	r.OnStart(func() {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.e.MimeType = r.MimeType()
		rc.e.State = string(mediarecorder.StateRecording)
		rc.save()
		rc.emit("start", struct{}{})
	})
	r.OnDataAvailable(func(ev mediarecorder.BlobEvent) {
		s.m.bytesWritten.Add(uint64(ev.Data.Size()))
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if t := ev.Data.Type(); t != "" {
			rc.e.MimeType = t
		}
		rc.emit("dataavailable", map[string]any{"size": ev.Data.Size(), "timecode": ev.Timecode})
	})
	r.OnPause(func() {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.running {
			rc.active += time.Since(rc.segStart)
			rc.running = false
		}
		rc.e.State = string(mediarecorder.StatePaused)
		rc.save()
		rc.emit("pause", struct{}{})
	})
	r.OnResume(func() {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if !rc.running {
			rc.segStart, rc.running = time.Now(), true
		}
		rc.e.State = string(mediarecorder.StateRecording)
		rc.save()
		rc.emit("resume", struct{}{})
	})
	r.OnError(func(err error) {
		name, msg := mediarecorder.NameUnknown, err.Error()
		var de *mediarecorder.DOMException
		if errors.As(err, &de) {
			name, msg = de.Name, de.Message
		}
		s.log.Warn("recording error", "recording", rc.e.ID, "name", name, "message", msg)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.e.Error = &errorBody{Name: name, Message: msg}
		rc.emit("error", rc.e.Error)
	})
	r.OnStop(func() {
		st := r.Stats()
		s.m.droppedDone.Add(st.Dropped)
		s.m.keyFrameReqsDone.Add(st.KeyFrameRequests)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.running {
			rc.active += time.Since(rc.segStart)
			rc.running = false
		}
		rc.e.Duration = rc.active.Seconds()
		if err := rc.f.Sync(); err != nil {
			s.log.Warn("sync failed", "recording", rc.e.ID, "err", err)
		}
		if fi, err := rc.f.Stat(); err == nil {
			rc.e.Size = fi.Size()
		}
		if d := r.Duration(); d > 0 { // the media's length, as the finished file says
			rc.e.Duration = d.Seconds()
		}
		rc.f.Close()
		rc.f, rc.rec = nil, nil
		rc.e.State = string(mediarecorder.StateInactive)
		rc.e.Finished = true
		rc.save()
		rc.emit("stop", struct{}{})
		close(rc.done)
		s.wg.Done()
		s.log.Info("recording stopped", "recording", rc.e.ID, "size", rc.e.Size, "duration", rc.e.Duration,
			"dropped", st.Dropped, "skipped", st.Skipped, "keyFrameRequests", st.KeyFrameRequests)
	})
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request) *recording {
	id := r.PathValue("id")
	s.mu.Lock()
	rc := s.recs[id]
	s.mu.Unlock()
	if rc == nil {
		writeError(w, http.StatusNotFound, "NotFoundError", "no such recording")
	}
	return rc
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		writeBodyError(w, err)
		return
	}
	var req createRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "SyntaxError", "bad JSON body: "+err.Error())
		return
	}
	if req.Session == "" {
		writeError(w, http.StatusBadRequest, "TypeError", `"session" is required`)
		return
	}
	if err := checkName(req.Name); err != nil {
		writeError(w, http.StatusBadRequest, "TypeError", err.Error())
		return
	}
	s.mu.Lock()
	ss := s.sessions[req.Session]
	s.mu.Unlock()
	if ss == nil {
		writeError(w, http.StatusNotFound, "NotFoundError", "no such session")
		return
	}
	ss.waitTracks(r.Context(), trackWait)
	rc, status, err := s.createRecording(ss, req)
	if err != nil {
		_, name := domStatus(err)
		writeError(w, status, name, domMessage(err))
		return
	}
	w.Header().Set("Location", "/api/recordings/"+rc.e.ID)
	writeJSON(w, http.StatusCreated, rc.view())
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	list := make([]*recording, 0, len(s.recs))
	for _, rc := range s.recs {
		list = append(list, rc)
	}
	s.mu.Unlock()
	out := make([]meta, 0, len(list))
	for _, rc := range list {
		out = append(out, rc.view())
	}
	slices.SortFunc(out, func(a, b meta) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	writeJSON(w, http.StatusOK, map[string]any{"recordings": out})
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	if rc := s.lookup(w, r); rc != nil {
		writeJSON(w, http.StatusOK, rc.view())
	}
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	rc := s.lookup(w, r)
	if rc == nil {
		return
	}
	rc.stopRecorder()
	rc.wait(stopWait)
	s.mu.Lock()
	delete(s.recs, rc.e.ID)
	s.mu.Unlock()
	rc.mu.Lock()
	path := rc.path()
	rc.mu.Unlock()
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("removing a recording", "recording", rc.e.ID, "err", err)
	}
	if err := s.cat.delete(rc.e.ID); err != nil {
		writeError(w, http.StatusInternalServerError, mediarecorder.NameUnknown, err.Error())
		return
	}
	s.log.Info("recording deleted", "recording", rc.e.ID)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleAction(w http.ResponseWriter, r *http.Request) {
	action := r.PathValue("action")
	switch action {
	case "pause", "resume", "requestData", "stop":
	default:
		writeError(w, http.StatusNotFound, "NotFoundError", "no such action: "+action)
		return
	}
	rc := s.lookup(w, r)
	if rc == nil {
		return
	}
	rc.mu.Lock()
	rec := rc.rec
	rc.mu.Unlock()
	if rec == nil {
		writeError(w, http.StatusConflict, mediarecorder.NameInvalidState, action+"() on an inactive recording")
		return
	}
	var err error
	switch action {
	case "pause":
		err = rec.Pause()
	case "resume":
		err = rec.Resume()
	case "requestData":
		err = rec.RequestData()
	case "stop":
		err = rec.Stop()
		if err == nil {
			rc.wait(stopWait)
		}
	}
	if err != nil {
		st, name := domStatus(err)
		writeError(w, st, name, domMessage(err))
		return
	}
	writeJSON(w, http.StatusOK, rc.view())
}

func (s *Server) handleMedia(w http.ResponseWriter, r *http.Request) {
	rc := s.lookup(w, r)
	if rc == nil {
		return
	}
	m := rc.view()
	rc.mu.Lock()
	name := rc.e.File
	rc.mu.Unlock()
	if !validID(strings.TrimSuffix(name, filepath.Ext(name))) {
		writeError(w, http.StatusNotFound, "NotFoundError", "no media for this recording")
		return
	}
	f, err := os.Open(filepath.Join(s.cfg.Dir, name))
	if err != nil {
		writeError(w, http.StatusNotFound, "NotFoundError", "no media for this recording")
		return
	}
	defer f.Close()
	ct := m.MimeType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s"`, name))
	w.Header().Set("Cache-Control", "no-store")
	serveFile(w, r, name, f)
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	rc := s.lookup(w, r)
	if rc == nil {
		return
	}
	fl, _ := w.(http.Flusher)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, ": mediarecorder events\n\n")
	if fl != nil {
		fl.Flush()
	}
	next := 0
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	for {
		rc.mu.Lock()
		evs := slices.Clone(rc.events[next:])
		changed := rc.changed
		live := rc.rec != nil
		rc.mu.Unlock()
		for _, ev := range evs {
			next++
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", next, ev.name, ev.data); err != nil {
				return
			}
		}
		if fl != nil && len(evs) > 0 {
			fl.Flush()
		}
		if !live {
			return
		}
		select {
		case <-changed:
		case <-keepalive.C:
			if _, err := io.WriteString(w, ": keepalive\n\n"); err != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
		case <-r.Context().Done():
			return
		case <-s.ctx.Done():
			return
		}
	}
}
