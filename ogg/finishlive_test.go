package ogg

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/opus"
)

// FinishLive, from the head and the tail of a cut-off stream, makes the
// bytes Fix makes of the whole stream, wherever the tail starts and the
// stream is cut.
func TestFinishLive(t *testing.T) {
	var packets [][]byte
	for i := range 400 {
		packets = append(packets, append([]byte{0xFC, byte(i)}, bytes.Repeat([]byte{byte(i)}, 60+i%50)...))
	}
	data, ends := crashedOpus(t, opus.DefaultHead(2, 48000), packets, 200*time.Millisecond)
	if len(ends) < 20 {
		t.Fatalf("%d pages", len(ends))
	}
	for _, tc := range []struct{ tailOff, cut int }{
		{ends[10], len(data)},         // the tail starts at a page
		{ends[10] + 7, len(data)},     // mid-page
		{ends[12] - 1, len(data) - 5}, // cut inside the last page
		{ends[15] + 30, ends[len(ends)-3] + 1},
	} {
		head := data[:ends[3]]
		newTail, dur, err := FinishLive(head, data[tc.tailOff:tc.cut])
		if err != nil {
			t.Fatalf("tail at %d, cut at %d: %v", tc.tailOff, tc.cut, err)
		}
		got := append(bytes.Clone(data[:tc.tailOff]), newTail...)
		want, rep := fixOgg(t, data[:tc.cut])
		if !bytes.Equal(got, want) || dur != rep.Duration {
			t.Errorf("tail at %d, cut at %d: %d bytes, %v; Fix: %d bytes, %v", tc.tailOff, tc.cut, len(got), dur, len(want), rep.Duration)
		}
	}
	// A tail without a whole page, a head without the stream's start.
	if _, _, err := FinishLive(data[:ends[3]], data[ends[10]+1:ends[11]]); !errors.Is(err, ErrNoPageInTail) {
		t.Errorf("a tail without a whole page: %v", err)
	}
	if _, _, err := FinishLive(data[ends[2]:ends[3]], data[ends[10]:]); !errors.Is(err, ErrNotOgg) {
		t.Errorf("a head without the BOS page: %v", err)
	}
}

// FuzzFinishLive: head and tail come from a store: an error or a tail no
// longer than the one given (pages are cut, never grown), never a panic.
func FuzzFinishLive(f *testing.F) {
	var b bytes.Buffer
	w, err := NewOpusWriter(&b, opus.DefaultHead(1, 48000), opus.Tags{}, OpusWriterOptions{Serial: 3, MaxPageDuration: 60 * time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	for i := range 40 {
		if err := w.WritePacket([]byte{0xFC, byte(i), 1, 2}, time.Duration(i)*20*time.Millisecond); err != nil {
			f.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Fatal(err)
	}
	data := b.Bytes()
	f.Add(data[:len(data)/3], data[len(data)/2:])
	f.Add(data[:len(data)/3], data[len(data)/2:len(data)-2])
	f.Fuzz(func(t *testing.T, head, tail []byte) {
		if nt, _, err := FinishLive(head, tail); err == nil && len(nt) > len(tail) {
			t.Fatalf("a tail of %d bytes from %d", len(nt), len(tail))
		}
	})
}
