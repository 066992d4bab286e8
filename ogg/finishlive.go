package ogg

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// ErrNoPageInTail is returned by FinishLive when the tail holds no whole,
// valid page: the caller repairs the whole stream with Fix.
var ErrNoPageInTail = errors.New("ogg: no whole page in the tail")

// FinishLive finishes an Ogg stream that was cut off, as Fix does, from
// its first bytes (head: from the stream's start, through its
// beginning-of-stream pages) and its last ones (tail: from anywhere after
// the head, mid-page, to where the bytes end), without the bytes between:
// it returns tail cut after the last whole page, the pages that hold
// only the start of a packet that never ended dropped, and the last page
// of each logical stream marked end-of-stream (the part of a packet that
// continues on a lost page cut off), and the Duration at the final
// granule position. head + the bytes between + newTail is what Fix makes
// of the whole stream. Nothing before the tail's first whole page
// changes; the last page of each stream must be in the tail (a stream
// whose last page is not ends without its end-of-stream flag).
func FinishLive(head, tail []byte) (newTail []byte, dur time.Duration, err error) {
	// The beginning-of-stream pages, for the streams' rates and pre-skip.
	r := NewReader(bytes.NewReader(head))
	var n int64
	for {
		p, err := r.NextPage()
		if err != nil || p.Flags&FlagBOS == 0 {
			break
		}
		n = r.Offset()
	}
	bos := head[:n]
	if len(bos) == 0 {
		return nil, 0, fmt.Errorf("%w: no beginning-of-stream page in the head", ErrNotOgg)
	}
	// The first whole, valid page of the tail.
	first := -1
	for i := 0; first < 0; i++ {
		j := bytes.Index(tail[i:], []byte(capturePattern))
		if j < 0 {
			return nil, 0, ErrNoPageInTail
		}
		i += j
		if _, err := NewReader(bytes.NewReader(tail[i:])).NextPage(); err == nil {
			first = i
		}
	}
	var out bytes.Buffer
	src := bytes.NewReader(append(bytes.Clone(bos), tail[first:]...))
	rep, err := Fix(&out, src)
	if err != nil {
		return nil, 0, err
	}
	b := out.Bytes()
	if !bytes.HasPrefix(b, bos) {
		return nil, 0, fmt.Errorf("%w: the beginning-of-stream pages changed", ErrNotOgg)
	}
	return append(bytes.Clone(tail[:first]), b[len(bos):]...), rep.Duration, nil
}
