package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
)

// S3Writer is the Writer of an S3 store: a local spool file and the
// multipart upload of its completed parts (see the package doc). Its
// methods are safe from any goroutine.
type S3Writer struct {
	s   *S3
	key string
	f   *os.File
	ps  int64 // part size
	lag int64

	mu        sync.Mutex
	m         manifest
	pos, size int64
	parts     []partState // by part number - 1
	headGen   uint64      // bumped by writes into part 1
	headPut   uint64      // headGen when the interim head was stored
	headLen   int64       // bytes in the stored interim head
	// With FlushInterval: what changed since the last flush, and the
	// segments stored (see interim.go).
	dirty     []span
	truncated bool   // the file shrank since the last flush
	snap      uint64 // the next segment's number
	segs      []storedSeg
	flushed   bool   // a flush succeeded
	flushSize int64  // the file's size at the last flush
	gcDue     bool   // a part went up: segments may be garbage
	marks     []Mark // MarkUnit's index, by offset
	markSent  int    // marks[:markSent] are in stored segments
	indexPut  bool   // the interim index was stored
	marksVoid bool   // marks were dropped after being stored: no index
	note      func() []byte
	closed    bool
	committed bool
	stats     Stats

	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	ctx    context.Context // the background uploads'
	cancel context.CancelFunc
}

// storedSeg is an interim segment in the store.
type storedSeg struct {
	name  string
	spans []span
	marks int // how many marks it holds
}

// partState is what the store has of one part.
type partState struct {
	etag  string // "" until uploaded
	size  int64  // bytes uploaded
	dirty bool   // written since uploaded: upload again
}

// Stats counts a Writer's uploads.
type Stats struct {
	Parts         int   // part uploads, first uploads and re-uploads
	Reuploads     int   // uploads of a part already uploaded (a patch landed in it)
	BytesUploaded int64 // in parts
	Interim       int   // interim objects stored (head, segments)
	InterimBytes  int64 // file bytes in them
	Retries       int   // failed requests retried
	// Garbage is the interim segments whose bytes are all in uploaded
	// parts, not deleted yet (a takeover would download them for nothing).
	Garbage int
}

// Create starts the recording key: its spool file SpoolDir/KEY and its
// manifest now, the multipart upload as soon as the store answers.
func (s *S3) Create(_ context.Context, key string, opts CreateOptions) (Writer, error) {
	k, err := cleanKey(key)
	if err != nil {
		return nil, err
	}
	if k == ".uploads" || strings.HasPrefix(k, ".uploads/") || strings.HasPrefix(k, ".interim/") {
		return nil, ErrBadKey
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active[k] != nil {
		return nil, ErrExists
	}
	if _, err := os.Stat(manifestPath(s.opts.SpoolDir, k)); err == nil {
		return nil, ErrExists
	}
	p := spoolPath(s.opts.SpoolDir, k)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, ErrExists
	}
	if err != nil {
		return nil, err
	}
	m := manifest{Key: k, ContentType: opts.ContentType, PartSize: s.opts.PartSize, Created: time.Now().UTC()}
	if err := writeManifest(s.opts.SpoolDir, m); err != nil {
		f.Close()
		os.Remove(p)
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &S3Writer{s: s, key: k, f: f, ps: s.opts.PartSize, lag: s.opts.Lag, m: m,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), ctx: ctx, cancel: cancel,
		snap: uint64(time.Now().UnixNano())}
	s.active[k] = w
	go w.run()
	w.poke()
	return w, nil
}

// Key is the recording's key.
func (w *S3Writer) Key() string { return w.key }

// Name is the spool file's path.
func (w *S3Writer) Name() string { return w.f.Name() }

// Stats returns the upload counts so far.
func (w *S3Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.stats
	c := w.contiguous()
	for _, sg := range w.segs {
		if inParts(sg.spans, w.ps, c) {
			st.Garbage++
		}
	}
	return st
}

// UploadID is the multipart upload's ID ("" until the store answered).
func (w *S3Writer) UploadID() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.m.UploadID
}

// Stored is how many bytes from the start of the file are in uploaded,
// clean parts, not counting the held-back first part: what a node lost
// with its disk keeps (besides the interim objects).
func (w *S3Writer) Stored() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.contiguous()
}

// Recoverable is how much of the file, from its start, a takeover node
// would recover now from the store alone (Takeover.CompleteAsIs): with
// FlushInterval, the file as it was at the last flush up to the first
// byte written since; without, the interim head and the clean parts
// after it, as long as no later write changed the head. Size minus
// Recoverable is what losing the node with its disk would lose now.
func (w *S3Writer) Recoverable() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.flushing() {
		if !w.flushed {
			return 0
		}
		x := min(w.flushSize, w.size)
		if len(w.dirty) > 0 {
			x = min(x, w.dirty[0].off)
		}
		return x
	}
	if w.headPut != w.headGen || w.headLen == 0 {
		return 0
	}
	x := w.headLen
	if x == w.ps {
		x = w.contiguous()
	}
	return min(x, w.size)
}

// SetNote sets what each flush's segment carries as its note: note is
// called at every flush (without the writer's lock held, so it may call
// the writer), and Takeover.Note returns the last stored one. The server
// keeps the recording's duration there, so that a takeover knows how much
// was recorded at the last flush. Nil: no note.
func (w *S3Writer) SetNote(note func() []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.note = note
}

// MarkUnit notes that a unit of the container (a WebM Cluster, an MP4
// traf) starts at file offset off, at time t in the container's units,
// with a key frame of track key (0: none; for MP4, key packs the traf's
// track, duration and flags: mp4.FragmentMark.Key): the root package's
// file output calls it for each Cluster or traf. With FlushInterval, each flush's segment carries the
// marks made since the previous one, so that a takeover has every
// Cluster's place (Takeover.Marks) without downloading the parts. A mark
// at or before an earlier one (or a Truncate before it) replaces the
// marks from there on; once that drops marks already stored, the writer
// stores that its index is void (a takeover then repairs the whole file).
func (w *S3Writer) MarkUnit(off, t int64, key uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.flushing() || w.closed || off < 0 || w.marksVoid {
		return
	}
	w.dropMarksLocked(off)
	if !w.marksVoid {
		w.marks = append(w.marks, Mark{Off: off, Time: t, Key: key})
	}
}

// dropMarksLocked drops the marks at or after off. Dropping stored ones
// voids the index: the stored marks are replaced by voidMark.
func (w *S3Writer) dropMarksLocked(off int64) {
	i := len(w.marks)
	for i > 0 && w.marks[i-1].Off >= off {
		i--
	}
	if i < w.markSent && !w.marksVoid {
		w.marks, w.markSent, w.marksVoid = []Mark{voidMark}, 0, true
		return
	}
	w.marks = w.marks[:i]
	w.markSent = min(w.markSent, i)
}

// flushing reports whether the writer stores segments (FlushInterval).
func (w *S3Writer) flushing() bool { return w.s.opts.FlushInterval > 0 }

// contiguous is the end of the clean uploaded parts 2..n (ps if none).
func (w *S3Writer) contiguous() int64 {
	end := w.ps
	for n := 2; n <= len(w.parts); n++ {
		st := w.parts[n-1]
		if st.etag == "" || st.dirty || st.size != w.ps {
			break
		}
		end = int64(n) * w.ps
	}
	return end
}

func (w *S3Writer) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Write implements io.Writer on the spool file.
func (w *S3Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrClosed
	}
	n, err := w.f.WriteAt(p, w.pos)
	w.noteLocked(w.pos, int64(n))
	w.pos += int64(n)
	return n, err
}

// WriteAt implements io.WriterAt on the spool file.
func (w *S3Writer) WriteAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrClosed
	}
	n, err := w.f.WriteAt(p, off)
	w.noteLocked(off, int64(n))
	return n, err
}

// noteLocked records a write of n bytes at off: parts already uploaded
// that it touches are dirty.
func (w *S3Writer) noteLocked(off, n int64) {
	if n <= 0 {
		return
	}
	w.size = max(w.size, off+n)
	if need := int((w.size + w.ps - 1) / w.ps); need > len(w.parts) {
		w.parts = append(w.parts, make([]partState, need-len(w.parts))...)
	}
	for i := off / w.ps; i <= (off+n-1)/w.ps; i++ {
		if w.parts[i].etag != "" {
			w.parts[i].dirty = true
		}
	}
	if off < w.ps {
		w.headGen++
	}
	if w.flushing() {
		w.dirty = addSpan(w.dirty, span{off, off + n})
		if len(w.dirty) > 64 { // scattered patches: one range
			w.dirty = []span{{w.dirty[0].off, w.dirty[len(w.dirty)-1].end}}
		}
	}
	if w.size >= w.ps+w.lag { // the head or a part may be due
		w.poke()
	}
}

// Seek implements io.Seeker.
func (w *S3Writer) Seek(offset int64, whence int) (int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = w.pos + offset
	case io.SeekEnd:
		abs = w.size + offset
	default:
		return 0, errors.New("storage: bad whence")
	}
	if abs < 0 {
		return 0, errors.New("storage: negative seek")
	}
	w.pos = abs
	return abs, nil
}

// ReadAt reads the spool file; after a successful Commit (the spool
// removed), the stored object.
func (w *S3Writer) ReadAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	committed := w.committed
	w.mu.Unlock()
	if !committed {
		return w.f.ReadAt(p, off)
	}
	o, err := w.s.client.GetObject(context.Background(), w.s.opts.Bucket, w.s.objKey(w.key), minio.GetObjectOptions{})
	if err != nil {
		return 0, err
	}
	defer o.Close()
	return o.ReadAt(p, off)
}

// Sync fsyncs the spool file.
func (w *S3Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	return w.f.Sync()
}

// Truncate cuts the spool file; parts past the cut are uploaded again.
func (w *S3Writer) Truncate(size int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if err := w.f.Truncate(size); err != nil {
		return err
	}
	w.size = size
	if !w.marksVoid {
		w.dropMarksLocked(size)
	}
	for i := size / w.ps; i < int64(len(w.parts)); i++ {
		if w.parts[i].etag != "" {
			w.parts[i].dirty = true
		}
	}
	if size < w.ps {
		w.headGen++
	}
	w.truncated = true
	return nil
}

// Size is the file's size.
func (w *S3Writer) Size() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.size
}

// run uploads in the background, one request at a time, retrying with
// backoff, until stop.
func (w *S3Writer) run() {
	defer close(w.done)
	var tick <-chan time.Time
	if d := w.s.opts.FlushInterval; d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		tick = t.C
	}
	try, flush := 0, false
	for {
		w.mu.Lock()
		job := w.nextJobLocked(flush)
		w.mu.Unlock()
		if job == nil {
			flush = false
			select {
			case <-w.stop:
				return
			case <-w.kick:
			case <-tick:
				flush = true
			}
			continue
		}
		if err := job(w.ctx); err != nil {
			if w.ctx.Err() != nil {
				return
			}
			w.mu.Lock()
			w.stats.Retries++
			w.mu.Unlock()
			w.s.log.Warn("storage: upload failed, retrying", "key", w.key, "try", try+1, "err", err)
			if !backoff(try, w.s.opts.MaxBackoff, w.stop) {
				return
			}
			try++
			continue
		}
		try = 0
	}
}

// nextJobLocked picks the next upload: the multipart upload itself, a
// part that is due (full, Lag behind the end, not uploaded or dirty),
// then without FlushInterval the interim head once it is full, with it
// the garbage collection of segments and, at a flush, a segment of what
// changed.
func (w *S3Writer) nextJobLocked(flush bool) func(context.Context) error {
	if w.m.UploadID == "" {
		return w.createJob
	}
	uploaded := false
	for n := 2; int64(n)*w.ps+w.lag <= w.size && n <= maxParts; n++ {
		st := w.parts[n-1]
		if st.etag == "" || st.dirty {
			return func(ctx context.Context) error { return w.uploadPart(ctx, n) }
		}
		uploaded = true
	}
	if !w.flushing() {
		// The head goes up once it is full and Lag behind (again if a
		// later write changes it, which stops once the recording is a
		// Cluster past it).
		if (uploaded || w.size >= w.ps+w.lag) && w.headGen != w.headPut {
			return w.headJob
		}
		return nil
	}
	if w.gcDue {
		return w.gcJob
	}
	if flush && (len(w.dirty) > 0 || w.truncated) {
		return w.segJob
	}
	return nil
}

func (w *S3Writer) createJob(ctx context.Context) error {
	id, err := w.s.createUpload(ctx, w.key, w.m.ContentType)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.m.UploadID = id
	return writeManifest(w.s.opts.SpoolDir, w.m)
}

// uploadPart uploads part n from the spool.
func (w *S3Writer) uploadPart(ctx context.Context, n int) error {
	w.mu.Lock()
	off := int64(n-1) * w.ps
	ln := min(w.ps, w.size-off)
	buf := getBuf(ln)
	_, err := w.f.ReadAt(buf, off)
	if err != nil && !(err == io.EOF && ln == 0) {
		w.mu.Unlock()
		putBuf(buf)
		return err
	}
	if n <= len(w.parts) {
		w.parts[n-1].dirty = false // writes from now on dirty it again
	}
	id := w.m.UploadID
	w.mu.Unlock()

	etag, err := w.s.putPart(ctx, w.key, id, n, buf)
	putBuf(buf)

	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.parts) < n {
		w.parts = append(w.parts, partState{})
	}
	st := &w.parts[n-1]
	if err != nil {
		if st.etag != "" {
			st.dirty = true
		}
		return err
	}
	if st.etag != "" {
		w.stats.Reuploads++
	}
	w.stats.Parts++
	w.stats.BytesUploaded += ln
	st.etag, st.size = etag, ln
	w.gcDue = len(w.segs) > 0
	return nil
}

// headJob stores the held-back first part's bytes as the interim head.
func (w *S3Writer) headJob(ctx context.Context) error {
	w.mu.Lock()
	gen := w.headGen
	b := getBuf(min(w.size, w.ps))
	defer putBuf(b)
	_, err := w.f.ReadAt(b, 0)
	w.mu.Unlock()
	if err != nil && !(err == io.EOF && len(b) == 0) {
		return err
	}
	if err := w.s.putObject(ctx, w.s.interimKey(w.key, "head"), b); err != nil {
		return fmt.Errorf("storage: storing the interim head: %w", err)
	}
	w.mu.Lock()
	w.headPut, w.headLen = gen, int64(len(b))
	w.stats.Interim++
	w.mu.Unlock()
	return nil
}

// segJob stores, as a segment, the bytes written since the last flush
// that the clean uploaded parts do not hold: appended bytes and patches,
// never bytes the store already has. A segment holds bytes of one part
// only (so that it is garbage once that part is uploaded, and a backlog
// goes up a part at a time): the run loop calls segJob again for the
// rest.
func (w *S3Writer) segJob(ctx context.Context) error {
	w.mu.Lock()
	noteFn := w.note
	w.mu.Unlock()
	var note []byte
	if noteFn != nil {
		note = noteFn()
	}
	w.mu.Lock()
	size := w.size
	spans := clipSpans(w.dirty, w.ps, w.contiguous(), size)
	trunc := w.truncated
	nMarks := len(w.marks)
	marks := slices.Clone(w.marks[w.markSent:])
	if len(spans) == 0 && !trunc && len(marks) == 0 { // all in parts already
		w.dirty = nil
		w.flushSize, w.flushed = size, true
		w.mu.Unlock()
		return nil
	}
	var group, rest []span
	if len(spans) > 0 {
		lo := spans[0].off / w.ps * w.ps
		group = clipSpans(spans, 0, lo, lo+w.ps)
		rest = clipSpans(spans, 0, lo+w.ps, size) // spans[0] is the lowest: nothing below lo
	}
	end := size // the file as the store has it once this segment is up
	if len(rest) > 0 {
		end = rest[0].off
	}
	w.dirty, w.truncated = rest, false
	snap := w.snap
	w.snap++
	obj, data := encodeSegment(end, w.ps, note, group, marks)
	var err error
	for i, sp := range group {
		if _, err = w.f.ReadAt(data[i], sp.off); err != nil {
			break
		}
	}
	w.mu.Unlock()
	if err == nil {
		err = w.s.putObject(ctx, w.s.interimKey(w.key, segName(snap)), obj)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		for _, sp := range group {
			w.dirty = addSpan(w.dirty, sp)
		}
		w.truncated = w.truncated || trunc
		return fmt.Errorf("storage: storing an interim segment: %w", err)
	}
	w.segs = append(w.segs, storedSeg{segName(snap), group, len(marks)})
	if nMarks <= len(w.marks) {
		w.markSent = max(w.markSent, nMarks)
	}
	w.flushSize, w.flushed = end, true
	w.stats.Interim++
	w.stats.InterimBytes += spansLen(group)
	return nil
}

// gcJob deletes the segments whose bytes are all in clean uploaded parts
// (failures are left to Commit's clean-up).
func (w *S3Writer) gcJob(ctx context.Context) error {
	w.mu.Lock()
	w.gcDue = false
	c := w.contiguous()
	var dead []string
	deadMarks := 0
	for _, sg := range w.segs {
		if inParts(sg.spans, w.ps, c) {
			dead = append(dead, sg.name)
			deadMarks += sg.marks
		}
	}
	var idx []byte
	if deadMarks > 0 { // the index first: the marks must outlive their segments
		idx = encodeIndex(w.marks[:w.markSent])
	}
	w.mu.Unlock()
	if len(dead) == 0 {
		return nil
	}
	if idx != nil {
		if err := w.s.putObject(ctx, w.s.interimKey(w.key, "index"), idx); err != nil {
			w.mu.Lock()
			w.gcDue = true
			w.mu.Unlock()
			return fmt.Errorf("storage: storing the interim index: %w", err)
		}
		w.mu.Lock()
		w.stats.Interim++
		w.indexPut = true
		w.mu.Unlock()
	}
	if err := w.s.removeInterimNames(ctx, w.key, dead); err != nil {
		w.s.log.Debug("storage: removing interim segments", "key", w.key, "err", err)
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.segs = slices.DeleteFunc(w.segs, func(sg storedSeg) bool { return slices.Contains(dead, sg.name) })
	return nil
}

// inParts reports whether every span lies in [from, to).
func inParts(ss []span, from, to int64) bool {
	for _, s := range ss {
		if s.off < from || s.end > to {
			return false
		}
	}
	return true
}

// removeInterim removes the interim objects the writer stored (its
// segments not yet collected, its head), in one request, none if it
// stored none; errors are ignored (they are garbage now).
func (w *S3Writer) removeInterim(ctx context.Context) {
	w.mu.Lock()
	var names []string
	for _, sg := range w.segs {
		names = append(names, sg.name)
	}
	if w.headLen > 0 {
		names = append(names, "head")
	}
	if w.indexPut {
		names = append(names, "index")
	}
	w.mu.Unlock()
	_ = w.s.removeInterimNames(ctx, w.key, names)
}

// halt stops the background uploads (the one in flight finishes, or is
// cancelled when ctx ends first).
func (w *S3Writer) halt(ctx context.Context) {
	close(w.stop)
	select {
	case <-w.done:
	case <-ctx.Done():
		w.cancel()
		<-w.done
	}
	w.cancel()
}

func (w *S3Writer) unregister() {
	w.s.mu.Lock()
	if w.s.active[w.key] == w {
		delete(w.s.active, w.key)
	}
	w.s.mu.Unlock()
}

// Commit finishes the object: the spool is synced and marked finished,
// then every part the store lacks (part 1, the last part, dirty parts) is
// uploaded and the upload completed, retrying with backoff until ctx ends.
// Then the spool file is removed (unless KeepSpool) and ReadAt reads the
// object; the interim objects are removed in the background. If ctx ends first the error wraps ErrQueued: the spool stays,
// queued for RunQueue.
func (w *S3Writer) Commit(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	w.mu.Unlock()
	w.halt(ctx)
	defer w.unregister()

	if err := w.f.Sync(); err != nil {
		w.f.Close()
		return fmt.Errorf("storage: syncing the spool: %w", err)
	}
	w.mu.Lock()
	w.m.Finished = true
	err := writeManifest(w.s.opts.SpoolDir, w.m)
	w.mu.Unlock()
	if err != nil {
		w.f.Close()
		return err
	}
	for try := 0; ; try++ {
		err := w.finish(ctx)
		if err == nil {
			break
		}
		w.mu.Lock()
		w.stats.Retries++
		w.mu.Unlock()
		w.s.log.Warn("storage: finishing the upload failed", "key", w.key, "try", try+1, "err", err)
		if ctx.Err() != nil || !backoff(try, w.s.opts.MaxBackoff, ctx.Done()) {
			w.f.Close()
			return fmt.Errorf("%w: %s: %w", ErrQueued, w.key, err)
		}
	}
	w.mu.Lock()
	w.committed = true
	w.mu.Unlock()
	// The interim objects are garbage now (a takeover only looks at
	// unfinished uploads): removed after Commit returns, not before (a
	// long recording leaves hundreds of segments: a second on SeaweedFS).
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		w.removeInterim(ctx)
	}()
	os.Remove(manifestPath(w.s.opts.SpoolDir, w.key))
	w.f.Close()
	if !w.s.opts.KeepSpool {
		os.Remove(w.f.Name())
	}
	return nil
}

// finish uploads what the store lacks and completes the upload.
func (w *S3Writer) finish(ctx context.Context) error {
	w.mu.Lock()
	empty, id, ct := w.size == 0, w.m.UploadID, w.m.ContentType
	w.mu.Unlock()
	if empty {
		return w.s.putEmpty(ctx, w.key, id, ct)
	}
	if w.UploadID() == "" {
		if err := w.createJob(ctx); err != nil {
			return err
		}
	}
	w.mu.Lock()
	n := numParts(w.size, w.ps)
	w.mu.Unlock()
	if n > maxParts {
		return fmt.Errorf("storage: %s needs %d parts, more than S3's %d", w.key, n, maxParts)
	}
	etags := make([]string, n)
	// Part 1 last: it is the one the finished header went into.
	for _, i := range append(seq(2, n), 1) {
		w.mu.Lock()
		ln := min(w.ps, w.size-int64(i-1)*w.ps)
		var st partState
		if i <= len(w.parts) {
			st = w.parts[i-1]
		}
		w.mu.Unlock()
		if st.etag == "" || st.dirty || st.size != ln {
			if err := w.uploadPart(ctx, i); err != nil {
				return err
			}
			w.mu.Lock()
			st = w.parts[i-1]
			w.mu.Unlock()
		}
		etags[i-1] = st.etag
	}
	w.mu.Lock()
	id = w.m.UploadID
	w.mu.Unlock()
	return w.s.complete(ctx, w.key, id, ct, etags)
}

// seq is from..to.
func seq(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// Abort discards the recording: the upload is aborted (if the store
// answers), the interim objects, spool file and manifest removed.
func (w *S3Writer) Abort(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	w.mu.Unlock()
	w.halt(ctx)
	defer w.unregister()
	w.f.Close()
	var err error
	if id := w.UploadID(); id != "" {
		if aerr := w.s.core.AbortMultipartUpload(ctx, w.s.opts.Bucket, w.s.objKey(w.key), id); aerr != nil && !isNotFound(aerr) {
			err = fmt.Errorf("storage: aborting the upload: %w", aerr)
		}
	}
	w.removeInterim(ctx)
	w.s.removeLocal(w.key)
	return err
}
