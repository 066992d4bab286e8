package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomediarecorder/mediarecorder/catalog"
	"github.com/gomediarecorder/mediarecorder/storage"
)

// Retention (Config.RetainFor, Config.RetainSize): a pass deletes the
// oldest finished recordings first, never a live one nor one marked
// keep, until none is older than RetainFor and all of them together take
// at most RetainSize bytes. Passes run at start-up, every retainEvery and
// after each recording finishes.
//
// A deletion is crash-safe: the row is marked Deleting in the catalog
// (catalog.BeginDelete, which exactly one node wins), then the media is
// deleted from the store, then the row. Every pass (and so every start)
// first finishes the deletions that a crash left marked, and, with a
// local store, removes the recording files that no row names (a crash
// between a file's creation and its row, or an older version's
// deletion that lost its row first). Either way the catalog and the
// files agree once a pass has run.
//
// In a cluster every node runs the passes: a row is marked by one node
// only, a pass stops at the first row another node marked first (and
// recomputes at the next pass, so that two nodes do not both free the
// same excess), and finishing a marked deletion twice is harmless (both
// the store's Delete and the catalog's are idempotent).

// retainEvery is how often a retention pass runs; a variable for the
// tests.
var retainEvery = time.Minute

// orphanGrace is how old a recording file with no catalog row must be
// before it is taken for an orphan: a new recording's file is created
// just before its row.
const orphanGrace = time.Minute

// recordingExts are the extensions of the files recordings are written
// to (mediarecorder.ContainerFor).
var recordingExts = []string{".webm", ".mkv", ".mp4", ".ogg"}

// deleteStep names the steps of a deletion, for the tests' crash points.
type deleteStep int

const (
	stepMarked    deleteStep = iota + 1 // the row is marked Deleting
	stepMediaGone                       // the media is deleted; the row remains
)

// retention is the state of the retention job.
type retention struct {
	kick    chan struct{} // capacity 1: run a pass soon
	running sync.Mutex    // one pass at a time

	deleted atomic.Uint64 // recordings deleted by retention
	freed   atomic.Uint64 // their bytes
	orphans atomic.Uint64 // orphan files removed

	// crash, when set (tests), is called after each step of a
	// deletion; false stops the deletion there, as a crash would.
	crash func(step deleteStep, id string) bool
}

// now is the clock of retention: Config.Now, else time.Now.
func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// startRetention runs a first pass (which finishes interrupted deletions
// and removes orphan files before anything else happens), then starts
// the periodic passes.
func (s *Server) startRetention() {
	s.ret.kick = make(chan struct{}, 1)
	if s.cfg.RetainFor > 0 || s.cfg.RetainSize > 0 {
		s.log.Info("retention", "retainFor", s.cfg.RetainFor.String(), "retainSize", s.cfg.RetainSize, "every", retainEvery.String())
	}
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Minute)
	if _, err := s.retainOnce(ctx); err != nil {
		s.log.Warn("retention: the start-up pass failed", "err", err)
	}
	cancel()
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		t := time.NewTicker(retainEvery)
		defer t.Stop()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-t.C:
			case <-s.ret.kick:
			}
			ctx, cancel := context.WithTimeout(s.ctx, 10*time.Minute)
			if _, err := s.retainOnce(ctx); err != nil && s.ctx.Err() == nil {
				s.log.Warn("retention pass failed", "err", err)
			}
			cancel()
		}
	}()
}

// kickRetention asks for a pass soon (a recording finished).
func (s *Server) kickRetention() {
	if s.ret.kick == nil || (s.cfg.RetainFor <= 0 && s.cfg.RetainSize <= 0) {
		return
	}
	select {
	case s.ret.kick <- struct{}{}:
	default:
	}
}

// retainResult is what one pass did.
type retainResult struct {
	finished int   // interrupted deletions finished
	orphans  int   // orphan files removed
	deleted  int   // recordings deleted for the limits
	freed    int64 // their bytes
}

// retainOnce runs one retention pass.
func (s *Server) retainOnce(ctx context.Context) (retainResult, error) {
	s.ret.running.Lock()
	defer s.ret.running.Unlock()
	var res retainResult
	// The directory is read before the catalog: a file created after the
	// list was taken is not looked at, and one created before has its
	// row in the list, or its recording in s.recs (registered before its
	// row is written), or is younger than orphanGrace.
	var files []os.DirEntry
	dir := s.localDir()
	if dir != "" {
		var err error
		if files, err = os.ReadDir(dir); err != nil {
			return res, fmt.Errorf("retention: %w", err)
		}
	}
	lctx, cancel := context.WithTimeout(ctx, catalogTimeout)
	rows, err := s.cat.List(lctx)
	cancel()
	if err != nil {
		return res, fmt.Errorf("retention: %w", err)
	}
	for _, r := range rows {
		if !r.Deleting {
			continue
		}
		if s.finishDelete(ctx, r, "interrupted") {
			res.finished++
		}
	}
	if dir != "" {
		res.orphans = s.removeOrphans(dir, files, rows)
	}
	if s.cfg.RetainFor <= 0 && s.cfg.RetainSize <= 0 {
		return res, nil
	}
	err = s.applyLimits(ctx, rows, &res)
	return res, err
}

// applyLimits deletes the oldest finished recordings that are not kept
// while one is older than RetainFor or the recordings take more than
// RetainSize bytes.
func (s *Server) applyLimits(ctx context.Context, rows []catalog.Recording, res *retainResult) error {
	now := s.now()
	s.mu.Lock()
	live := make(map[string]*recording, len(s.recs))
	for id, rc := range s.recs {
		live[id] = rc
	}
	s.mu.Unlock()
	// With S3, a recording whose upload this node still has queued
	// waits until it is stored: deleting it now would race the upload.
	queued := map[string]bool{}
	if s.s3 != nil {
		pend, err := s.s3.Pending()
		if err != nil {
			return fmt.Errorf("retention: the upload queue: %w", err)
		}
		for _, p := range pend {
			queued[p.Key] = true
		}
	}
	var total int64
	var cands []catalog.Recording
	for _, r := range rows {
		if r.Deleting {
			continue
		}
		if rc := live[r.ID]; rc != nil {
			total += rc.view().Size
			continue
		}
		total += r.Size
		if r.Finished && !r.Keep && validRow(r) && !queued[keyOf(r)] {
			cands = append(cands, r)
		}
	}
	// Oldest first; the ID breaks ties, so that every node walks the
	// rows in the same order.
	slices.SortFunc(cands, func(a, b catalog.Recording) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	for _, r := range cands {
		expired := s.cfg.RetainFor > 0 && now.Sub(r.Created) > s.cfg.RetainFor
		over := s.cfg.RetainSize > 0 && total > s.cfg.RetainSize
		if !expired && !over {
			// The rest are younger, and the total only went down.
			return nil
		}
		switch pending, err := s.uploadPending(ctx, r, now); {
		case err != nil:
			return err
		case pending == pendingTaken:
			// Another node is deleting it: decide again next pass.
			return nil
		case pending == pendingUpload:
			continue
		}
		reason := "age"
		if !expired {
			reason = "size"
		}
		ok, err := s.deleteRecording(ctx, r.ID, false, reason)
		if err != nil {
			return err
		}
		if !ok {
			// Changed since the list was read (kept, or taken by
			// another node): the next pass decides again.
			return nil
		}
		total -= r.Size
		res.deleted++
		res.freed += r.Size
	}
	return nil
}

// queuedGrace is how long after it finished an S3 recording whose
// object is not stored is taken for one whose upload is still queued on
// its node (the store was away), and spared; past it the row is deleted.
const queuedGrace = 24 * time.Hour

// pendingState is what uploadPending finds.
type pendingState int

const (
	pendingNo     pendingState = iota // stored (or not S3): deletable
	pendingUpload                     // not stored yet: spare it
	pendingTaken                      // being deleted (or gone) since the list was read
)

// uploadPending tells whether r is an S3 recording whose object is not
// in the store yet although it finished less than queuedGrace ago: its
// upload may be queued on another node, and deleting it now would race
// that upload. An object missing because another node is deleting the
// recording (its row marked or gone) is pendingTaken, a conflict like
// any other. A store that cannot tell counts as pending.
func (s *Server) uploadPending(ctx context.Context, r catalog.Recording, now time.Time) (pendingState, error) {
	if s.s3 == nil {
		return pendingNo, nil
	}
	_, err := s.st.Stat(ctx, keyOf(r))
	switch {
	case err == nil:
		return pendingNo, nil
	case !errors.Is(err, storage.ErrNotFound):
		s.log.Warn("retention: the store cannot tell whether a recording is stored; keeping it for now", "recording", r.ID, "err", err)
		return pendingUpload, nil
	}
	gctx, cancel := context.WithTimeout(ctx, catalogTimeout)
	row, err := s.cat.Get(gctx, r.ID)
	cancel()
	switch {
	case errors.Is(err, catalog.ErrNotFound) || err == nil && row.Deleting:
		return pendingTaken, nil
	case err != nil:
		return pendingNo, fmt.Errorf("retention: %w", err)
	case now.Sub(r.FinishedAt) < queuedGrace:
		return pendingUpload, nil
	}
	return pendingNo, nil
}

// deleteRecording deletes a finished recording crash-safely: the row
// marked, the media deleted, the row deleted. force deletes a kept one
// too (DELETE /api/recordings/{id}). It returns false, with no error,
// when the row is gone, unfinished, kept or marked by someone else.
func (s *Server) deleteRecording(ctx context.Context, id string, force bool, reason string) (bool, error) {
	mctx, cancel := context.WithTimeout(ctx, catalogTimeout)
	r, err := s.cat.BeginDelete(mctx, id, force)
	cancel()
	if errors.Is(err, catalog.ErrConflict) || errors.Is(err, catalog.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if s.ret.crash != nil && !s.ret.crash(stepMarked, id) {
		return true, nil
	}
	if !s.finishDelete(ctx, r, reason) {
		return false, ctx.Err()
	}
	if reason != "request" {
		s.ret.deleted.Add(1)
		s.ret.freed.Add(uint64(max(r.Size, 0)))
	}
	return true, nil
}

// finishDelete deletes the media of a row marked Deleting, then the row.
// It returns false when either failed (the row stays marked: the next
// pass tries again).
func (s *Server) finishDelete(ctx context.Context, r catalog.Recording, reason string) bool {
	if validRow(r) {
		if err := s.st.Delete(ctx, keyOf(r)); err != nil {
			s.log.Warn("retention: deleting the media failed; retrying at the next pass", "recording", r.ID, "key", keyOf(r), "err", err)
			return false
		}
	}
	if s.ret.crash != nil && !s.ret.crash(stepMediaGone, r.ID) {
		return true
	}
	dctx, cancel := context.WithTimeout(ctx, catalogTimeout)
	err := s.cat.Delete(dctx, r.ID)
	cancel()
	if err != nil {
		s.log.Warn("retention: deleting the row failed; retrying at the next pass", "recording", r.ID, "err", err)
		return false
	}
	s.log.Info("recording deleted", "recording", r.ID, "key", keyOf(r), "size", r.Size, "created", r.Created, "reason", reason, "node", s.node.id)
	return true
}

// removeOrphans removes the files of the local store that look like
// recordings (ID.EXT, ID-recovered.EXT) but that no row names, no live
// recording writes, and that are older than orphanGrace. Anything else
// in the directory is left alone.
func (s *Server) removeOrphans(dir string, files []os.DirEntry, rows []catalog.Recording) int {
	named := make(map[string]bool, len(rows))
	for _, r := range rows {
		named[r.File] = true
		named[r.ObjectKey] = true
	}
	n := 0
	for _, f := range files {
		id, ok := recordingFileID(f.Name())
		if !ok || named[f.Name()] || !f.Type().IsRegular() {
			continue
		}
		s.mu.Lock()
		rc := s.recs[id]
		s.mu.Unlock()
		if rc != nil {
			continue
		}
		info, err := f.Info()
		if err != nil || time.Since(info.ModTime()) < orphanGrace { // the file system's clock
			continue
		}
		if err := os.Remove(filepath.Join(dir, f.Name())); err != nil {
			s.log.Warn("retention: removing an orphan file failed", "file", f.Name(), "err", err)
			continue
		}
		n++
		s.ret.orphans.Add(1)
		s.log.Info("retention: removed a recording file that no catalog row names", "file", f.Name(), "size", info.Size())
	}
	return n
}

// localDir is the directory of a local store ("" for S3), where orphan
// files are looked for.
func (s *Server) localDir() string {
	if l, ok := s.st.(*storage.Local); ok {
		return l.Dir()
	}
	return ""
}

// recordingFileID returns the recording ID of a file name of ours:
// ID.EXT or ID-recovered.EXT with a valid ID and a recording's EXT.
func recordingFileID(name string) (string, bool) {
	ext := filepath.Ext(name)
	if !slices.Contains(recordingExts, ext) {
		return "", false
	}
	id := strings.TrimSuffix(strings.TrimSuffix(name, ext), "-recovered")
	return id, validID(id)
}

// writeRetentionMetrics writes the retention counters.
func (s *Server) writeRetentionMetrics(w io.Writer) {
	c := func(name, help string, v uint64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	c("mediarecorder_retention_deleted_total", "Recordings deleted by retention (-retain-for, -retain-size).", s.ret.deleted.Load())
	c("mediarecorder_retention_freed_bytes_total", "Bytes of the recordings deleted by retention.", s.ret.freed.Load())
	c("mediarecorder_retention_orphans_removed_total", "Recording files removed because no catalog row named them.", s.ret.orphans.Load())
}
