package storage

import (
	"context"
	"errors"
	"io/fs"
	"mime"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// Local keeps recordings as files in a directory: today's behaviour. The
// Writer is the file itself.
type Local struct {
	dir string
}

// NewLocal returns the store of directory dir, creating it if need be.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("storage: no directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &Local{dir: dir}, nil
}

// Dir is the store's directory.
func (l *Local) Dir() string { return l.dir }

func (l *Local) String() string { return l.dir }

func (l *Local) path(key string) (string, error) {
	k, err := cleanKey(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(l.dir, filepath.FromSlash(k)), nil
}

// Create creates the file key (ErrExists if it exists).
func (l *Local) Create(_ context.Context, key string, _ CreateOptions) (Writer, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, ErrExists
	}
	if err != nil {
		return nil, err
	}
	return &localWriter{f: f}, nil
}

// Open opens the file key.
func (l *Local) Open(_ context.Context, key string) (Object, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &localObject{File: f, info: infoOf(key, fi)}, nil
}

// Stat describes the file key.
func (l *Local) Stat(_ context.Context, key string) (Info, error) {
	p, err := l.path(key)
	if err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Info{}, ErrNotFound
	}
	if err != nil {
		return Info{}, err
	}
	return infoOf(key, fi), nil
}

// List lists the regular files whose keys start with prefix (hidden
// files and directories, such as an S3 spool's, are skipped).
func (l *Local) List(_ context.Context, prefix string) ([]Info, error) {
	var out []Info
	err := filepath.WalkDir(l.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != l.dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(l.dir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // gone meanwhile
		}
		out = append(out, infoOf(key, fi))
		return nil
	})
	return out, err
}

// Delete removes the file key.
func (l *Local) Delete(_ context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func infoOf(key string, fi fs.FileInfo) Info {
	return Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime(), ContentType: mime.TypeByExtension(path.Ext(key))}
}

type localObject struct {
	*os.File
	info Info
}

func (o *localObject) Info() Info { return o.info }

// localWriter is an *os.File with Commit and Abort.
type localWriter struct {
	mu     sync.Mutex // guards closed
	f      *os.File
	closed bool
}

func (w *localWriter) Write(p []byte) (int, error)               { return w.f.Write(p) }
func (w *localWriter) Seek(off int64, whence int) (int64, error) { return w.f.Seek(off, whence) }
func (w *localWriter) WriteAt(p []byte, off int64) (int, error)  { return w.f.WriteAt(p, off) }
func (w *localWriter) ReadAt(p []byte, off int64) (int, error)   { return w.f.ReadAt(p, off) }
func (w *localWriter) Sync() error                               { return w.f.Sync() }
func (w *localWriter) Truncate(size int64) error                 { return w.f.Truncate(size) }
func (w *localWriter) Name() string                              { return w.f.Name() }
func (w *localWriter) Size() int64 {
	fi, err := w.f.Stat()
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Commit syncs and closes the file.
func (w *localWriter) Commit(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Abort closes and removes the file.
func (w *localWriter) Abort(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	w.f.Close()
	return os.Remove(w.f.Name())
}
