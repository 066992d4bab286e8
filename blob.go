package mediarecorder

import (
	"bytes"
	"io"
)

// Blob is an immutable chunk of recorded data with a MIME type, like the
// File API's Blob.
type Blob struct {
	data []byte
	typ  string
	// A blob of a file recording views the file's bytes instead.
	ra   io.ReaderAt
	off  int64
	size int64
}

// NewBlob returns a Blob holding data (not copied: do not modify it) of the
// given MIME type.
func NewBlob(data []byte, typ string) *Blob { return &Blob{data: data, typ: typ} }

// Size returns the number of bytes in the blob.
func (b *Blob) Size() int64 {
	if b.data == nil && b.size > 0 {
		return b.size
	}
	return int64(len(b.data))
}

// Type returns the blob's MIME type, the full type of its recording.
func (b *Blob) Type() string { return b.typ }

// Bytes returns the blob's bytes. They are shared: do not modify them.
// For a file recording (Recorder.StartFile) they are read from the file
// (nil if it cannot be read, see StartFile).
func (b *Blob) Bytes() []byte {
	if b.data != nil || b.size == 0 {
		return b.data
	}
	if b.ra == nil {
		return nil
	}
	p := make([]byte, b.size)
	if n, err := b.ra.ReadAt(p, b.off); err != nil && !(err == io.EOF && int64(n) == b.size) {
		return nil
	}
	return p
}

// NewReader returns a reader of the blob's bytes.
func (b *Blob) NewReader() io.Reader {
	if b.data == nil && b.size > 0 {
		if b.ra == nil {
			return bytes.NewReader(nil)
		}
		return io.NewSectionReader(b.ra, b.off, b.size)
	}
	return bytes.NewReader(b.data)
}

// Offset returns where a file recording's blob starts in the file (0 for
// blobs held in memory).
func (b *Blob) Offset() int64 { return b.off }

// BlobEvent is the dataavailable event.
type BlobEvent struct {
	Data     *Blob
	Timecode float64 // milliseconds: media time of the blob's first data; 0 for a recorder's first blob
}
