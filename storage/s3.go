package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 limits and defaults.
const (
	// MinPartSize is S3's smallest part (but the last).
	MinPartSize = 5 << 20
	// DefaultPartSize is the part size when S3Options.PartSize is 0.
	DefaultPartSize = 8 << 20
	// DefaultLag is S3Options.Lag's default.
	DefaultLag = 1 << 20
	// maxParts is S3's most parts in one upload.
	maxParts = 10000
)

// S3Options configure an S3 store. OptionsFromEnv fills the connection
// fields from the environment.
type S3Options struct {
	// Endpoint is the store's URL ("http://127.0.0.1:8333"); a bare
	// host[:port] means https. Empty: AWS (s3.amazonaws.com).
	Endpoint string
	// Region ("us-east-1" if empty).
	Region string
	// Credentials; all empty means anonymous requests.
	AccessKeyID, SecretAccessKey, SessionToken string
	// Addressing is "path" or "virtual" (bucket in the host name); empty
	// means path-style with a custom Endpoint, virtual for AWS.
	Addressing string

	// Bucket and Prefix: objects are stored as Prefix/KEY.
	Bucket, Prefix string

	// SpoolDir holds the spool files (SpoolDir/KEY) and the upload
	// queue's manifests (SpoolDir/.uploads/). Required.
	SpoolDir string
	// PartSize is the multipart part size, at least MinPartSize (default
	// DefaultPartSize).
	PartSize int64
	// Lag is how far the file must grow past a part's end before the part
	// is uploaded, so that patches of recent bytes (a WebM Cluster's size)
	// land before it is (default DefaultLag; negative means 0).
	Lag int64
	// FlushInterval, if set, stores the bytes not yet in a part (and the
	// held-back first part) as interim objects this often, bounding what a
	// node lost with its disk loses to about this long (see Takeover).
	FlushInterval time.Duration
	// MaxBackoff is the longest wait between retries of a failed upload
	// (default 5 s).
	MaxBackoff time.Duration
	// QueueInterval is how often RunQueue looks for queued uploads
	// (default 10 s).
	QueueInterval time.Duration
	// KeepSpool keeps spool files once their objects are stored.
	KeepSpool bool
	// Logger logs retries and queue work (default slog.Default()).
	Logger *slog.Logger
	// Transport, if set, carries the HTTP requests (tests).
	Transport http.RoundTripper
}

// OptionsFromEnv reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN, AWS_REGION (or AWS_DEFAULT_REGION) and
// AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL).
func OptionsFromEnv() S3Options {
	first := func(names ...string) string {
		for _, n := range names {
			if v := os.Getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	return S3Options{
		Endpoint:        first("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
		Region:          first("AWS_REGION", "AWS_DEFAULT_REGION"),
		AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
	}
}

// merge sets in dst the fields that are set in src.
func merge(dst *S3Options, src S3Options) {
	set := func(d *string, s string) {
		if s != "" {
			*d = s
		}
	}
	set(&dst.Endpoint, src.Endpoint)
	set(&dst.Region, src.Region)
	set(&dst.AccessKeyID, src.AccessKeyID)
	set(&dst.SecretAccessKey, src.SecretAccessKey)
	set(&dst.SessionToken, src.SessionToken)
	set(&dst.Addressing, src.Addressing)
	set(&dst.Bucket, src.Bucket)
	set(&dst.Prefix, src.Prefix)
	set(&dst.SpoolDir, src.SpoolDir)
	if src.PartSize != 0 {
		dst.PartSize = src.PartSize
	}
	if src.Lag != 0 {
		dst.Lag = src.Lag
	}
	if src.FlushInterval != 0 {
		dst.FlushInterval = src.FlushInterval
	}
	if src.MaxBackoff != 0 {
		dst.MaxBackoff = src.MaxBackoff
	}
	if src.QueueInterval != 0 {
		dst.QueueInterval = src.QueueInterval
	}
	dst.KeepSpool = dst.KeepSpool || src.KeepSpool
	if src.Logger != nil {
		dst.Logger = src.Logger
	}
	if src.Transport != nil {
		dst.Transport = src.Transport
	}
}

// S3 keeps recordings in an S3 bucket, streaming each into a multipart
// upload as it is written (see the package doc).
type S3 struct {
	opts   S3Options
	client *minio.Client
	core   minio.Core
	log    *slog.Logger

	mu     sync.Mutex
	active map[string]*S3Writer // by key
}

// NewS3 returns an S3 store. It makes no request: the store may be away
// at start.
func NewS3(_ context.Context, opts S3Options) (*S3, error) {
	if opts.Bucket == "" {
		return nil, errors.New("storage: no bucket")
	}
	if opts.SpoolDir == "" {
		return nil, errors.New("storage: no spool directory")
	}
	switch {
	case opts.PartSize == 0:
		opts.PartSize = DefaultPartSize
	case opts.PartSize < MinPartSize:
		return nil, fmt.Errorf("storage: part size %d is below S3's minimum of %d", opts.PartSize, MinPartSize)
	}
	switch {
	case opts.Lag == 0:
		opts.Lag = DefaultLag
	case opts.Lag < 0:
		opts.Lag = 0
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	if opts.QueueInterval <= 0 {
		opts.QueueInterval = 10 * time.Second
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Prefix != "" && !strings.HasSuffix(opts.Prefix, "/") {
		opts.Prefix += "/"
	}
	host, secure := "s3.amazonaws.com", true
	if opts.Endpoint != "" {
		e := opts.Endpoint
		if !strings.Contains(e, "://") {
			e = "https://" + e
		}
		u, err := url.Parse(e)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("storage: bad endpoint %q", opts.Endpoint)
		}
		host, secure = u.Host, u.Scheme == "https"
	}
	lookup := minio.BucketLookupAuto
	switch opts.Addressing {
	case "path":
		lookup = minio.BucketLookupPath
	case "virtual":
		lookup = minio.BucketLookupDNS
	case "":
		if opts.Endpoint != "" && !strings.HasSuffix(host, "amazonaws.com") {
			lookup = minio.BucketLookupPath
		}
	default:
		return nil, fmt.Errorf("storage: addressing %q (want path or virtual)", opts.Addressing)
	}
	c, err := minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(opts.AccessKeyID, opts.SecretAccessKey, opts.SessionToken),
		Secure:       secure,
		Region:       opts.Region,
		BucketLookup: lookup,
		Transport:    opts.Transport,
		MaxRetries:   2, // our own loop retries for longer, with backoff
	})
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	if err := os.MkdirAll(manifestDir(opts.SpoolDir), 0o755); err != nil {
		return nil, err
	}
	return &S3{opts: opts, client: c, core: minio.Core{Client: c}, log: opts.Logger, active: map[string]*S3Writer{}}, nil
}

func (s *S3) String() string { return "s3://" + s.opts.Bucket + "/" + s.opts.Prefix }

// Options returns the store's options, defaults filled in.
func (s *S3) Options() S3Options { return s.opts }

// Client is the minio-go client (for what this package does not wrap).
func (s *S3) Client() *minio.Client { return s.client }

// EnsureBucket creates the bucket if it does not exist.
func (s *S3) EnsureBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.opts.Bucket)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if ok {
		return nil
	}
	if err := s.client.MakeBucket(ctx, s.opts.Bucket, minio.MakeBucketOptions{Region: s.opts.Region}); err != nil {
		if c := minio.ToErrorResponse(err).Code; c == "BucketAlreadyOwnedByYou" || c == "BucketAlreadyExists" {
			return nil
		}
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

func (s *S3) objKey(key string) string { return s.opts.Prefix + key }

func isNotFound(err error) bool {
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchKey", "NotFound", "NoSuchUpload":
		return true
	}
	return false
}

// Open opens the stored object key; its ReadAt and Seek+Read do ranged
// GETs.
func (s *S3) Open(ctx context.Context, key string) (Object, error) {
	k, err := cleanKey(key)
	if err != nil {
		return nil, err
	}
	o, err := s.client.GetObject(ctx, s.opts.Bucket, s.objKey(k), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	oi, err := o.Stat()
	if err != nil {
		o.Close()
		if isNotFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("storage: %w", err)
	}
	return &s3Object{Object: o, info: Info{Key: k, Size: oi.Size, ModTime: oi.LastModified, ContentType: oi.ContentType}}, nil
}

type s3Object struct {
	*minio.Object
	info Info
}

func (o *s3Object) Info() Info { return o.info }

// Stat describes the stored object key.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	k, err := cleanKey(key)
	if err != nil {
		return Info{}, err
	}
	oi, err := s.client.StatObject(ctx, s.opts.Bucket, s.objKey(k), minio.StatObjectOptions{})
	if err != nil {
		if isNotFound(err) {
			return Info{}, ErrNotFound
		}
		return Info{}, fmt.Errorf("storage: %w", err)
	}
	return Info{Key: k, Size: oi.Size, ModTime: oi.LastModified, ContentType: oi.ContentType}, nil
}

// List lists the stored objects whose keys start with prefix (not the
// interim objects).
func (s *S3) List(ctx context.Context, prefix string) ([]Info, error) {
	var out []Info
	for oi := range s.client.ListObjects(ctx, s.opts.Bucket, minio.ListObjectsOptions{Prefix: s.opts.Prefix + prefix, Recursive: true}) {
		if oi.Err != nil {
			return nil, fmt.Errorf("storage: %w", oi.Err)
		}
		k := strings.TrimPrefix(oi.Key, s.opts.Prefix)
		if strings.HasPrefix(k, ".interim/") {
			continue
		}
		out = append(out, Info{Key: k, Size: oi.Size, ModTime: oi.LastModified, ContentType: oi.ContentType})
	}
	return out, nil
}

// PresignGet returns a URL that GETs the object key (Range requests
// included) without credentials until expiry.
func (s *S3) PresignGet(ctx context.Context, key string, expiry time.Duration) (*url.URL, error) {
	k, err := cleanKey(key)
	if err != nil {
		return nil, err
	}
	u, err := s.client.PresignedGetObject(ctx, s.opts.Bucket, s.objKey(k), expiry, nil)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return u, nil
}

// Delete deletes the object key, aborts its unfinished uploads (and a
// Writer of this process still writing it), and removes its interim
// objects and its spool file and manifest.
func (s *S3) Delete(ctx context.Context, key string) error {
	k, err := cleanKey(key)
	if err != nil {
		return err
	}
	s.mu.Lock()
	w := s.active[k]
	s.mu.Unlock()
	if w != nil {
		_ = w.Abort(ctx)
	}
	if err := s.client.RemoveObject(ctx, s.opts.Bucket, s.objKey(k), minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
		return fmt.Errorf("storage: %w", err)
	}
	ups, err := s.uploadsOf(ctx, k)
	if err != nil {
		return err
	}
	for _, id := range ups {
		if err := s.core.AbortMultipartUpload(ctx, s.opts.Bucket, s.objKey(k), id); err != nil && !isNotFound(err) {
			return fmt.Errorf("storage: aborting the upload: %w", err)
		}
	}
	s.removeInterim(ctx, k)
	s.removeLocal(k)
	return nil
}

// uploadsOf returns the IDs of key's unfinished uploads.
func (s *S3) uploadsOf(ctx context.Context, key string) ([]string, error) {
	ups, err := s.Unfinished(ctx, key)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, u := range ups {
		if u.Key == key {
			ids = append(ids, u.UploadID)
		}
	}
	return ids, nil
}

// removeLocal removes key's manifest and spool file.
func (s *S3) removeLocal(key string) {
	os.Remove(manifestPath(s.opts.SpoolDir, key))
	os.Remove(spoolPath(s.opts.SpoolDir, key))
}

// putObject stores b under the raw object key k.
func (s *S3) putObject(ctx context.Context, k string, b []byte) error {
	h := sha256.Sum256(b) // the signed payload hash; no Content-MD5 (see putPart)
	_, err := s.core.PutObject(ctx, s.opts.Bucket, k, bytes.NewReader(b), int64(len(b)),
		"", hex.EncodeToString(h[:]),
		minio.PutObjectOptions{DisableMultipart: true, DisableContentSha256: true})
	return err
}

// getObject reads the raw object k whole (nil, nil if none).
func (s *S3) getObject(ctx context.Context, k string) ([]byte, error) {
	o, err := s.client.GetObject(ctx, s.opts.Bucket, k, minio.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if isNotFound(err) {
		return nil, nil
	}
	return b, err
}

// backoff sleeps before retry number try (from 0), up to max; false if
// done closed first.
func backoff(try int, max time.Duration, done <-chan struct{}) bool {
	d := 100 * time.Millisecond << min(try, 10)
	d = min(d, max)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}
