// Package storage keeps recordings: in a local directory (the default,
// today's behaviour) or in S3-compatible object storage, behind one
// interface, Store.
//
// # Choosing a store
//
// Open takes the -store flag's value: a directory path (or file://DIR) for
// Local, or s3://BUCKET/PREFIX for S3. For S3 the endpoint, region and
// credentials come the way S3 tools take them: AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), AWS_REGION (or
// AWS_DEFAULT_REGION), AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL), each
// overridable in S3Options or in the URL's query (?endpoint=&region=
// &path_style=). With a custom endpoint (a self-hosted store: SeaweedFS,
// MinIO, Garage) requests use path-style addressing.
//
// The S3 client is minio-go v7 (github.com/minio/minio-go/v7): maintained,
// Apache-2.0, small next to the AWS SDK, and its Core type exposes the
// multipart primitives this package needs one by one (create, upload part
// N — again if need be — list parts, complete, abort, list unfinished
// uploads) rather than hiding them behind a PutObject that owns the
// stream.
//
// # Writing a recording
//
// Store.Create returns a Writer: an io.WriteSeeker and io.WriterAt (with
// io.ReaderAt, Sync, Truncate and Size) for mediarecorder's
// Recorder.StartFile to record into, exactly as into an *os.File:
//
//	w, err := st.Create(ctx, id+".webm", storage.CreateOptions{ContentType: "video/webm"})
//	...
//	err = rec.StartFile(w, timeslice)
//	... // in OnStop, once the recorder has finished the file:
//	err = w.Commit(ctx) // errors.Is(err, storage.ErrQueued): the store was away; it is uploaded later
//
// For Local the Writer is the final file itself. For S3 every byte first
// goes to a local spool file (the same crash-safe file the local store
// writes: the recorder flushes it every second and fsyncs it every five)
// and, while the recording grows, into a multipart upload:
//
//   - The file is cut into parts of S3Options.PartSize bytes (at least 5 MiB,
//     S3's minimum; default 8 MiB). Part n covers bytes [(n-1)*PartSize,
//     n*PartSize).
//   - Part 1, where the recorder patches the header when it finishes
//     (WebM's SeekHead, Duration and Segment size, MP4's durations), is held
//     back and uploaded last, at Commit: S3 accepts parts in any order, so
//     finishing costs the upload of part 1 and of the last partial part,
//     not a rewrite of the object.
//   - Every other part is uploaded, from the spool, as soon as the file has
//     grown S3Options.Lag bytes past its end (default 1 MiB, 8 s at 1 Mb/s:
//     longer than a WebM Cluster, whose size is patched when it closes, so
//     live patches land in parts not yet uploaded).
//   - A write into a part already uploaded (a patch reaching further back
//     than Lag) marks that part dirty: it is uploaded again (S3 keeps the
//     last upload of a part number) before Commit completes. Stats counts
//     these re-uploads; the recorder's own files need none (see the tests).
//   - Uploads run on one goroutine per Writer, one part at a time, with a
//     part's bytes read from the spool into one pooled buffer: a Writer holds
//     one part in memory while it uploads, none while idle. Measured
//     (BenchmarkS3Writer, SeaweedFS, 5 MiB parts): a peak live heap of 10 MiB
//     for one writer (the part in flight and a pooled one), 5.7 MiB per
//     writer with eight at once; 51 MB/s for one writer and 84 MB/s for
//     eight on a shared 2-core machine, 7-9 ms of CPU per MiB.
//   - A real WebM recording (TestRecorderIntoS3) re-uploads no part: its
//     patches while recording reach back one Cluster, well within Lag, and
//     those at the finish land in part 1 or in the last part.
//
// The object Commit completes is byte for byte the file the local store
// would have written (WebM with SeekHead, Duration and Cues; MP4 with its
// index; Ogg with its final page).
//
// # Durability
//
//   - A process that dies (kill -9) on a node whose disk survives loses at
//     most the last second: the spool is the recorder's crash-safe file.
//     After a restart Pending lists the spool files left behind (Finished
//     false); the server repairs each (as for local files) and calls Resume,
//     which uploads what the store lacks, reusing the parts it has (ETags
//     compared with the spool's MD5s), and completes.
//   - A node lost together with its disk loses what is not yet in the store:
//     at most PartSize+Lag bytes, plus what is written while a part uploads
//     (part 1 is held back, but a copy goes up as an interim object once the
//     file is Lag past it). With the defaults (8 MiB parts, 1 MiB lag) that
//     is 9 MiB, about 75 s of a 1 Mb/s recording (5 MiB parts: 50 s). S3Options.FlushInterval shrinks it to
//     that interval: every FlushInterval the Writer also stores, as a small
//     interim segment, the bytes written since the previous flush that no
//     uploaded part holds (the appended bytes, and patches such as a
//     Cluster's size), never a byte the store already has; a segment whose
//     bytes all went up in a part is deleted. A takeover node rebuilds the
//     file as it was at the last flush from the parts and the segments
//     (see Takeover). The cost is one small PUT per interval and about the
//     recording's bytes uploaded a second time (BenchmarkS3WriterFlush).
//   - The store going away loses nothing: uploads retry with backoff (up to
//     S3Options.MaxBackoff between tries) while the recording goes on into
//     the spool, and the parts catch up when the store is back. If it is
//     still away when Commit's context ends, Commit returns ErrQueued: the
//     finished spool file stays in the spool directory with a small manifest
//     (SpoolDir/.uploads/KEY.json), which RunQueue uploads later, across
//     restarts.
//
// # Server integration
//
// What `mediarecorder serve` needs, in order:
//
//   - Startup: st, err := storage.Open(ctx, flagStore, cfg.Dir, storage.S3Options{})
//     (cfg.Dir is the local store, or the spool directory for S3). For an
//     *S3: EnsureBucket if the server may create it; then for each of
//     st.Pending() with Finished false (a crash while recording): repair the
//     spool file at Path in place as server/recover.go does for local files,
//     then st.Resume(ctx, key); and go st.RunQueue(ctx) for the server's
//     lifetime.
//   - Recording: w, err := st.Create(ctx, id+ext, storage.CreateOptions{ContentType: mime})
//     replaces os.OpenFile; rec.StartFile(w, timeslice) as before. The
//     Writer has Sync, Size, ReadAt and Name (the local path) for what
//     OnStop does with the *os.File today (size, webm.Probe through
//     io.NewSectionReader(w, 0, w.Size())), all before Commit, which
//     removes the spool once the object is stored. Then, in OnStop or on a
//     goroutine it starts: w.Commit(ctx) with a timeout (say 30 s); an error
//     wrapping ErrQueued is not a failure of the recording: RunQueue
//     finishes it. Abort instead of Commit discards it.
//   - Serving GET /api/recordings/{id}/media: o, err := st.Open(ctx, key);
//     http.ServeContent(w, r, name, o.Info().ModTime, o) answers Range
//     requests by ranged GETs (proxied); or, for an *S3, redirect to
//     st.PresignGet(ctx, key, time.Minute). While a recording is still being
//     written (or queued) its bytes are in the spool file, Name().
//   - DELETE: st.Delete(ctx, key) (the object, an unfinished upload, the
//     spool and its manifest).
//   - A node taking over a dead node's recordings: Unfinished, Takeover
//     (below).
//
// # Reading, deleting, taking over
//
// Open returns an Object (io.ReadSeekCloser and io.ReaderAt with its size
// and modification time) for http.ServeContent to answer Range requests
// from (proxied); S3.PresignGet returns a pre-signed GET URL to redirect to
// instead. Delete deletes the object and aborts its unfinished upload.
//
// A node taking over another's recordings lists them with S3.Unfinished,
// then per upload: S3.Takeover (the parts already stored), Takeover.Head and
// Takeover.Tail (the held-back first part and the bytes after the last
// part, as the interim objects have them), Takeover.Note (what the writer
// noted at its last flush), Takeover.PutPart (a rebuilt first part, a
// tail) and Takeover.Complete. Nothing but the interim objects is
// downloaded: at most the first part and the bytes after the stored parts.
package storage

import (
	"context"
	"errors"
	"io"
	"net/url"
	"path"
	"strings"
	"time"
)

// Errors.
var (
	// ErrNotFound: no object under that key.
	ErrNotFound = errors.New("storage: not found")
	// ErrQueued: Commit could not reach the store before its context
	// ended; the finished recording is kept in the spool directory and
	// uploaded by RunQueue.
	ErrQueued = errors.New("storage: store unavailable, upload queued")
	// ErrNotSupported: the store cannot do this (a local store has no
	// pre-signed URLs).
	ErrNotSupported = errors.New("storage: not supported by this store")
	// ErrBadKey: a key that is empty, absolute or climbs out with "..".
	ErrBadKey = errors.New("storage: bad key")
	// ErrClosed: the Writer was committed or aborted.
	ErrClosed = errors.New("storage: writer closed")
	// ErrExists: Create on a key that is already being written or stored.
	ErrExists = errors.New("storage: key exists")
)

// Store is where recordings live.
type Store interface {
	// Create starts writing a new object under key.
	Create(ctx context.Context, key string, opts CreateOptions) (Writer, error)
	// Open opens a stored object for reading (ErrNotFound if none).
	Open(ctx context.Context, key string) (Object, error)
	// Stat describes a stored object (ErrNotFound if none).
	Stat(ctx context.Context, key string) (Info, error)
	// List lists stored objects whose keys start with prefix.
	List(ctx context.Context, prefix string) ([]Info, error)
	// Delete deletes an object, aborting its upload if it is unfinished.
	// Deleting what does not exist is not an error.
	Delete(ctx context.Context, key string) error
	// String describes the store for logs ("/var/rec", "s3://bucket/prefix").
	String() string
}

// CreateOptions are the options of Store.Create.
type CreateOptions struct {
	// ContentType is stored with the object ("video/webm").
	ContentType string
}

// Writer is a recording being written: what Recorder.StartFile records
// into. Its methods are safe from any goroutine.
type Writer interface {
	io.Writer
	io.Seeker
	io.WriterAt
	io.ReaderAt
	// Sync makes the bytes written so far durable locally (fsync).
	Sync() error
	// Truncate cuts the file (the recorder cuts back a partial element
	// after a failed write).
	Truncate(size int64) error
	// Size is the file's current size.
	Size() int64
	// Name is the local file's path (the spool file for S3).
	Name() string
	// Commit finishes the object: after it returns nil the object is
	// stored, byte for byte what was written. The Writer is closed either
	// way; an error wrapping ErrQueued means the upload will finish later
	// (RunQueue).
	Commit(ctx context.Context) error
	// Abort discards the recording: the local file and any upload.
	Abort(ctx context.Context) error
}

// Object is a stored object opened for reading: Read/Seek for
// http.ServeContent, ReadAt for ranges.
type Object interface {
	io.ReadSeekCloser
	io.ReaderAt
	// Info describes the object.
	Info() Info
}

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	ModTime     time.Time
	ContentType string
}

// Open returns the store spec names: "" or a path or file://DIR for Local
// (dir is used when spec is ""), s3://BUCKET/PREFIX for S3 (options from
// the environment, then s3opts where set, then the URL's query).
func Open(ctx context.Context, spec, dir string, s3opts S3Options) (Store, error) {
	switch {
	case spec == "":
		return NewLocal(dir)
	case strings.HasPrefix(spec, "file://"):
		return NewLocal(strings.TrimPrefix(spec, "file://"))
	case strings.HasPrefix(spec, "s3://"):
		u, err := url.Parse(spec)
		if err != nil {
			return nil, err
		}
		opts := OptionsFromEnv()
		merge(&opts, s3opts)
		q := u.Query()
		if v := q.Get("endpoint"); v != "" {
			opts.Endpoint = v
		}
		if v := q.Get("region"); v != "" {
			opts.Region = v
		}
		if v := q.Get("path_style"); v != "" {
			opts.Addressing = "virtual"
			if v == "true" || v == "1" {
				opts.Addressing = "path"
			}
		}
		opts.Bucket = u.Host
		opts.Prefix = strings.TrimPrefix(u.Path, "/")
		if opts.SpoolDir == "" {
			opts.SpoolDir = dir
		}
		return NewS3(ctx, opts)
	case strings.Contains(spec, "://"):
		return nil, errors.New("storage: unknown store " + spec + " (want a directory or s3://BUCKET/PREFIX)")
	}
	return NewLocal(spec)
}

// cleanKey checks a key: slash-separated, relative, no "..".
func cleanKey(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") || strings.ContainsRune(key, 0) {
		return "", ErrBadKey
	}
	c := path.Clean(key)
	if c != key || c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", ErrBadKey
	}
	return c, nil
}
