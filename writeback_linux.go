package mediarecorder

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing [off, off+n) of w to disk
// without waiting (sync_file_range SYNC_FILE_RANGE_WRITE), so that the
// periodic and final fsyncs find little left to do.
func startWriteback(w any, off, n int64) {
	if f, ok := w.(*os.File); ok && n > 0 {
		_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
	}
}
