package storage

import (
	"bytes"
	"slices"
	"testing"
)

func TestAddAndClipSpans(t *testing.T) {
	var ss []span
	for _, s := range []span{{10, 20}, {30, 40}, {20, 25}, {5, 6}, {35, 50}, {7, 7}} {
		ss = addSpan(ss, s)
	}
	if want := []span{{5, 6}, {10, 25}, {30, 50}}; !slices.Equal(ss, want) {
		t.Fatalf("spans %v, want %v", ss, want)
	}
	// [0, 8) and [32, 45)
	if got, want := clipSpans(ss, 8, 32, 45), []span{{5, 6}, {32, 45}}; !slices.Equal(got, want) {
		t.Fatalf("clipped %v, want %v", got, want)
	}
	if !inParts([]span{{10, 20}}, 10, 20) || inParts([]span{{9, 20}}, 10, 20) {
		t.Fatal("inParts")
	}
}

func TestSegmentRoundTrip(t *testing.T) {
	spans := []span{{0, 3}, {100, 105}}
	obj, data := encodeSegment(105, 5<<20, []byte(`{"d":1}`), spans, nil)
	copy(data[0], "abc")
	copy(data[1], "hello")
	sg, err := decodeSegment(obj)
	if err != nil {
		t.Fatal(err)
	}
	if sg.size != 105 || sg.partSize != 5<<20 || string(sg.note) != `{"d":1}` || !slices.Equal(sg.spans, spans) ||
		string(sg.data[0]) != "abc" || string(sg.data[1]) != "hello" {
		t.Fatalf("decoded %+v", sg)
	}
	im := &image{size: sg.size, spans: sg.spans, data: sg.data}
	if _, err := im.read(0, 105); err == nil {
		t.Fatal("a hole read without error")
	}
	b, err := im.read(100, 105)
	if err != nil || string(b) != "hello" {
		t.Fatalf("read %q, %v", b, err)
	}
	ms := []Mark{{4096, 0, 1}, {200000, 5000, 0}}
	obj2, _ := encodeSegment(105, 5<<20, nil, spans, ms)
	if sg, err := decodeSegment(obj2); err != nil || !slices.Equal(sg.marks, ms) || sg.v1 {
		t.Fatalf("marks %v, %v; want %v", sg.marks, err, ms)
	}
	v1, _ := encodeSegmentV(segMagicV1, 105, 5<<20, nil, spans, ms)
	if sg, err := decodeSegment(v1); err != nil || sg.marks != nil || !sg.v1 {
		t.Fatalf("the previous format: marks %v, %v", sg.marks, err)
	}
	if got, err := decodeIndex(encodeIndex(ms)); err != nil || !slices.Equal(got, ms) {
		t.Fatalf("index %v, %v", got, err)
	}
	for n := range len(obj) { // every truncation is refused
		if _, err := decodeSegment(obj[:n]); err == nil {
			t.Fatalf("a segment cut at %d of %d decoded", n, len(obj))
		}
	}
}

// FuzzDecodeSegment: interim segments come from the store: malformed ones
// are refused, never a panic or a huge allocation.
func FuzzDecodeSegment(f *testing.F) {
	obj, data := encodeSegment(20, 5<<20, []byte("n"), []span{{2, 4}, {10, 20}}, []Mark{{1, 2, 3}, {12, 40, 0}})
	copy(data[1], "0123456789")
	f.Add(obj)
	f.Add([]byte(segMagic))
	v1, data := encodeSegmentV(segMagicV1, 20, 5<<20, nil, []span{{2, 4}}, nil)
	copy(data[0], "ab")
	f.Add(v1)
	f.Add(encodeIndex([]Mark{{4096, 0, 1}, {9000, 1000, 0}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if ms, err := decodeIndex(b); err == nil {
			if !bytes.Equal(encodeIndex(ms), b) {
				t.Fatal("re-encoding the index differs")
			}
			return
		}
		sg, err := decodeSegment(b)
		if err != nil {
			return
		}
		for i, s := range sg.spans {
			if s.off < 0 || s.end > sg.size || int64(len(sg.data[i])) != s.end-s.off {
				t.Fatalf("span %v of a %d-byte file with %d bytes", s, sg.size, len(sg.data[i]))
			}
		}
		magic := segMagic
		if sg.v1 {
			magic = segMagicV1
		}
		re, d := encodeSegmentV(magic, sg.size, sg.partSize, sg.note, sg.spans, sg.marks)
		for i := range d {
			copy(d[i], sg.data[i])
		}
		if !bytes.Equal(re, b) {
			t.Fatal("re-encoding differs")
		}
	})
}
