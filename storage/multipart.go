package storage

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/minio/minio-go/v7"
)

// The multipart primitives, one request each.

// partBufs pools part-sized buffers: a Writer holds one only while it
// uploads a part.
var partBufs sync.Pool

func getBuf(n int64) []byte {
	if b, ok := partBufs.Get().(*[]byte); ok && int64(cap(*b)) >= n {
		return (*b)[:n]
	}
	return make([]byte, n)
}

func putBuf(b []byte) { partBufs.Put(&b) }

func md5Hex(b []byte) string {
	h := md5.Sum(b)
	return hex.EncodeToString(h[:])
}

func cleanETag(e string) string { return strings.Trim(e, `"`) }

// createUpload starts key's multipart upload.
func (s *S3) createUpload(ctx context.Context, key, contentType string) (string, error) {
	id, err := s.core.NewMultipartUpload(ctx, s.opts.Bucket, s.objKey(key), minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return "", fmt.Errorf("storage: creating the upload: %w", err)
	}
	return id, nil
}

// putPart uploads b as part n of the upload, returning its ETag.
func (s *S3) putPart(ctx context.Context, key, uploadID string, n int, b []byte) (string, error) {
	// The SHA-256 the request is signed with protects the bytes end to
	// end; a Content-MD5 as well would hash them a second time (a fifth
	// of a flushing writer's CPU, BenchmarkS3WriterFlush's profile).
	h := sha256.Sum256(b)
	p, err := s.core.PutObjectPart(ctx, s.opts.Bucket, s.objKey(key), uploadID, n, bytes.NewReader(b), int64(len(b)),
		minio.PutObjectPartOptions{Sha256Hex: hex.EncodeToString(h[:]),
			DisableContentSha256: true}) // signed with Sha256Hex, not aws-chunked
	if err != nil {
		return "", fmt.Errorf("storage: uploading part %d: %w", n, err)
	}
	return cleanETag(p.ETag), nil
}

// Part is one stored part of an unfinished upload.
type Part struct {
	Number int
	Size   int64
	ETag   string
}

// listParts lists the upload's parts, by number.
func (s *S3) listParts(ctx context.Context, key, uploadID string) (map[int]Part, error) {
	out := map[int]Part{}
	marker := 0
	for {
		r, err := s.core.ListObjectParts(ctx, s.opts.Bucket, s.objKey(key), uploadID, marker, 1000)
		if err != nil {
			return nil, fmt.Errorf("storage: listing parts: %w", err)
		}
		for _, p := range r.ObjectParts {
			out[p.PartNumber] = Part{Number: p.PartNumber, Size: p.Size, ETag: cleanETag(p.ETag)}
		}
		if !r.IsTruncated || r.NextPartNumberMarker <= marker {
			return out, nil
		}
		marker = r.NextPartNumberMarker
	}
}

// complete completes the upload from parts 1..len(etags).
func (s *S3) complete(ctx context.Context, key, uploadID, contentType string, etags []string) error {
	parts := make([]minio.CompletePart, len(etags))
	for i, e := range etags {
		parts[i] = minio.CompletePart{PartNumber: i + 1, ETag: e}
	}
	if _, err := s.core.CompleteMultipartUpload(ctx, s.opts.Bucket, s.objKey(key), uploadID, parts, minio.PutObjectOptions{ContentType: contentType}); err != nil {
		return fmt.Errorf("storage: completing the upload: %w", err)
	}
	return nil
}

// putEmpty stores key as an empty object (S3 refuses an empty part) and
// aborts its upload.
func (s *S3) putEmpty(ctx context.Context, key, uploadID, contentType string) error {
	_, err := s.core.PutObject(ctx, s.opts.Bucket, s.objKey(key), bytes.NewReader(nil), 0, "", "",
		minio.PutObjectOptions{ContentType: contentType, DisableMultipart: true, DisableContentSha256: true})
	if err != nil {
		return fmt.Errorf("storage: storing an empty object: %w", err)
	}
	if uploadID != "" {
		if err := s.core.AbortMultipartUpload(ctx, s.opts.Bucket, s.objKey(key), uploadID); err != nil && !isNotFound(err) {
			return fmt.Errorf("storage: aborting the upload: %w", err)
		}
	}
	return nil
}

// Upload is an unfinished multipart upload in the store.
type Upload struct {
	Key      string // the recording's key (without the store's prefix)
	UploadID string
}

// Unfinished lists the unfinished uploads whose keys start with prefix:
// recordings being written, or left by a node that died.
func (s *S3) Unfinished(ctx context.Context, prefix string) ([]Upload, error) {
	var out []Upload
	keyMarker, idMarker := "", ""
	for {
		r, err := s.core.ListMultipartUploads(ctx, s.opts.Bucket, s.opts.Prefix+prefix, keyMarker, idMarker, "", 1000)
		if err != nil {
			return nil, fmt.Errorf("storage: listing uploads: %w", err)
		}
		for _, u := range r.Uploads {
			k := strings.TrimPrefix(u.Key, s.opts.Prefix)
			if strings.HasPrefix(k, ".interim/") {
				continue
			}
			out = append(out, Upload{Key: k, UploadID: u.UploadID})
		}
		if !r.IsTruncated || (r.NextKeyMarker == keyMarker && r.NextUploadIDMarker == idMarker) {
			return out, nil
		}
		keyMarker, idMarker = r.NextKeyMarker, r.NextUploadIDMarker
	}
}
