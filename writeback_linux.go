package mediarecorder

import (
	"os"
	"syscall"
)

// startWriteback asks the kernel to start writing [off, off+n) of w to disk
// without waiting (sync_file_range SYNC_FILE_RANGE_WRITE), so that the
// periodic and final fsyncs find little left to do.
func startWriteback(w any, off, n int64) {
	if f, ok := w.(*os.File); ok && n > 0 {
		const syncFileRangeWrite = 2 // SYNC_FILE_RANGE_WRITE
		_ = syscall.SyncFileRange(int(f.Fd()), off, n, syncFileRangeWrite)
	}
}
