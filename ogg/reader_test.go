package ogg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"
	"testing/iotest"
)

func readTestdata(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/sine-mono.opus")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bitwiseCRC is the Ogg CRC computed bit by bit, as a check on the table.
func bitwiseCRC(b []byte) uint32 {
	var crc uint32
	for _, v := range b {
		crc ^= uint32(v) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04c11db7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

func TestChecksum(t *testing.T) {
	// The pages ffmpeg wrote carry checksums made by libogg.
	for _, p := range splitPages(t, readTestdata(t)) {
		want := binary.LittleEndian.Uint32(p.raw[22:])
		if got := Checksum(p.raw); got != want {
			t.Errorf("page %d: Checksum = %08x, stored %08x", p.seq, got, want)
		}
		zeroed := bytes.Clone(p.raw)
		copy(zeroed[22:26], []byte{0, 0, 0, 0})
		if got := bitwiseCRC(zeroed); got != want {
			t.Errorf("page %d: bitwise CRC = %08x, stored %08x", p.seq, got, want)
		}
		if got := Checksum(zeroed); got != want {
			t.Errorf("page %d: Checksum of the zeroed page = %08x, want %08x", p.seq, got, want)
		}
	}
	for _, s := range []string{"", "a", "OggS", "123456789"} {
		if got, want := Checksum([]byte(s)), bitwiseCRC([]byte(s)); got != want {
			t.Errorf("Checksum(%q) = %08x, want %08x", s, got, want)
		}
	}
	// Every length and alignment of the slicing-by-8 loop.
	buf := pattern(300, 3)
	for i := range 40 {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 100, 255} {
			if got, want := crcUpdate(0, buf[i:i+n]), bitwiseCRC(buf[i:i+n]); got != want {
				t.Fatalf("crcUpdate(buf[%d:%d]) = %08x, want %08x", i, i+n, got, want)
			}
		}
	}
	// The check value of CRC-32/MPEG-2 without its init and final XOR.
	if got := Checksum([]byte("123456789")); got != 0x89a1897f {
		t.Errorf("Checksum(123456789) = %08x, want 89a1897f", got)
	}
}

func TestReaderFFmpegFile(t *testing.T) {
	in := readTestdata(t)
	raws := splitPages(t, in)
	for name, r := range map[string]io.Reader{
		"whole":    bytes.NewReader(in),
		"one byte": iotest.OneByteReader(bytes.NewReader(in)),
		"data+EOF": iotest.DataErrReader(bytes.NewReader(in)),
		"half":     iotest.HalfReader(bytes.NewReader(in)),
	} {
		t.Run(name, func(t *testing.T) {
			pr := NewReader(r)
			var offset int64
			for i := 0; ; i++ {
				if got := pr.Offset(); got != offset {
					t.Fatalf("page %d: Offset = %d, want %d", i, got, offset)
				}
				p, err := pr.NextPage()
				if err == io.EOF {
					if i != len(raws) {
						t.Fatalf("EOF after %d pages, want %d", i, len(raws))
					}
					break
				}
				if err != nil {
					t.Fatalf("page %d: %v", i, err)
				}
				want := raws[i]
				if p.Flags != want.flags || p.Granule != want.granule || p.Serial != want.serial ||
					p.Sequence != want.seq || !bytes.Equal(p.Segments, want.segs) || !bytes.Equal(p.Body, want.body) {
					t.Fatalf("page %d = %+v", i, p)
				}
				// Re-encoding gives the same bytes, checksum included.
				b, err := p.AppendBinary(nil)
				if err != nil || !bytes.Equal(b, want.raw) {
					t.Fatalf("page %d: AppendBinary differs from ffmpeg's page (%v)", i, err)
				}
				if p.Len() != len(want.raw) {
					t.Fatalf("page %d: Len = %d", i, p.Len())
				}
				offset += int64(len(want.raw))
			}
			if _, err := pr.NextPage(); err != io.EOF {
				t.Fatalf("NextPage after EOF = %v", err)
			}
		})
	}
	if raws[0].flags != FlagBOS || raws[len(raws)-1].flags != FlagEOS {
		t.Errorf("flags: first %d, last %d", raws[0].flags, raws[len(raws)-1].flags)
	}
}

func TestReaderBadCRC(t *testing.T) {
	in := bytes.Clone(readTestdata(t))
	raws := splitPages(t, in)
	// Damage one body byte of the third page.
	off := len(raws[0].raw) + len(raws[1].raw)
	in[off+len(raws[2].raw)-1] ^= 0x40
	r := NewReader(bytes.NewReader(in))
	for i := range raws {
		p, err := r.NextPage()
		if i == 2 {
			if !errors.Is(err, ErrBadCRC) || p != nil {
				t.Fatalf("damaged page: %v, %v", p, err)
			}
			continue
		}
		if err != nil || p.Sequence != uint32(i) {
			t.Fatalf("page %d: %+v, %v", i, p, err)
		}
	}
	if _, err := r.NextPage(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestReaderTruncated(t *testing.T) {
	in := readTestdata(t)
	raws := splitPages(t, in)
	boundaries := map[int]bool{}
	n := 0
	for _, p := range raws {
		boundaries[n] = true
		n += len(p.raw)
	}
	for cut := range len(in) {
		r := NewReader(bytes.NewReader(in[:cut]))
		var err error
		pages := 0
		for err == nil {
			_, err = r.NextPage()
			if err == nil {
				pages++
			}
		}
		want := io.ErrUnexpectedEOF
		if boundaries[cut] {
			want = io.EOF
		}
		if err != want {
			t.Fatalf("cut at %d: %v after %d pages, want %v", cut, err, pages, want)
		}
		if _, err2 := r.NextPage(); err2 != err {
			t.Fatalf("cut at %d: error not sticky: %v then %v", cut, err, err2)
		}
	}
}

func TestReaderBadPage(t *testing.T) {
	in := readTestdata(t)
	second := len(splitPages(t, in)[0].raw)
	mod := func(i int, v byte) []byte {
		b := bytes.Clone(in)
		b[i] = v
		return b
	}
	tests := []struct {
		name  string
		b     []byte
		pages int // good pages before the error
		err   error
	}{
		{"garbage", []byte("this is not an Ogg stream at all"), 0, ErrBadPage},
		{"capture pattern", mod(0, 'o'), 0, ErrBadPage},
		{"version", mod(4, 1), 0, ErrBadPage},
		{"second page pattern", mod(second+3, 'T'), 1, ErrBadPage},
		{"flags damaged", mod(5, 0x03), 0, ErrBadCRC},
		{"short garbage", []byte("Og"), 0, io.ErrUnexpectedEOF},
		{"read error", nil, 0, iotest.ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var src io.Reader = bytes.NewReader(tt.b)
			if tt.b == nil {
				src = iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader(in)))
			}
			r := NewReader(src)
			for i := range tt.pages {
				if _, err := r.NextPage(); err != nil {
					t.Fatalf("page %d: %v", i, err)
				}
			}
			_, err := r.NextPage()
			if !errors.Is(err, tt.err) {
				t.Fatalf("NextPage = %v, want %v", err, tt.err)
			}
			if tt.err == ErrBadPage {
				if _, err := r.NextPage(); !errors.Is(err, ErrBadPage) {
					t.Fatalf("ErrBadPage not sticky: %v", err)
				}
			}
		})
	}
}

// zeroReader returns neither data nor an error, forever.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestReaderNoProgress(t *testing.T) {
	if _, err := NewReader(zeroReader{}).NextPage(); err != io.ErrNoProgress {
		t.Fatalf("NextPage = %v, want io.ErrNoProgress", err)
	}
}

func TestPageAppendBinary(t *testing.T) {
	p := Page{Flags: FlagBOS, Granule: -1, Serial: 0x01020304, Sequence: 7, Segments: lacing(3, 0), Body: []byte("abc")}
	b, err := p.AppendBinary([]byte("prefix"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:6]) != "prefix" {
		t.Fatalf("prefix lost: %q", b)
	}
	want := []byte{'O', 'g', 'g', 'S', 0, FlagBOS,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		4, 3, 2, 1, 7, 0, 0, 0}
	if !bytes.Equal(b[6:6+22], want) {
		t.Fatalf("header % x, want % x", b[6:6+22], want)
	}
	if got := b[6+26:]; !bytes.Equal(got, []byte{2, 3, 0, 'a', 'b', 'c'}) {
		t.Fatalf("lacing and body % x", got)
	}
	if crc := binary.LittleEndian.Uint32(b[6+22:]); crc != Checksum(b[6:]) || crc == 0 {
		t.Fatalf("checksum %08x", crc)
	}
	m, err := p.MarshalBinary()
	if err != nil || !bytes.Equal(m, b[6:]) {
		t.Fatalf("MarshalBinary = % x, %v", m, err)
	}

	for _, bad := range []Page{
		{Segments: make([]byte, 256)},
		{Segments: lacing(3), Body: []byte("ab")},
		{Body: []byte("a")},
	} {
		if b, err := bad.AppendBinary([]byte("x")); !errors.Is(err, ErrBadPage) || string(b) != "x" {
			t.Errorf("AppendBinary(%d segments, %d bytes) = %q, %v", len(bad.Segments), len(bad.Body), b, err)
		}
	}
	// The largest page.
	big := Page{Segments: bytes.Repeat([]byte{255}, 255), Body: make([]byte, MaxBodyLen)}
	if b, err := big.MarshalBinary(); err != nil || len(b) != MaxPageLen {
		t.Errorf("largest page: %d bytes, %v", len(b), err)
	}
}

func FuzzReader(f *testing.F) {
	f.Add(readTestdata(f))
	f.Add([]byte("OggS"))
	f.Add(mustPage(f, Page{Flags: FlagBOS | FlagEOS, Segments: lacing(0)}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b))
		for {
			start := r.Offset()
			p, err := r.NextPage()
			if err == ErrBadCRC {
				continue
			}
			if err != nil {
				return
			}
			end := r.Offset()
			enc, err := p.AppendBinary(nil)
			if err != nil {
				t.Fatalf("AppendBinary of a page read: %v", err)
			}
			if !bytes.Equal(enc, b[start:end]) {
				t.Fatalf("page at %d does not re-encode to its bytes", start)
			}
		}
	})
}
