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
}

// NewBlob returns a Blob holding data (not copied: do not modify it) of the
// given MIME type.
func NewBlob(data []byte, typ string) *Blob { return &Blob{data: data, typ: typ} }

// Size returns the number of bytes in the blob.
func (b *Blob) Size() int64 { return int64(len(b.data)) }

// Type returns the blob's MIME type, the full type of its recording.
func (b *Blob) Type() string { return b.typ }

// Bytes returns the blob's bytes. They are shared: do not modify them.
func (b *Blob) Bytes() []byte { return b.data }

// NewReader returns a reader of the blob's bytes.
func (b *Blob) NewReader() io.Reader { return bytes.NewReader(b.data) }

// BlobEvent is the dataavailable event.
type BlobEvent struct {
	Data     *Blob
	Timecode float64 // milliseconds: media time of the blob's first data; 0 for a recorder's first blob
}
