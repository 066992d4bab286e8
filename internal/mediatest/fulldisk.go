package mediatest

import (
	"errors"
	"io"
	"os"
)

// ErrDiskFull is what a FullDisk's writes fail with, worded like ENOSPC.
var ErrDiskFull = errors.New("write: no space left on device")

// FullDisk is a file on a disk that fills up after Limit bytes: a write
// that crosses the limit writes what fits and fails with ErrDiskFull.
type FullDisk struct {
	*os.File
	Limit int64
}

// Write implements io.Writer at the file's offset.
func (f *FullDisk) Write(p []byte) (int, error) {
	off, err := f.File.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	n, err := f.WriteAt(p, off)
	if _, serr := f.File.Seek(off+int64(n), io.SeekStart); err == nil {
		err = serr
	}
	return n, err
}

// WriteAt implements io.WriterAt.
func (f *FullDisk) WriteAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.Limit {
		n, _ := f.File.WriteAt(p[:max(0, f.Limit-off)], off)
		return n, ErrDiskFull
	}
	return f.File.WriteAt(p, off)
}
