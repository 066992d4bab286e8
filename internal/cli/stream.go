package cli

import (
	"context"
	"io"
	"sync/atomic"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
)

// streamSlice is the timeslice of a recording written to a stream when
// -timeslice is not given: a blob (WebM Cluster, Ogg pages, MP4 fragment)
// reaches the reader every second of media.
const streamSlice = time.Second

// streamBacklog is how much media may wait in blobs for a slow stream
// reader (beyond one timeslice) before the inputs are held back.
const streamBacklog = 5 * time.Second

// streamWriter writes a live recording's blobs to a stream OUT, in order,
// on the recorder's event goroutine, and lets the producer wait for a slow
// reader, so that blobs do not pile up in memory.
type streamWriter struct {
	out     *outFile
	slice   time.Duration
	busy    atomic.Bool  // a blob is being written
	written atomic.Int64 // media time (ns) up to which blobs are written
}

// write writes one blob to the stream.
func (s *streamWriter) write(e mr.BlobEvent) error {
	s.busy.Store(true)
	defer s.busy.Store(false)
	_, err := io.Copy(s.out, e.Data.NewReader())
	s.written.Store(int64(time.Duration(e.Timecode*float64(time.Millisecond)) + s.slice))
	return err
}

// wait holds the producer, which has fed media up to fed, while the
// reader lags more than streamBacklog behind and a write is under way
// (a write not under way means the reader keeps up, or nothing is being
// recorded: waiting then could only deadlock).
func (s *streamWriter) wait(ctx context.Context, fed time.Duration) {
	for s.busy.Load() && fed-time.Duration(s.written.Load()) > streamBacklog && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
}
