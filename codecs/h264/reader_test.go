package h264

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"testing/iotest"
)

// NAL units for the access unit tests. A slice's first payload bit is the
// first bit of first_mb_in_slice: 1 means 0, the first slice of a picture.
var (
	nAUD    = []byte{0x09, 0xf0}
	nSPS    = spsHigh636
	nPPS    = ppsX264
	nSEI    = []byte{0x06, 0x05, 0x01, 0x80}
	nIDR0   = []byte{0x65, 0x88, 0x84, 0x21}
	nIDR1   = []byte{0x65, 0x0a, 0x11, 0x22} // first_mb_in_slice != 0
	nP0     = []byte{0x41, 0x9a, 0x22}
	nP1     = []byte{0x41, 0x01, 0x9a, 0x22}
	nB0     = []byte{0x01, 0x9e, 0x33} // nal_ref_idc 0
	nEOS    = []byte{0x0a}
	nPrefix = []byte{0x0e, 0x80}
)

// annexB joins NAL units with start codes, alternating 4- and 3-byte ones.
func annexB(nalus ...[]byte) []byte {
	var b []byte
	for i, n := range nalus {
		if i%2 == 0 {
			b = append(b, 0)
		}
		b = append(b, 0, 0, 1)
		b = append(b, n...)
	}
	return b
}

// au is the access unit the reader returns for nalus.
func au(nalus ...[]byte) string {
	var b []byte
	for _, n := range nalus {
		b = append(b, 0, 0, 0, 1)
		b = append(b, n...)
	}
	return fmt.Sprintf("%x", b)
}

var readerTests = []struct {
	name string
	in   []byte
	aus  []string
}{
	{"no delimiters", annexB(nSPS, nPPS, nSEI, nIDR0, nIDR1, nP0, nP1, nP0),
		[]string{au(nSPS, nPPS, nSEI, nIDR0, nIDR1), au(nP0, nP1), au(nP0)}},
	{"delimiters", annexB(nAUD, nSPS, nPPS, nIDR0, nAUD, nP0, nP1, nAUD, nB0),
		[]string{au(nAUD, nSPS, nPPS, nIDR0), au(nAUD, nP0, nP1), au(nAUD, nB0)}},
	{"sei and pps start an access unit", annexB(nIDR0, nP0, nSEI, nP0, nPPS, nB0),
		[]string{au(nIDR0), au(nP0), au(nSEI, nP0), au(nPPS, nB0)}},
	{"end of sequence stays", annexB(nIDR0, nEOS, nIDR0), []string{au(nIDR0, nEOS), au(nIDR0)}},
	{"prefix nal unit", annexB(nIDR0, nPrefix, nIDR0), []string{au(nIDR0), au(nPrefix, nIDR0)}},
	{"second slice after sei is still a new unit", annexB(nIDR0, nSEI, nIDR1), []string{au(nIDR0), au(nSEI, nIDR1)}},
	{"parameter sets only", annexB(nSPS, nPPS), []string{au(nSPS, nPPS)}},
	{"delimiters only", annexB(nAUD, nAUD), []string{au(nAUD), au(nAUD)}},
	{"garbage, zeros, empty units", append(append([]byte{0xde, 0xad, 0, 0, 0, 0}, annexB(nSPS, nil, nIDR0, nP0)...), 0, 0, 0, 0),
		[]string{au(nSPS, nIDR0), au(nP0)}},
	{"empty", nil, nil},
	{"garbage only", []byte("no start code here"), nil},
	{"start code only", []byte{0, 0, 0, 1}, nil},
	{"zeros after start code", []byte{0, 0, 1, 0, 0, 0}, nil},
}

// readAll returns every access unit of r, hex encoded, and the error that
// ended the stream.
func readAll(r *AccessUnitReader) ([]string, error) {
	var aus []string
	for {
		b, err := r.Next()
		if err != nil {
			return aus, err
		}
		if len(b) == 0 {
			return aus, errors.New("empty access unit")
		}
		aus = append(aus, fmt.Sprintf("%x", b))
	}
}

func TestAccessUnitReader(t *testing.T) {
	readers := map[string]func([]byte) io.Reader{
		"whole":    func(b []byte) io.Reader { return bytes.NewReader(b) },
		"one byte": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"half":     func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
		"data+EOF": func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
	}
	for _, tt := range readerTests {
		for rn, mk := range readers {
			r := NewAccessUnitReader(mk(tt.in))
			aus, err := readAll(r)
			if err != io.EOF {
				t.Errorf("%s, %s: err = %v", tt.name, rn, err)
			}
			if strings.Join(aus, "\n") != strings.Join(tt.aus, "\n") {
				t.Errorf("%s, %s:\n got %q\nwant %q", tt.name, rn, aus, tt.aus)
			}
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("%s, %s: Next after EOF: %v", tt.name, rn, err)
			}
		}
	}
}

// bigSlice returns an IDR slice NAL unit of n bytes without start codes.
func bigSlice(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.IntN(255) + 1) // no zero bytes: no start codes
	}
	b[0], b[1] = 0x65, 0x88
	return b
}

func TestAccessUnitReaderLarge(t *testing.T) {
	// NAL units larger than the read block, read whole and in small
	// pieces.
	big1, big2 := bigSlice(300_000, 1), bigSlice(70_000, 2)
	in := annexB(nSPS, nPPS, big1, nP0, big2, nP0)
	want := []string{au(nSPS, nPPS, big1), au(nP0), au(big2), au(nP0)}
	for name, r := range map[string]io.Reader{
		"whole": bytes.NewReader(in),
		"half":  iotest.HalfReader(bytes.NewReader(in)),
		"1000":  &chunkReader{data: in, n: 1000},
	} {
		aus, err := readAll(NewAccessUnitReader(r))
		if err != io.EOF || strings.Join(aus, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: %d access units, err %v", name, len(aus), err)
		}
	}
}

// chunkReader returns at most n bytes per Read and records the size of
// the buffers it is handed.
type chunkReader struct {
	data    []byte
	n       int
	minBuf  int
	reads   int
	readErr error
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.minBuf == 0 || len(p) < c.minBuf {
		c.minBuf = len(p)
	}
	c.reads++
	if len(c.data) == 0 {
		if c.readErr != nil {
			return 0, c.readErr
		}
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.n)], c.data)
	c.data = c.data[n:]
	return n, nil
}

func TestAccessUnitReaderBlockSize(t *testing.T) {
	data, err := os.ReadFile("testdata/high-636x358.h264")
	if err != nil {
		t.Fatal(err)
	}
	c := &chunkReader{data: bytes.Repeat(data, 30), n: 1 << 30}
	aus, err := readAll(NewAccessUnitReader(c))
	if err != io.EOF || len(aus) != 240 {
		t.Fatalf("%d access units, %v", len(aus), err)
	}
	if c.minBuf < 64<<10 {
		t.Errorf("smallest read %d bytes, want >= 64 KiB", c.minBuf)
	}
}

func TestAccessUnitReaderErrors(t *testing.T) {
	errBoom := errors.New("boom")
	// The error comes after the data: the reader finds no end for the
	// last NAL unit, so it cannot tell whether the second access unit is
	// complete, and reports the error (sticky).
	c := &chunkReader{data: annexB(nIDR0, nP0, nP0), n: 1 << 20, readErr: errBoom}
	r := NewAccessUnitReader(c)
	aus, err := readAll(r)
	if err != errBoom || len(aus) != 1 {
		t.Errorf("got %d access units, err %v", len(aus), err)
	}
	if _, err := r.Next(); err != errBoom {
		t.Errorf("error not sticky: %v", err)
	}
	// A reader that makes no progress.
	r = NewAccessUnitReader(zeroReader{})
	if _, err := r.Next(); err != ErrNoProgress {
		t.Errorf("zero reader: %v", err)
	}
	// A NAL unit over the limit.
	r = NewAccessUnitReader(bytes.NewReader(annexB(nIDR0, nP0, bigSlice(100_000, 3), nP0)))
	r.MaxNALUSize = 50_000
	aus, err = readAll(r)
	if err != ErrNALUTooLarge || len(aus) != 1 {
		t.Errorf("max size: %d access units, %v", len(aus), err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestAccessUnitReaderTestdata(t *testing.T) {
	data, err := os.ReadFile("testdata/high-636x358.h264")
	if err != nil {
		t.Fatal(err)
	}
	r := NewAccessUnitReader(bytes.NewReader(data))
	var keys []bool
	for {
		b, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := NextNALU(b); NALUType(n) != NALUTypeAUD {
			t.Errorf("access unit %d starts with NAL unit type %d", len(keys), NALUType(n))
		}
		keys = append(keys, IsKeyFrame(b))
	}
	if fmt.Sprint(keys) != "[true false false false true false false false]" {
		t.Errorf("key frames %v", keys)
	}
}

func TestAccessUnitReaderAllocs(t *testing.T) {
	data, err := os.ReadFile("testdata/high-636x358.h264")
	if err != nil {
		t.Fatal(err)
	}
	r := NewAccessUnitReader(bytes.NewReader(bytes.Repeat(data, 100)))
	for range 40 {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(500, func() {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Next allocates %v times per access unit", allocs)
	}
}

func FuzzAccessUnitReader(f *testing.F) {
	for _, tt := range readerTests {
		f.Add(tt.in)
	}
	if data, err := os.ReadFile("testdata/high-636x358.h264"); err == nil {
		f.Add(data[:2000])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		whole, err := readAll(NewAccessUnitReader(bytes.NewReader(b)))
		if err != io.EOF {
			t.Fatalf("err = %v", err)
		}
		pieces, err := readAll(NewAccessUnitReader(iotest.OneByteReader(bytes.NewReader(b))))
		if err != io.EOF || strings.Join(whole, "\n") != strings.Join(pieces, "\n") {
			t.Fatalf("one-byte reads differ: %v", err)
		}
		// The access units hold exactly the NAL units of the stream.
		var want, got []byte
		for rest := b; ; {
			var n []byte
			if n, rest = NextNALU(rest); n == nil {
				break
			}
			want = append(append(want, 0, 0, 0, 1), n...)
		}
		for _, a := range whole {
			var x []byte
			fmt.Sscanf(a, "%x", &x)
			got = append(got, x...)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("NAL units differ")
		}
	})
}

func BenchmarkAccessUnitReader(b *testing.B) {
	data, err := os.ReadFile("testdata/high-636x358.h264")
	if err != nil {
		b.Fatal(err)
	}
	data = bytes.Repeat(data, 20)
	br := bytes.NewReader(data)
	r := NewAccessUnitReader(br)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		br.Reset(data)
		*r = AccessUnitReader{r: br, MaxNALUSize: DefaultMaxNALUSize, buf: r.buf, au: r.au}
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
