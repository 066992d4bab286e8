package storage_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/storage"
)

// countingTransport counts the requests, the request body bytes sent to
// the store and the response body bytes read from it.
type countingTransport struct {
	reqs, bytes, down atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.reqs.Add(1)
	if r.ContentLength > 0 {
		c.bytes.Add(r.ContentLength)
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		resp.Body = &countingBody{resp.Body, &c.down}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// BenchmarkS3WriterFlush records one paced recording (three 5 MiB parts,
// 48 KiB per "second" — 0.39 Mb/s, the cluster benchmark's bitrate — in
// 4 KiB writes, a Cluster every 2 "seconds" whose size is patched when the
// next starts) without and with the interim flushes a cluster node does
// every second. With flush, each "second" waits until the flush has made
// the store hold all of it (Recoverable), so every second costs one flush
// whatever the machine's speed; without, it waits 2 ms. Metrics:
// cpu-ms/s-rec is this process's CPU per recorded "second" (with the fake,
// the fake's work included; SeaweedFS runs in its own process),
// upload-x the bytes sent to the store per byte recorded, req/s-rec the
// requests per "second".
//
//	go test -run '^$' -bench S3WriterFlush -benchtime 1x ./storage
func BenchmarkS3WriterFlush(b *testing.B) {
	for _, bk := range benchBackends {
		for _, flush := range []time.Duration{0, 5 * time.Millisecond} {
			name := "noflush"
			if flush > 0 {
				name = "flush"
			}
			b.Run(bk.name+"/"+name, func(b *testing.B) {
				ct := &countingTransport{}
				st := newStore(b, bk.mk(b), b.TempDir(), func(o *storage.S3Options) { o.Transport, o.FlushInterval = ct, flush })
				const size, perSec = 3 * ps, 48 << 10
				secs := 0
				cpu0 := cpuTime()
				b.ResetTimer()
				for i := range b.N {
					secs += pacedOne(b, st, fmt.Sprintf("flush-%d", i), size, perSec, flush > 0)
				}
				b.StopTimer()
				cpu := cpuTime() - cpu0
				b.ReportMetric(float64(cpu.Microseconds())/1000/float64(secs), "cpu-ms/s-rec")
				b.ReportMetric(float64(ct.bytes.Load())/float64(b.N*size), "upload-x")
				b.ReportMetric(float64(ct.reqs.Load())/float64(secs), "req/s-rec")
			})
		}
	}
}

// pacedOne records size bytes at perSec bytes per "second" and commits
// them; it returns the "seconds" recorded.
func pacedOne(b *testing.B, st *storage.S3, key string, size, perSec int64, flush bool) int {
	ctx := context.Background()
	w, err := st.Create(ctx, key, storage.CreateOptions{ContentType: "video/webm"})
	if err != nil {
		b.Fatal(err)
	}
	sw := w.(*storage.S3Writer)
	chunk := make([]byte, 4<<10)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	var off, cluster int64
	secs := 0
	for off < size {
		for end := off + perSec; off < end; off += int64(len(chunk)) {
			if _, err := w.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		secs++
		if secs%2 == 0 { // the Cluster's size, as webm.Writer patches it
			if _, err := w.WriteAt([]byte("clusterz"), cluster+4); err != nil {
				b.Fatal(err)
			}
			cluster = off
		}
		if !flush {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		deadline := time.Now().Add(time.Minute) // a hang guard
		for sw.Recoverable() < sw.Size() {
			if time.Now().After(deadline) {
				b.Fatalf("second %d: the store holds %d of %d bytes after a minute", secs, sw.Recoverable(), sw.Size())
			}
			time.Sleep(time.Millisecond)
		}
	}
	if _, err := w.WriteAt([]byte("duration"), 40); err != nil {
		b.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	if err := st.Delete(ctx, key); err != nil {
		b.Fatal(err)
	}
	return secs
}
