//go:build unix

package filesource

import (
	"os"
	"syscall"
)

// mapFile maps the size bytes of f read-only, for reading without copies;
// nil when it cannot (not a regular file, too small or too large to be
// worth it, or mmap failing): the caller reads the file instead.
func mapFile(f *os.File, size int64) []byte {
	if size < minMapSize || size > maxMapSize {
		return nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	_ = syscall.Madvise(b, syscall.MADV_SEQUENTIAL)
	return b
}

func unmapFile(b []byte) { _ = syscall.Munmap(b) }

// releaseMapped drops b's pages from the process (MADV_DONTNEED): they
// stay in the page cache, and come back if read again, but no longer
// count in the resident set of a long read.
func releaseMapped(b []byte) { _ = syscall.Madvise(b, syscall.MADV_DONTNEED) }
