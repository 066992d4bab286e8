package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/catalog"
	"github.com/gomediarecorder/mediarecorder/storage"
	"github.com/gomediarecorder/mediarecorder/webm"
)

// stopWait is how long POST .../stop and DELETE wait for the file to be
// finished before answering.
const stopWait = 15 * time.Second

// commitTimeout bounds the upload that finishes a recording in the
// store; past it the upload is queued (storage.ErrQueued) and finished
// by the store's queue.
const commitTimeout = 10 * time.Second

// recording is one recording of this node: its catalog row and, while it
// runs, its recorder and the store's writer.
type recording struct {
	s *Server

	mu       sync.Mutex
	e        catalog.Recording
	rec      *mediarecorder.Recorder // nil once stopped
	w        storage.Writer          // nil once finished
	segStart time.Time               // when the current recording stretch began
	active   time.Duration           // recorded time before segStart
	running  bool                    // recording, not paused
	done     chan struct{}           // closed when the file is finished
	stopAt   time.Time               // when its stop began (the stop-to-finished histogram)
}

// markStop notes that the recording's stop begins now, whatever its
// cause (a stop request, DELETE, its WHIP session ending, an error,
// shutdown); the first cause counts. rc.mu is not held.
func (rc *recording) markStop() {
	rc.mu.Lock()
	if rc.stopAt.IsZero() && rc.rec != nil {
		rc.stopAt = time.Now()
	}
	rc.mu.Unlock()
}

// recordings returns this node's recordings in s.recs, live or
// finishing.
func (s *Server) recordings() []*recording {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*recording, 0, len(s.recs))
	for _, rc := range s.recs {
		out = append(out, rc)
	}
	return out
}

// markSessionStops notes that the recordings of WHIP session id begin to
// stop: the session ends, so their tracks do.
func (s *Server) markSessionStops(id string) {
	for _, rc := range s.recordings() {
		rc.mu.Lock()
		session := rc.e.Session
		rc.mu.Unlock()
		if session == id {
			rc.markStop()
		}
	}
}

// path is the recording's file in a local store (or the spool).
func (rc *recording) path() string { return filepath.Join(rc.s.cfg.Dir, keyOf(rc.e)) }

// view returns the recording as the API shows it.
func (rc *recording) view() meta {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.viewLocked()
}

// viewLocked is view with rc.mu held.
func (rc *recording) viewLocked() meta {
	m := viewOf(rc.e, rc.s.node.cluster)
	if rc.rec != nil {
		m.State = string(rc.rec.State())
		d := rc.active
		if rc.running {
			d += time.Since(rc.segStart)
		}
		m.Duration = d.Seconds()
		if rc.w != nil {
			m.Size = rc.w.Size()
		}
	}
	return m
}

// emit publishes an event through the catalog, which delivers it to the
// event streams on every node. rc.mu is held, so that events keep their
// order.
func (rc *recording) emit(name string, data any) {
	b, _ := json.Marshal(data)
	ctx, cancel := context.WithTimeout(context.Background(), catalogTimeout)
	defer cancel()
	if _, err := rc.s.cat.Publish(ctx, rc.e.ID, name, b); err != nil {
		rc.s.log.Error("publishing an event failed", "recording", rc.e.ID, "event", name, "err", err)
	}
}

// save writes the row to the catalog. rc.mu is held.
func (rc *recording) save() { rc.s.put(rc.e) }

// stopRecorder stops the recorder, if it runs.
func (rc *recording) stopRecorder() {
	rc.markStop()
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
	Keep               bool    `json:"keep"` // exempt from retention
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

// recordingFile is what a recorder writes into: the store's writer
// itself (tests put a full disk in between).
var recordingFile = func(w storage.Writer) io.WriteSeeker { return w }

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
	key := id + ".webm" // when ContainerFor fails, so will Start
	if _, ext, err := mediarecorder.ContainerFor(ss.stream, req.MimeType); err == nil {
		key = id + ext
	}
	ctype, _, _ := mime.ParseMediaType(req.MimeType)
	w, err := s.st.Create(s.ctx, key, storage.CreateOptions{ContentType: contentType(ctype)})
	if err != nil {
		return nil, http.StatusInternalServerError, &mediarecorder.DOMException{Name: mediarecorder.NameUnknown, Message: "creating the file: " + err.Error()}
	}
	e := catalog.Recording{
		ID: id, Name: req.Name, Session: ss.id, State: string(mediarecorder.StateInactive),
		MimeType: req.MimeType, Created: time.Now().UTC().Truncate(time.Millisecond), File: key,
		Owner: s.node.id, Keep: req.Keep,
	}
	if s.s3 != nil {
		e.ObjectKey = key
	}
	rc := &recording{s: s, rec: r, w: w, e: e, done: make(chan struct{})}
	abort := func() {
		ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
		defer cancel()
		_ = w.Abort(ctx)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		abort()
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
	if err := r.StartFile(recordingFile(w), timeslice); err != nil {
		s.mu.Lock()
		delete(s.recs, id)
		s.mu.Unlock()
		s.wg.Done()
		abort()
		ctx, cancel := context.WithTimeout(context.Background(), catalogTimeout)
		_ = s.cat.Delete(ctx, id)
		cancel()
		st, _ := domStatus(err)
		return nil, st, err
	}
	rc.mu.Lock()
	rc.e.State = string(mediarecorder.StateRecording)
	rc.segStart, rc.running = time.Now(), true
	rc.mu.Unlock()
	s.m.recordingsTotal.Add(1)
	s.log.Info("recording started", "recording", id, "session", ss.id, "key", key, "store", s.st.String())
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
		rc.e.Duration = rc.active.Seconds()
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
		rc.markStop() // an error ends the recording
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.e.Error = &catalog.Error{Name: name, Message: msg}
		rc.emit("error", errorBody{Name: name, Message: msg})
	})
	r.OnStop(func() {
		st := r.Stats()
		s.m.droppedDone.Add(st.Dropped)
		s.m.keyFrameReqsDone.Add(st.KeyFrameRequests)
		stopped := time.Now()
		rc.mu.Lock()
		stopAt := rc.stopAt
		rc.mu.Unlock()
		if stopAt.IsZero() {
			// Stopped by itself (its tracks ended): timed from here.
			stopAt = stopped
		}
		w := rc.w
		if err := w.Sync(); err != nil {
			s.log.Warn("sync failed", "recording", rc.e.ID, "err", err)
		}
		size := w.Size()
		var probed float64
		if ext := filepath.Ext(rc.e.File); ext == ".webm" || ext == ".mkv" {
			if p, err := webm.Probe(io.NewSectionReader(w, 0, size)); err == nil && p.Duration > 0 {
				probed = p.Duration.Seconds()
			}
		}
		// The upload of what the store still lacks (S3: the first part
		// and the last), outside rc.mu: the API keeps answering.
		ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
		cerr := w.Commit(ctx)
		cancel()
		committed := time.Since(stopped)
		if errors.Is(cerr, storage.ErrQueued) {
			s.log.Warn("store away: the upload is queued", "recording", rc.e.ID, "err", cerr)
		}
		rc.mu.Lock()
		if rc.running {
			rc.active += time.Since(rc.segStart)
			rc.running = false
		}
		rc.e.Duration = rc.active.Seconds()
		if probed > 0 {
			rc.e.Duration = probed
		}
		rc.e.Size = size
		if cerr != nil && !errors.Is(cerr, storage.ErrQueued) {
			s.log.Error("finishing the recording in the store failed", "recording", rc.e.ID, "err", cerr)
			if rc.e.Error == nil {
				rc.e.Error = &catalog.Error{Name: mediarecorder.NameUnknown, Message: "storing the recording: " + cerr.Error()}
			}
		}
		rc.w, rc.rec = nil, nil
		rc.e.State = string(mediarecorder.StateInactive)
		rc.e.Finished, rc.e.FinishedAt = true, time.Now().UTC()
		rc.save()
		rc.emit("stop", struct{}{})
		id := rc.e.ID
		rc.mu.Unlock()
		s.ops.finished.observe(time.Since(stopAt).Seconds())
		s.mu.Lock()
		if s.recs[id] == rc {
			delete(s.recs, id)
		}
		s.mu.Unlock()
		close(rc.done)
		s.wg.Done()
		s.kickRetention()
		s.log.Info("recording stopped", "recording", id, "size", size, "duration", rc.e.Duration, "commit", committed,
			"dropped", st.Dropped, "skipped", st.Skipped, "keyFrameRequests", st.KeyFrameRequests)
	})
}

// find returns the recording of the request's {id}: this node's live
// one (rc), or its catalog row. It answers 404 itself when there is
// none and returns ok false.
func (s *Server) find(w http.ResponseWriter, r *http.Request) (rc *recording, row catalog.Recording, ok bool) {
	id := r.PathValue("id")
	s.mu.Lock()
	rc = s.recs[id]
	s.mu.Unlock()
	if rc != nil {
		rc.mu.Lock()
		row = rc.e
		rc.mu.Unlock()
		return rc, row, true
	}
	if validID(id) {
		var err error
		row, err = s.row(r.Context(), id)
		if err == nil && validRow(row) && !row.Deleting {
			return nil, row, true
		}
		if err != nil && !errors.Is(err, catalog.ErrNotFound) {
			writeError(w, http.StatusServiceUnavailable, mediarecorder.NameUnknown, "the catalog is unavailable: "+err.Error())
			return nil, row, false
		}
	}
	writeError(w, http.StatusNotFound, "NotFoundError", "no such recording")
	return nil, row, false
}

// elsewhere reports whether row is a recording still being made by
// another node, which must answer for it.
func (s *Server) elsewhere(row catalog.Recording) bool {
	return !row.Finished && row.Owner != "" && row.Owner != s.node.id
}

// decodeBody reads a request's JSON body into v; on failure it answers
// the request itself and returns ok false.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) (body []byte, ok bool) {
	body, err := readBody(w, r)
	if err != nil {
		writeBodyError(w, err)
		return nil, false
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, http.StatusBadRequest, "SyntaxError", "bad JSON body: "+err.Error())
		return nil, false
	}
	return body, true
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	body, ok := decodeBody(w, r, &req)
	if !ok {
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
		if n := sessionNode(req.Session); s.node.cluster && n != "" && n != s.node.id {
			s.forward(w, r, n, body)
			return
		}
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
	ctx, cancel := context.WithTimeout(r.Context(), catalogTimeout)
	rows, err := s.cat.List(ctx)
	cancel()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, mediarecorder.NameUnknown, "the catalog is unavailable: "+err.Error())
		return
	}
	s.mu.Lock()
	live := make(map[string]*recording, len(s.recs))
	for id, rc := range s.recs {
		live[id] = rc
	}
	s.mu.Unlock()
	out := make([]meta, 0, len(rows))
	for _, row := range rows {
		if !validRow(row) || row.Deleting {
			continue
		}
		if rc := live[row.ID]; rc != nil {
			out = append(out, rc.view())
			continue
		}
		out = append(out, viewOf(row, s.node.cluster))
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
	rc, row, ok := s.find(w, r)
	switch {
	case !ok:
	case rc != nil:
		writeJSON(w, http.StatusOK, rc.view())
	default:
		writeJSON(w, http.StatusOK, viewOf(row, s.node.cluster))
	}
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	rc, row, ok := s.find(w, r)
	if !ok {
		return
	}
	if rc == nil && s.elsewhere(row) {
		s.forward(w, r, row.Owner, nil)
		return
	}
	if rc != nil {
		rc.stopRecorder()
		rc.wait(stopWait)
		s.mu.Lock()
		delete(s.recs, rc.e.ID)
		s.mu.Unlock()
		rc.mu.Lock()
		row = rc.e
		rc.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	// Finished: the crash-safe order of retention.go (row marked, media
	// deleted, row deleted). The row of a recording that could not be
	// finished is deleted as before: media, then row.
	ok, err := s.deleteRecording(ctx, row.ID, true, "request")
	if err != nil {
		writeError(w, http.StatusInternalServerError, mediarecorder.NameUnknown, err.Error())
		return
	}
	if !ok {
		if err := s.st.Delete(ctx, keyOf(row)); err != nil {
			s.log.Warn("removing a recording", "recording", row.ID, "err", err)
		}
		if err := s.cat.Delete(ctx, row.ID); err != nil {
			writeError(w, http.StatusInternalServerError, mediarecorder.NameUnknown, err.Error())
			return
		}
		s.log.Info("recording deleted", "recording", row.ID, "reason", "request")
	}
	w.WriteHeader(http.StatusNoContent)
}

// patchRequest is the body of PATCH /api/recordings/{id}.
type patchRequest struct {
	Keep *bool `json:"keep"`
}

// handlePatch is PATCH /api/recordings/{id}: {"keep": bool} exempts the
// recording from retention, or no longer.
func (s *Server) handlePatch(w http.ResponseWriter, r *http.Request) {
	var req patchRequest
	body, ok := decodeBody(w, r, &req)
	if !ok {
		return
	}
	if req.Keep == nil {
		writeError(w, http.StatusBadRequest, "TypeError", `"keep" (true or false) is required`)
		return
	}
	rc, row, ok := s.find(w, r)
	if !ok {
		return
	}
	if rc == nil && s.elsewhere(row) {
		s.forward(w, r, row.Owner, body)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), catalogTimeout)
	defer cancel()
	var err error
	if rc != nil {
		// Under rc.mu, so that the recording's own writes of its row
		// carry the new flag.
		rc.mu.Lock()
		rc.e.Keep = *req.Keep
		_, err = s.cat.SetKeep(ctx, rc.e.ID, *req.Keep)
		rc.mu.Unlock()
		if errors.Is(err, catalog.ErrNotFound) {
			err = nil // its row is not written yet; it will carry the flag
		}
	} else {
		row, err = s.cat.SetKeep(ctx, row.ID, *req.Keep)
	}
	switch {
	case errors.Is(err, catalog.ErrNotFound), errors.Is(err, catalog.ErrConflict):
		writeError(w, http.StatusNotFound, "NotFoundError", "no such recording (it is being deleted)")
		return
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, mediarecorder.NameUnknown, "the catalog is unavailable: "+err.Error())
		return
	}
	s.log.Info("recording keep changed", "recording", row.ID, "keep", *req.Keep)
	if rc != nil {
		writeJSON(w, http.StatusOK, rc.view())
		return
	}
	writeJSON(w, http.StatusOK, viewOf(row, s.node.cluster))
}

func (s *Server) handleAction(w http.ResponseWriter, r *http.Request) {
	action := r.PathValue("action")
	switch action {
	case "pause", "resume", "requestData", "stop":
	default:
		writeError(w, http.StatusNotFound, "NotFoundError", "no such action: "+action)
		return
	}
	rc, row, ok := s.find(w, r)
	if !ok {
		return
	}
	if rc == nil && s.elsewhere(row) {
		s.forward(w, r, row.Owner, nil)
		return
	}
	var rec *mediarecorder.Recorder
	if rc != nil {
		rc.mu.Lock()
		rec = rc.rec
		rc.mu.Unlock()
	}
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
		rc.markStop()
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
	rc, row, ok := s.find(w, r)
	if !ok {
		return
	}
	if rc == nil && s.elsewhere(row) {
		// Its bytes are in the owner's spool.
		s.forward(w, r, row.Owner, nil)
		return
	}
	name := keyOf(row)
	noMedia := func() { writeError(w, http.StatusNotFound, "NotFoundError", "no media for this recording") }
	ct := row.MimeType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s"`, name))
	h.Set("Cache-Control", "no-store")
	var spool string
	if rc != nil {
		rc.mu.Lock()
		if rc.w != nil {
			spool = rc.w.Name()
		}
		rc.mu.Unlock()
	}
	if spool == "" && s.s3 != nil {
		o, err := s.st.Open(r.Context(), name)
		if err == nil {
			defer o.Close()
			info := o.Info()
			serveReaderAt(w, r, name, o, info.Size, info.ModTime)
			return
		}
		if !errors.Is(err, storage.ErrNotFound) {
			writeError(w, http.StatusBadGateway, mediarecorder.NameUnknown, "the store: "+err.Error())
			return
		}
		// Not uploaded yet (queued while the store was away): the spool.
	}
	if spool == "" {
		spool = filepath.Join(s.cfg.Dir, name)
	}
	f, err := os.Open(spool)
	if err != nil {
		h.Del("Content-Disposition")
		noMedia()
		return
	}
	defer f.Close()
	serveFile(w, r, name, f)
}

// finishedIdle is how long the event stream of a finished recording
// waits for more of its stored events before it ends (a recording
// finished before a restart has none).
const finishedIdle = 300 * time.Millisecond

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	rc, row, ok := s.find(w, r)
	if !ok {
		return
	}
	finished := row.Finished
	if rc != nil {
		rc.mu.Lock()
		finished = rc.rec == nil && rc.e.Finished
		rc.mu.Unlock()
	}
	var after int64
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			after = n
		}
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
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-s.ctx.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	events, unsub := s.cat.Subscribe(ctx, row.ID, after)
	defer unsub()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	var idle <-chan time.Time
	if finished {
		idle = time.After(finishedIdle)
	}
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			data := ev.Data
			if len(data) == 0 {
				data = []byte("{}")
			}
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.Seq, ev.Name, data); err != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
			if ev.Name == "stop" {
				return
			}
			if finished {
				idle = time.After(finishedIdle)
			}
		case <-idle:
			return
		case <-keepalive.C:
			if _, err := io.WriteString(w, ": keepalive\n\n"); err != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
		case <-ctx.Done():
			return
		}
	}
}
