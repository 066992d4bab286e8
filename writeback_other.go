//go:build !linux

package mediarecorder

// startWriteback does nothing where sync_file_range does not exist.
func startWriteback(w any, off, n int64) {}
