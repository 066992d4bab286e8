package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The on-disk queue: one manifest per spool file, in SpoolDir/.uploads/.
// A manifest is written when a Writer is created (Finished false), marked
// Finished when Commit begins, and removed once the object is stored. So a
// restart finds, for each spool file, whether it was still being recorded
// (a crash: repair it, then Resume) or finished and waiting for the store
// (RunQueue uploads it).

type manifest struct {
	Key         string    `json:"key"`
	UploadID    string    `json:"uploadId,omitempty"`
	ContentType string    `json:"contentType,omitempty"`
	PartSize    int64     `json:"partSize"`
	Finished    bool      `json:"finished"`
	Created     time.Time `json:"created"`
}

func spoolPath(dir, key string) string { return filepath.Join(dir, filepath.FromSlash(key)) }

func manifestDir(dir string) string { return filepath.Join(dir, ".uploads") }

func manifestPath(dir, key string) string {
	return filepath.Join(manifestDir(dir), filepath.FromSlash(key)+".json")
}

// writeManifest replaces m's manifest atomically and durably.
func writeManifest(dir string, m manifest) error {
	p := manifestPath(dir, m.Key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("storage: writing the upload manifest: %w", err)
	}
	return nil
}

func readManifest(dir, key string) (manifest, error) {
	var m manifest
	b, err := os.ReadFile(manifestPath(dir, key))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("storage: manifest of %s: %w", key, err)
	}
	if m.Key != key || m.PartSize < MinPartSize {
		return m, fmt.Errorf("storage: manifest of %s: bad contents", key)
	}
	return m, nil
}

// Pending is a spool file whose object is not stored yet.
type Pending struct {
	Key  string
	Path string // the spool file
	// Finished: the recording was finished (Commit ran), only the upload
	// is left. Otherwise the process died while recording: repair the
	// file, then Resume.
	Finished bool
	// Active: a Writer of this process is writing it now.
	Active bool
}

// Pending lists the spool files whose objects are not stored yet.
func (s *S3) Pending() ([]Pending, error) {
	root := manifestDir(s.opts.SpoolDir)
	var out []Pending
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		rel, err := filepath.Rel(root, strings.TrimSuffix(p, ".json"))
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		m, err := readManifest(s.opts.SpoolDir, key)
		if err != nil {
			s.log.Warn("storage: skipping a bad manifest", "path", p, "err", err)
			return nil
		}
		s.mu.Lock()
		active := s.active[key] != nil
		s.mu.Unlock()
		out = append(out, Pending{Key: key, Path: spoolPath(s.opts.SpoolDir, key), Finished: m.Finished, Active: active})
		return nil
	})
	return out, err
}

// Resume marks a pending spool file finished (after a crash, once the
// caller has repaired it) and uploads it now. If the store is away it
// returns an error wrapping ErrQueued and RunQueue uploads it later.
func (s *S3) Resume(ctx context.Context, key string) error {
	k, err := cleanKey(key)
	if err != nil {
		return err
	}
	s.mu.Lock()
	active := s.active[k] != nil
	s.mu.Unlock()
	if active {
		return fmt.Errorf("storage: %s is being written", k)
	}
	m, err := readManifest(s.opts.SpoolDir, k)
	if err != nil {
		return err
	}
	if !m.Finished {
		m.Finished = true
		if err := writeManifest(s.opts.SpoolDir, m); err != nil {
			return err
		}
	}
	if err := s.uploadSpool(ctx, m); err != nil {
		return fmt.Errorf("%w: %w", ErrQueued, err)
	}
	return nil
}

// RunQueue uploads the finished spool files waiting for the store, every
// QueueInterval, until ctx ends (the server runs it for its lifetime).
// Files that are still being recorded, or were left unfinished by a crash
// (see Resume), are not its business.
func (s *S3) RunQueue(ctx context.Context) error {
	t := time.NewTicker(s.opts.QueueInterval)
	defer t.Stop()
	for {
		s.DrainQueue(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// DrainQueue makes one pass over the queue, returning how many uploads
// are left in it.
func (s *S3) DrainQueue(ctx context.Context) int {
	ps, err := s.Pending()
	if err != nil {
		s.log.Warn("storage: reading the upload queue", "err", err)
		return -1
	}
	left := 0
	for _, p := range ps {
		if !p.Finished || p.Active {
			continue
		}
		m, err := readManifest(s.opts.SpoolDir, p.Key)
		if err == nil {
			err = s.uploadSpool(ctx, m)
		}
		if err != nil {
			left++
			s.log.Warn("storage: queued upload failed, will retry", "key", p.Key, "err", err)
			continue
		}
		s.log.Info("storage: queued upload stored", "key", p.Key)
	}
	return left
}

// uploadSpool stores a finished spool file through its multipart upload,
// reusing the parts the store has with the same bytes (MD5 = ETag), and
// cleans up.
func (s *S3) uploadSpool(ctx context.Context, m manifest) error {
	f, err := os.Open(spoolPath(s.opts.SpoolDir, m.Key))
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	if size == 0 {
		if err := s.putEmpty(ctx, m.Key, m.UploadID, m.ContentType); err != nil {
			return err
		}
		s.cleanup(ctx, m.Key)
		return nil
	}
	var have map[int]Part
	if m.UploadID != "" {
		have, err = s.listParts(ctx, m.Key, m.UploadID)
		if isNotFound(err) {
			m.UploadID, have = "", nil // aborted or expired: start again
		} else if err != nil {
			return err
		}
	}
	if m.UploadID == "" {
		if m.UploadID, err = s.createUpload(ctx, m.Key, m.ContentType); err != nil {
			return err
		}
		if err := writeManifest(s.opts.SpoolDir, m); err != nil {
			return err
		}
	}
	n := numParts(size, m.PartSize)
	if n > maxParts {
		return fmt.Errorf("storage: %s needs %d parts, more than S3's %d", m.Key, n, maxParts)
	}
	etags := make([]string, n)
	for i := range n {
		off := int64(i) * m.PartSize
		ln := min(m.PartSize, size-off)
		buf := getBuf(ln)
		_, err := f.ReadAt(buf, off)
		if err == io.EOF && ln == 0 {
			err = nil
		}
		if err != nil {
			putBuf(buf)
			return err
		}
		sum := md5Hex(buf)
		if p, ok := have[i+1]; ok && p.Size == ln && p.ETag == sum {
			etags[i] = p.ETag
		} else {
			etags[i], err = s.putPart(ctx, m.Key, m.UploadID, i+1, buf)
		}
		putBuf(buf)
		if err != nil {
			return err
		}
	}
	if err := s.complete(ctx, m.Key, m.UploadID, m.ContentType, etags); err != nil {
		return err
	}
	s.cleanup(ctx, m.Key)
	return nil
}

// cleanup removes what a stored object leaves behind: its interim objects,
// manifest and (unless KeepSpool) spool file.
func (s *S3) cleanup(ctx context.Context, key string) {
	s.removeInterim(ctx, key)
	os.Remove(manifestPath(s.opts.SpoolDir, key))
	if !s.opts.KeepSpool {
		os.Remove(spoolPath(s.opts.SpoolDir, key))
	}
}

// numParts is how many parts a file of size bytes takes (at least one:
// an empty object is one empty part).
func numParts(size, partSize int64) int {
	return max(1, int((size+partSize-1)/partSize))
}
