package storage_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/storage"
)

// benchBackends are the stores the benchmarks run on.
var benchBackends = []struct {
	name string
	mk   func(testing.TB) backend
}{
	{"fake", fakeS3},
	{"seaweedfs", func(tb testing.TB) backend { return seaweed(tb, false) }},
}

// BenchmarkS3Writer streams recordings of four 5 MiB parts (64 KiB
// writes, a Cluster-size patch every 512 KiB, a header patch at the end)
// through S3 writers and commits them: MB/s is the upload throughput,
// heap-MiB/writer the live Go heap above the baseline at its peak (sampled
// after a GC every 20 ms, which costs some throughput) divided by the
// writers running at once (the part buffer each holds while uploading,
// and the pool's idle ones), cpu-ms/MiB the process's CPU time per MiB
// recorded. With
// the fake the heap includes the objects the fake keeps in memory;
// SeaweedFS runs in its own process.
//
//	go test -run '^$' -bench S3Writer -benchtime 3x ./storage
func BenchmarkS3Writer(b *testing.B) {
	for _, bk := range benchBackends {
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/writers=%d", bk.name, writers), func(b *testing.B) {
				st := newStore(b, bk.mk(b), b.TempDir(), nil)
				const size = 4 * ps
				b.SetBytes(size * int64(writers))
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				base := ms.HeapAlloc
				var peak atomic.Uint64
				stop := make(chan struct{})
				sampled := make(chan struct{})
				go func() {
					defer close(sampled)
					t := time.NewTicker(20 * time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-stop:
							return
						case <-t.C:
						}
						runtime.GC() // live bytes only, not garbage awaiting collection
						var ms runtime.MemStats
						runtime.ReadMemStats(&ms)
						if ms.HeapAlloc > peak.Load() {
							peak.Store(ms.HeapAlloc)
						}
					}
				}()
				cpu0 := cpuTime()
				b.ResetTimer()
				for i := range b.N {
					var wg sync.WaitGroup
					for j := range writers {
						wg.Go(func() { streamOne(b, st, fmt.Sprintf("bench-%d-%d", i, j), size) })
					}
					wg.Wait()
				}
				b.StopTimer()
				cpu := cpuTime() - cpu0
				close(stop)
				<-sampled
				if p := peak.Load(); p > base {
					b.ReportMetric(float64(p-base)/(1<<20)/float64(writers), "heap-MiB/writer")
				}
				b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N*writers*size/(1<<20)), "cpu-ms/MiB")
			})
		}
	}
}

// streamOne writes and commits one recording of size bytes, then deletes
// it.
func streamOne(b *testing.B, st *storage.S3, key string, size int64) {
	ctx := context.Background()
	w, err := st.Create(ctx, key, storage.CreateOptions{ContentType: "video/webm"})
	if err != nil {
		b.Error(err)
		return
	}
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	var cluster int64
	for off := int64(0); off < size; off += int64(len(chunk)) {
		if _, err := w.Write(chunk); err != nil {
			b.Error(err)
			return
		}
		if off+int64(len(chunk))-cluster >= 512<<10 {
			if _, err := w.WriteAt([]byte("clusterz"), cluster+4); err != nil {
				b.Error(err)
				return
			}
			cluster = off + int64(len(chunk))
		}
	}
	if _, err := w.WriteAt([]byte("duration"), 40); err != nil {
		b.Error(err)
		return
	}
	if err := w.Commit(ctx); err != nil {
		b.Error(err)
		return
	}
	if err := st.Delete(ctx, key); err != nil {
		b.Error(err)
	}
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
