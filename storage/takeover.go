package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Takeover completes, from another node, an upload whose writer is gone
// (its node lost with its disk): the parts already stored stay where they
// are; only the interim objects (the held-back first part and the bytes
// after the stored parts, as of the writer's last flush) are downloaded.
// Typical use:
//
//	ups, _ := st.Unfinished(ctx, "")
//	for _, u := range ups {
//		t, _ := st.Takeover(ctx, u)
//		head, _ := t.Head(ctx)      // the held-back first part's bytes
//		// ... rebuild the header in head (or keep the live-stream header)
//		_ = t.PutPart(ctx, 1, head)
//		off, tail, _ := t.Tail(ctx) // bytes not yet in a part (FlushInterval)
//		_ = t.PutTail(ctx, off, tail)
//		size, _ := t.Complete(ctx)
//	}
//
// CompleteAsIs does those steps with the head as it was stored.
type Takeover struct {
	s *S3
	Upload
	// PartSize is the upload's part size (part 2's size; 0 when only
	// part 1 could be stored).
	PartSize int64

	mu    sync.Mutex
	parts map[int]Part
	im    *image // the interim objects, once read
}

// ErrIncomplete: Complete found a gap in the parts (part 1 missing, or a
// part in the middle).
var ErrIncomplete = errors.New("storage: upload has missing parts")

// Takeover lists the stored parts of an unfinished upload.
func (s *S3) Takeover(ctx context.Context, u Upload) (*Takeover, error) {
	parts, err := s.listParts(ctx, u.Key, u.UploadID)
	if err != nil {
		if isNotFound(err) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	t := &Takeover{s: s, Upload: u, parts: parts}
	if p, ok := parts[2]; ok {
		t.PartSize = p.Size
	}
	return t, nil
}

// Parts lists the stored parts, by number.
func (t *Takeover) Parts() []Part {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Part
	for _, p := range t.parts {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Part) int { return a.Number - b.Number })
	return out
}

// Stored is the end of the contiguous parts 2..n: the bytes from
// PartSize to Stored are in the store.
func (t *Takeover) Stored() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	end := t.PartSize
	for n := 2; ; n++ {
		p, ok := t.parts[n]
		if !ok {
			return end
		}
		end += p.Size
	}
}

// image downloads the interim objects once.
func (t *Takeover) image(ctx context.Context) (*image, error) {
	t.mu.Lock()
	im := t.im
	t.mu.Unlock()
	if im != nil {
		return im, nil
	}
	im, err := t.s.loadImage(ctx, t.Key)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.im = im
	return im, nil
}

// Note returns the note the writer stored with its last flush
// (S3Writer.SetNote; nil if none).
func (t *Takeover) Note(ctx context.Context) ([]byte, error) {
	im, err := t.image(ctx)
	if err != nil {
		return nil, err
	}
	return im.note, nil
}

// ErrNoIndex: the interim objects hold no index of the units (a writer
// without FlushInterval, of an earlier version, or given no marks).
var ErrNoIndex = errors.New("storage: no index of the units in the interim objects")

// Marks returns the writer's index of the container's units
// (S3Writer.MarkUnit) as of its last flush, by offset, up to the end of
// the bytes stored then (Size), or ErrNoIndex. Marks come from the
// writer, not the store's bytes: check those the caller has the bytes of.
func (t *Takeover) Marks(ctx context.Context) ([]Mark, error) {
	im, err := t.image(ctx)
	if err != nil {
		return nil, err
	}
	if !im.indexed {
		return nil, ErrNoIndex
	}
	end := im.end()
	var out []Mark
	for _, m := range im.marks {
		if m.Off < end {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoIndex
	}
	return out, nil
}

// Head returns the held-back first part's bytes as the writer had them
// at its last flush (nil if the writer stored none). With no other part
// stored, that is the whole file the interim objects hold.
func (t *Takeover) Head(ctx context.Context) ([]byte, error) {
	im, err := t.image(ctx)
	if err != nil {
		return nil, err
	}
	end := im.end()
	if len(im.spans) == 0 || end == 0 {
		return nil, nil
	}
	t.mu.Lock()
	_, part2 := t.parts[2]
	ps := t.PartSize
	t.mu.Unlock()
	if part2 && ps > 0 {
		end = min(end, ps)
	}
	return im.read(0, end)
}

// Tail returns the bytes the writer had after its stored parts at its
// last flush, and the file offset they start at (nil if none).
func (t *Takeover) Tail(ctx context.Context) (int64, []byte, error) {
	im, err := t.image(ctx)
	if err != nil {
		return 0, nil, err
	}
	from := t.Stored()
	if from == 0 || im.end() <= from {
		return 0, nil, nil
	}
	b, err := im.read(from, im.end())
	return from, b, err
}

// PutPart uploads (or replaces) part n.
func (t *Takeover) PutPart(ctx context.Context, n int, b []byte) error {
	if n < 1 || n > maxParts {
		return fmt.Errorf("storage: part number %d", n)
	}
	etag, err := t.s.putPart(ctx, t.Key, t.UploadID, n, b)
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.parts[n] = Part{Number: n, Size: int64(len(b)), ETag: etag}
	if n == 2 && t.PartSize == 0 {
		t.PartSize = int64(len(b))
	}
	t.mu.Unlock()
	return nil
}

// PutTail uploads the bytes of b, which start at file offset off, that
// follow the stored parts, as the last part. Bytes the parts already
// hold are skipped; a gap between them and off is an error.
func (t *Takeover) PutTail(ctx context.Context, off int64, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	end := t.Stored()
	t.mu.Lock()
	n := 2
	for ; t.parts[n].Number != 0; n++ {
	}
	ps := t.PartSize
	t.mu.Unlock()
	if ps == 0 { // only part 1 so far: the tail follows the head
		return errors.New("storage: no part size known: put part 1 and 2 with PutPart")
	}
	if off > end {
		return fmt.Errorf("storage: tail at %d leaves a gap after the stored parts (%d)", off, end)
	}
	if off+int64(len(b)) <= end {
		return nil
	}
	return t.PutPart(ctx, n, b[end-off:])
}

// Complete completes the upload from parts 1..n (no gaps), removes the
// interim objects and returns the object's size.
func (t *Takeover) Complete(ctx context.Context) (int64, error) {
	t.mu.Lock()
	var etags []string
	var size int64
	for n := 1; n <= len(t.parts); n++ {
		p, ok := t.parts[n]
		if !ok {
			t.mu.Unlock()
			return 0, fmt.Errorf("%w: part %d of %d", ErrIncomplete, n, len(t.parts))
		}
		etags = append(etags, p.ETag)
		size += p.Size
	}
	t.mu.Unlock()
	if len(etags) == 0 {
		return 0, fmt.Errorf("%w: none", ErrIncomplete)
	}
	if err := t.s.complete(ctx, t.Key, t.UploadID, "", etags); err != nil {
		return 0, err
	}
	t.s.removeInterim(ctx, t.Key)
	return size, nil
}

// CompleteAsIs completes the upload with the interim head as part 1 and
// the interim tail after the stored parts: the object is what the writer
// had at its last flush, a live stream (like a local file after a crash)
// whose header the caller may rebuild later.
func (t *Takeover) CompleteAsIs(ctx context.Context) (int64, error) {
	head, err := t.Head(ctx)
	if err != nil {
		return 0, err
	}
	if head == nil {
		return 0, fmt.Errorf("%w: no interim head", ErrIncomplete)
	}
	if int64(len(head)) > t.PartSize && t.PartSize > 0 {
		head = head[:t.PartSize]
	}
	if err := t.PutPart(ctx, 1, head); err != nil {
		return 0, err
	}
	if t.PartSize == 0 {
		t.PartSize = int64(len(head)) // a full head: the tail follows it
	}
	off, tail, err := t.Tail(ctx)
	if err != nil {
		return 0, err
	}
	if tail != nil && t.PartSize > 0 {
		if err := t.PutTail(ctx, off, tail); err != nil {
			return 0, err
		}
	}
	return t.Complete(ctx)
}
