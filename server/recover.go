package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/catalog"
	"github.com/gomediarecorder/mediarecorder/mp4"
	"github.com/gomediarecorder/mediarecorder/ogg"
	"github.com/gomediarecorder/mediarecorder/storage"
	"github.com/gomediarecorder/mediarecorder/webm"
)

// recoverSpool repairs the spool files that a crash of this node left
// behind while recording into S3 (as for local files) and resumes their
// uploads; their rows are finished by recoverRow when claimed.
func (s *Server) recoverSpool(ctx context.Context) error {
	if s.s3 == nil {
		return nil
	}
	pend, err := s.s3.Pending()
	if err != nil {
		return err
	}
	for _, p := range pend {
		if p.Finished || p.Active {
			continue // RunQueue uploads it
		}
		id, _, _ := strings.Cut(p.Key, ".")
		r, err := s.row(ctx, id)
		switch {
		case errors.Is(err, catalog.ErrNotFound):
			s.log.Info("spool: discarding a recording the catalog no longer has", "key", p.Key)
			_ = s.st.Delete(ctx, p.Key)
			continue
		case err != nil:
			return err
		case r.Finished || keyOf(r) != p.Key || (r.Owner != "" && r.Owner != s.node.id):
			s.log.Warn("spool: another node finished this recording; keeping the spool file untouched", "key", p.Key, "owner", r.Owner)
			continue
		}
		res := fixResult{size: -1}
		if fix := fixerFor(filepath.Ext(p.Key)); fix != nil {
			dur, size, err := fixInPlace(p.Path, fix)
			if err != nil {
				s.log.Error("spool: repair failed", "key", p.Key, "err", err)
				res.err = err
			} else {
				res.dur, res.size = dur, size
			}
		}
		if res.size < 0 {
			if fi, err := os.Stat(p.Path); err == nil {
				res.size = fi.Size()
			}
		}
		if err := s.s3.Resume(ctx, p.Key); err != nil {
			s.log.Warn("spool: upload queued", "key", p.Key, "err", err)
		}
		s.mu.Lock()
		if s.spooled == nil {
			s.spooled = map[string]fixResult{}
		}
		s.spooled[p.Key] = res
		s.mu.Unlock()
		s.log.Info("spool: recovered", "key", p.Key, "duration", res.dur, "size", res.size)
	}
	return nil
}

// fixResult is what the repair of a recording gave.
type fixResult struct {
	dur   float64 // seconds
	size  int64
	key   string  // the store key, when it changed
	known float64 // seconds recorded at the owner's last flush (takeover)
	err   error
}

// recoverRow finishes a recording that a crash of this node, or a dead
// node, left unfinished: its file repaired (local store), its spool
// repaired and uploaded (recoverSpool), or its upload completed from the
// parts in the store and rebuilt (takeover). The row is then marked
// recovered, with the seconds lost, and a stop event published.
func (s *Server) recoverRow(ctx context.Context, r catalog.Recording) {
	key := keyOf(r)
	var res fixResult
	s.mu.Lock()
	sp, spooled := s.spooled[key]
	delete(s.spooled, key)
	s.mu.Unlock()
	switch {
	case spooled:
		res = sp
	case s.s3 != nil:
		res = s.takeover(ctx, r)
	default:
		res = s.recoverLocal(r)
	}
	known := max(r.Duration, res.known)
	r.Finished, r.Recovered, r.FinishedAt = true, true, time.Now().UTC()
	r.State = string(mediarecorder.StateInactive)
	if res.key != "" {
		r.ObjectKey, r.File = res.key, res.key
	}
	if res.size >= 0 {
		r.Size = res.size
	}
	if res.err != nil {
		r.Error = &catalog.Error{Name: mediarecorder.NameUnknown, Message: "recovery failed: " + res.err.Error()}
	} else if res.dur > 0 {
		r.Duration = res.dur
		r.Lost = max(0, math.Round((known-res.dur)*1000)/1000)
	}
	s.put(r)
	pctx, cancel := context.WithTimeout(ctx, catalogTimeout)
	if _, err := s.cat.Publish(pctx, r.ID, "stop", json.RawMessage(`{"recovered":true}`)); err != nil {
		s.log.Warn("publishing the stop of a recovered recording", "recording", r.ID, "err", err)
	}
	cancel()
	s.m.recovered.Add(1)
	s.log.Info("recovered recording", "recording", r.ID, "key", keyOf(r), "duration", r.Duration, "size", r.Size, "lost", r.Lost, "err", res.err)
}

// recoverLocal repairs a recording's file in the local store.
func (s *Server) recoverLocal(r catalog.Recording) fixResult {
	path := filepath.Join(s.cfg.Dir, keyOf(r))
	fi, err := os.Stat(path)
	if err != nil {
		return fixResult{size: -1, err: err}
	}
	res := fixResult{size: fi.Size()}
	if fix := fixerFor(filepath.Ext(path)); fix != nil {
		res.dur, res.size, res.err = fixInPlace(path, fix)
		if res.err != nil {
			res.size = fi.Size()
		}
	}
	return res
}

// takeover completes in the store the upload of a recording whose node
// died with its disk. A WebM/Matroska or MP4 upload whose writer kept an
// index of its Clusters or trafs, or an Ogg one, is finished in place (finishInPlace:
// only the interim objects downloaded, part 1 and the last part
// uploaded). Otherwise the
// upload is completed from the stored parts and
// the writer's interim head and tail (Takeover.CompleteAsIs: what it had
// at its last flush, a live stream), then, for the formats fix knows, the
// finished form (header, Duration, Cues) is written under a new key
// (ID-recovered.EXT) by streaming the object once through the repair,
// and the live-stream object deleted.
func (s *Server) takeover(ctx context.Context, r catalog.Recording) fixResult {
	key := keyOf(r)
	ups, err := s.s3.Unfinished(ctx, key)
	if err != nil {
		return fixResult{size: -1, err: err}
	}
	var up *storage.Upload
	var known float64
	for i := range ups {
		if ups[i].Key == key {
			up = &ups[i]
		}
	}
	if up != nil {
		t, err := s.s3.Takeover(ctx, *up)
		if err != nil {
			return fixResult{size: -1, err: err}
		}
		if note, err := t.Note(ctx); err == nil {
			known = noteDuration(note)
		}
		dur, size, err := finishInPlace(ctx, t, filepath.Ext(key))
		if err == nil {
			return fixResult{dur: dur.Seconds(), size: size, key: key, known: known}
		}
		// Nothing completed yet: the whole object is repaired below.
		s.log.Info("takeover: not finished in place, repairing the whole object", "key", key, "err", err)
		if _, err := t.CompleteAsIs(ctx); err != nil {
			return fixResult{size: -1, known: known, err: fmt.Errorf("completing the upload: %w", err)}
		}
	}
	info, err := s.st.Stat(ctx, key)
	if err != nil {
		return fixResult{size: -1, err: err}
	}
	res := fixResult{size: info.Size, known: known}
	fix := fixerFor(filepath.Ext(key))
	if fix == nil || up == nil {
		return res
	}
	newKey := r.ID + "-recovered" + filepath.Ext(key)
	o, err := s.st.Open(ctx, key)
	if err != nil {
		res.err = err
		return res
	}
	defer o.Close()
	w, err := s.st.Create(ctx, newKey, storage.CreateOptions{ContentType: contentType(r.MimeType)})
	if err != nil {
		res.err = err
		return res
	}
	dur, err := fix(w, bufio.NewReaderSize(o, 1<<20))
	if err != nil {
		_ = w.Abort(ctx)
		res.err = fmt.Errorf("rebuilding: %w", err)
		return res
	}
	size := w.Size()
	if err := w.Commit(ctx); err != nil && !errors.Is(err, storage.ErrQueued) {
		res.err = err
		return res
	}
	if err := s.st.Delete(ctx, key); err != nil {
		s.log.Warn("takeover: deleting the live-stream object", "key", key, "err", err)
	}
	return fixResult{dur: dur.Seconds(), size: size, key: newKey, known: known}
}

// contentType is the Content-Type of a recording of mimeType.
func contentType(mimeType string) string {
	if mimeType == "" {
		return "application/octet-stream"
	}
	return mimeType
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
	// The inactive recordings of the catalog (in a cluster: of every
	// node).
	ctx, cancel := context.WithTimeout(r.Context(), catalogTimeout)
	if rows, err := s.cat.List(ctx); err == nil {
		inCat := 0
		for _, row := range rows {
			if !validRow(row) || row.Deleting || row.State != string(mediarecorder.StateInactive) {
				continue
			}
			s.mu.Lock()
			live := s.recs[row.ID] != nil
			s.mu.Unlock()
			if !live {
				inCat++
			}
		}
		total += inCat
	}
	cancel()
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
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	metric("go_memstats_heap_inuse_bytes", "gauge", "Bytes in in-use heap spans.", fmt.Sprintf(" %d", ms.HeapInuse))
}
