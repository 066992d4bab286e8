//go:build !unix

package filesource

import "os"

func mapFile(*os.File, int64) []byte { return nil }

func unmapFile([]byte) {}

func releaseMapped([]byte) {}
