package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gomediarecorder/mediarecorder/mp4"
	"github.com/gomediarecorder/mediarecorder/ogg"
	"github.com/gomediarecorder/mediarecorder/storage"
	"github.com/gomediarecorder/mediarecorder/webm"
)

// errNotInPlace: the upload cannot be finished in place (see
// finishInPlace); the takeover repairs the whole object instead.
var errNotInPlace = errors.New("server: the upload cannot be finished in place")

// finishInPlace completes an upload whose writer is gone as a finished
// file, downloading only the interim objects (the held-back first part,
// the bytes after the stored parts and, for WebM and MP4, the index of
// the Clusters or trafs the writer kept), never the stored parts between:
//
//   - WebM/Matroska (.webm, .mkv): part 1 goes up again with the finished
//     header (Segment size, SeekHead, Duration: webm.FinishLive), the last
//     part is the tail cut after its last whole block with Cues appended;
//   - fragmented MP4 (.mp4): part 1 goes up again with the durations of
//     its moov filled in (mp4.FinishLive), the last part is the tail cut
//     after its last whole fragment with the mfra index appended;
//   - Ogg (.ogg): part 1 as it was, the last part the tail cut after its
//     last whole page, that page marked end-of-stream (ogg.FinishLive).
//
// It returns the Duration and the object's size, or an error wrapping
// errNotInPlace when that cannot be done (another format; no index: an
// older writer or no flush; no stored part between the head and the
// tail; bytes or an index that do not fit), in which case nothing was
// completed and t can still CompleteAsIs.
func finishInPlace(ctx context.Context, t *storage.Takeover, ext string) (time.Duration, int64, error) {
	if ext != ".webm" && ext != ".mkv" && ext != ".mp4" && ext != ".ogg" {
		return 0, 0, fmt.Errorf("%w: a %s file", errNotInPlace, ext)
	}
	var marks []storage.Mark
	if ext != ".ogg" {
		var err error
		marks, err = t.Marks(ctx)
		if errors.Is(err, storage.ErrNoIndex) {
			return 0, 0, fmt.Errorf("%w: %w", errNotInPlace, err)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	if t.PartSize == 0 || t.Stored() <= t.PartSize {
		// The whole file is in the interim objects: no part to keep.
		return 0, 0, fmt.Errorf("%w: no stored part between the head and the tail", errNotInPlace)
	}
	head, err := t.Head(ctx)
	if err != nil {
		return 0, 0, err
	}
	off, tail, err := t.Tail(ctx)
	if err != nil {
		return 0, 0, err
	}
	if int64(len(head)) != t.PartSize || len(tail) == 0 {
		return 0, 0, fmt.Errorf("%w: a head of %d bytes (part size %d), a tail of %d", errNotInPlace, len(head), t.PartSize, len(tail))
	}
	var dur time.Duration
	switch ext {
	case ".ogg":
		tail, dur, err = ogg.FinishLive(head, tail)
	case ".mp4":
		fms := make([]mp4.FragmentMark, len(marks))
		for i, m := range marks {
			fms[i] = mp4.FragmentMarkOf(m.Off, m.Time, m.Key)
		}
		head, tail, dur, err = mp4.FinishLive(head, off, tail, fms)
	default:
		cms := make([]webm.ClusterMark, len(marks))
		for i, m := range marks {
			cms[i] = webm.ClusterMark{Offset: m.Off, Timestamp: m.Time, CueTrack: m.Key}
		}
		head, tail, dur, err = webm.FinishLive(head, off, tail, cms)
	}
	if err == nil && len(tail) == 0 {
		err = errors.New("nothing left of the tail")
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %w", errNotInPlace, err)
	}
	if err := t.PutPart(ctx, 1, head); err != nil {
		return 0, 0, err
	}
	if err := t.PutTail(ctx, off, tail); err != nil {
		return 0, 0, err
	}
	size, err := t.Complete(ctx)
	return dur, size, err
}
