package ebml

import (
	"bytes"
	"encoding/hex"
	"math"
	"testing"
)

func h(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

var sizeCases = []struct {
	size uint64
	enc  string
}{
	{0, "80"},
	{1, "81"},
	{126, "fe"},
	{127, "407f"}, // 0xFF is reserved for the unknown size
	{128, "4080"},
	{16382, "7ffe"},
	{16383, "203fff"},
	{1<<21 - 2, "3ffffe"},
	{1<<21 - 1, "101fffff"},
	{1<<28 - 2, "1ffffffe"},
	{1<<28 - 1, "080fffffff"},
	{1<<35 - 1, "0407ffffffff"},
	{1<<42 - 1, "0203ffffffffff"},
	{1<<49 - 1, "0101ffffffffffff"},
	{MaxSize, "01fffffffffffffe"},
}

func TestAppendSize(t *testing.T) {
	for _, c := range sizeCases {
		got := AppendSize(nil, c.size)
		if !bytes.Equal(got, h(c.enc)) {
			t.Errorf("AppendSize(%d) = %x, want %s", c.size, got, c.enc)
		}
		if SizeLen(c.size) != len(got) {
			t.Errorf("SizeLen(%d) = %d, want %d", c.size, SizeLen(c.size), len(got))
		}
		v, n, err := ReadSize(got)
		if err != nil || v != c.size || n != len(got) {
			t.Errorf("ReadSize(%x) = %d, %d, %v; want %d, %d", got, v, n, err, c.size, len(got))
		}
	}
	if got := AppendSize(nil, UnknownSize); !bytes.Equal(got, UnknownSize8[:]) {
		t.Errorf("AppendSize(UnknownSize) = %x", got)
	}
}

func TestAppendSizeN(t *testing.T) {
	cases := []struct {
		size uint64
		n    int
		enc  string
	}{
		{0, 1, "80"},
		{0, 8, "0100000000000000"},
		{5, 2, "4005"},
		{1234, 8, "01000000000004d2"},
		{MaxSize, 8, "01fffffffffffffe"},
		{126, 1, "fe"},
	}
	for _, c := range cases {
		if got := AppendSizeN([]byte{0xAA}, c.size, c.n); !bytes.Equal(got[1:], h(c.enc)) || got[0] != 0xAA {
			t.Errorf("AppendSizeN(%d, %d) = %x, want aa%s", c.size, c.n, got, c.enc)
		}
	}
	for _, c := range []struct {
		size uint64
		n    int
	}{{127, 1}, {0, 0}, {0, 9}, {MaxSize + 1, 8}, {1 << 14, 2}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AppendSizeN(%d, %d) did not panic", c.size, c.n)
				}
			}()
			AppendSizeN(nil, c.size, c.n)
		}()
	}
}

func TestAppendElements(t *testing.T) {
	cases := []struct {
		name string
		got  []byte
		want string
	}{
		{"id1", AppendID(nil, 0xEC), "ec"},
		{"id2", AppendID(nil, 0x4286), "4286"},
		{"id3", AppendID(nil, 0x2AD7B1), "2ad7b1"},
		{"id4", AppendID(nil, 0x18538067), "18538067"},
		{"uint0", AppendUint(nil, 0xD7, 0), "d78100"},
		{"uint1", AppendUint(nil, 0xD7, 1), "d78101"},
		{"uint2", AppendUint(nil, 0x2AD7B1, 1000000), "2ad7b1830f4240"},
		{"uintmax", AppendUint(nil, 0x73C5, math.MaxUint64), "73c588ffffffffffffffff"},
		{"int0", AppendInt(nil, 0xFB, 0), "fb8100"},
		{"int-1", AppendInt(nil, 0xFB, -1), "fb81ff"},
		{"int-128", AppendInt(nil, 0xFB, -128), "fb8180"},
		{"int-129", AppendInt(nil, 0xFB, -129), "fb82ff7f"},
		{"int128", AppendInt(nil, 0xFB, 128), "fb820080"},
		{"intmin", AppendInt(nil, 0xFB, math.MinInt64), "fb888000000000000000"},
		{"float", AppendFloat(nil, 0x4489, 1000), "448988408f400000000000"},
		{"string", AppendString(nil, 0x4282, "webm"), "4282847765626d"},
		{"bytes", AppendBytes(nil, 0x63A2, []byte{1, 2, 3}), "63a283010203"},
		{"emptybytes", AppendBytes(nil, 0x63A2, nil), "63a280"},
		{"master", AppendMaster(nil, 0x1A45DFA3, 31), "1a45dfa39f"},
		{"masterunknown", AppendMaster(nil, 0x18538067, UnknownSize), "1853806701ffffffffffffff"},
		{"void2", AppendVoid(nil, 2), "ec80"},
		{"void3", AppendVoid(nil, 3), "ec8100"},
		{"void11", AppendVoid(nil, 11), "ec89000000000000000000"},
	}
	for _, c := range cases {
		if !bytes.Equal(c.got, h(c.want)) {
			t.Errorf("%s: got %x, want %s", c.name, c.got, c.want)
		}
	}
}

func TestAppendVoidLengths(t *testing.T) {
	lengths := []int{16382, 16383, 16384, 16385, 16386, 1<<21 - 1, 1 << 21, 1<<21 + 1, 1<<21 + 2}
	for n := 2; n < 300; n++ {
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		b := AppendVoid(nil, n)
		if len(b) != n {
			t.Fatalf("AppendVoid(%d) wrote %d bytes", n, len(b))
		}
		id, size, hl, err := ReadElementHeader(b)
		if err != nil || id != IDVoid || uint64(hl)+size != uint64(n) {
			t.Fatalf("AppendVoid(%d) = %x...: id %x size %d hdr %d err %v", n, b[:hl], id, size, hl, err)
		}
	}
}

func TestUintLen(t *testing.T) {
	for _, c := range []struct {
		v uint64
		n int
	}{{0, 1}, {255, 1}, {256, 2}, {1<<16 - 1, 2}, {1 << 16, 3}, {1 << 56, 8}, {math.MaxUint64, 8}} {
		if got := UintLen(c.v); got != c.n {
			t.Errorf("UintLen(%d) = %d, want %d", c.v, got, c.n)
		}
		b := AppendUint(nil, 0x81, c.v)
		v, err := ReadUint(b[2:])
		if err != nil || v != c.v {
			t.Errorf("ReadUint(%x) = %d, %v", b[2:], v, err)
		}
	}
}

var readCases = []struct {
	name string
	in   string
	id   uint32
	size uint64
	hdr  int
	err  error
}{
	{"ebml", "1a45dfa39f", 0x1A45DFA3, 31, 5, nil},
	{"segment unknown", "1853806701ffffffffffffff", 0x18538067, UnknownSize, 12, nil},
	{"cluster unknown 1", "1f43b675ff", 0x1F43B675, UnknownSize, 5, nil},
	{"simpleblock", "a3408a", 0xA3, 138, 3, nil},
	{"void", "ec80", 0xEC, 0, 2, nil},
	{"bf valid", "bf81", 0xBF, 1, 2, nil},
	{"407f shortest", "407f81", 0x407F, 1, 3, nil},
	{"empty", "", 0, 0, 0, ErrShort},
	{"short id", "1a45", 0, 0, 0, ErrShort},
	{"no size", "a3", 0, 0, 0, ErrShort},
	{"short size", "a340", 0, 0, 0, ErrShort},
	{"id zero byte", "00", 0, 0, 0, ErrInvalidID},
	{"id 5 bytes", "0800000001", 0, 0, 0, ErrInvalidID},
	{"id all ones", "ff81", 0, 0, 0, ErrInvalidID},
	{"id all zeros", "8081", 0, 0, 0, ErrInvalidID},
	{"id not shortest", "403f81", 0, 0, 0, ErrInvalidID},
	{"size zero byte", "a300", 0, 0, 0, ErrInvalidVint},
}

func TestReadElementHeader(t *testing.T) {
	for _, c := range readCases {
		id, size, hdr, err := ReadElementHeader(h(c.in))
		if err != c.err || id != c.id || size != c.size || hdr != c.hdr {
			t.Errorf("%s: ReadElementHeader(%s) = %x, %d, %d, %v; want %x, %d, %d, %v",
				c.name, c.in, id, size, hdr, err, c.id, c.size, c.hdr, c.err)
		}
	}
}

func TestReadVint(t *testing.T) {
	cases := []struct {
		in  string
		v   uint64
		n   int
		err error
	}{
		{"81", 1, 1, nil},
		{"ff", 127, 1, nil},
		{"4001", 1, 2, nil},
		{"0100000000000001", 1, 8, nil},
		{"01ffffffffffffff", 1<<56 - 1, 8, nil},
		{"", 0, 0, ErrShort},
		{"00", 0, 0, ErrInvalidVint},
		{"01ff", 0, 0, ErrShort},
	}
	for _, c := range cases {
		v, n, err := ReadVint(h(c.in))
		if v != c.v || n != c.n || err != c.err {
			t.Errorf("ReadVint(%s) = %d, %d, %v; want %d, %d, %v", c.in, v, n, err, c.v, c.n, c.err)
		}
	}
}

func TestReadFloat(t *testing.T) {
	for _, f := range []float64{0, 1, -2.5, 48000, math.Inf(1)} {
		b := AppendFloat(nil, 0xB5, f)
		got, err := ReadFloat(b[2:])
		if err != nil || got != f {
			t.Errorf("ReadFloat(%x) = %v, %v; want %v", b[2:], got, err, f)
		}
	}
	if got, err := ReadFloat(h("473b8000")); err != nil || got != 48000 {
		t.Errorf("ReadFloat(4 bytes) = %v, %v", got, err)
	}
	if got, err := ReadFloat(nil); err != nil || got != 0 {
		t.Errorf("ReadFloat(empty) = %v, %v", got, err)
	}
	if _, err := ReadFloat([]byte{1, 2}); err != ErrInvalidLength {
		t.Errorf("ReadFloat(2 bytes) err = %v", err)
	}
	if _, err := ReadUint(make([]byte, 9)); err != ErrInvalidLength {
		t.Errorf("ReadUint(9 bytes) err = %v", err)
	}
}

func TestAppendNoAlloc(t *testing.T) {
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		b := buf[:0]
		b = AppendMaster(b, 0xA3, 1000)
		b = AppendUint(b, 0xE7, 123456)
		b = AppendFloat(b, 0x4489, 1.5)
		b = AppendString(b, 0x86, "V_VP8")
		b = AppendSizeN(b, 42, 8)
		_ = b
	})
	if allocs != 0 {
		t.Errorf("append functions allocate: %v allocs/run", allocs)
	}
}

// seeds returns fuzz seeds: the table cases plus a small real element tree.
func seeds() [][]byte {
	var out [][]byte
	for _, c := range readCases {
		out = append(out, h(c.in))
	}
	for _, c := range sizeCases {
		out = append(out, AppendSize([]byte{0xA3}, c.size))
	}
	tree := AppendMaster(nil, 0x1A45DFA3, 0)
	tree = AppendUint(tree, 0x4286, 1)
	tree = AppendString(tree, 0x4282, "webm")
	return append(out, tree, UnknownSize8[:])
}

func FuzzReadElementHeader(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		id, size, hdr, err := ReadElementHeader(b)
		if err != nil {
			return
		}
		if hdr < 2 || hdr > 12 || hdr > len(b) {
			t.Fatalf("header length %d for %x", hdr, b)
		}
		// Re-encoding gives the same ID; a known size round-trips through
		// a size field of the same width.
		idLen := IDLen(id)
		if !bytes.Equal(AppendID(nil, id), b[:idLen]) {
			t.Fatalf("id %x does not re-encode to %x", id, b[:idLen])
		}
		if size != UnknownSize {
			if enc := AppendSizeN(nil, size, hdr-idLen); !bytes.Equal(enc, b[idLen:hdr]) {
				t.Fatalf("size %d re-encodes to %x, read from %x", size, enc, b[idLen:hdr])
			}
		}
	})
}

func FuzzReadVint(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := ReadVint(b)
		if err != nil {
			return
		}
		if n < 1 || n > 8 || n > len(b) || v >= 1<<(7*n) {
			t.Fatalf("ReadVint(%x) = %d, %d", b, v, n)
		}
		if v < 1<<(7*n)-1 && !bytes.Equal(AppendSizeN(nil, v, n), b[:n]) {
			t.Fatalf("ReadVint(%x) = %d does not re-encode", b, v)
		}
		size, m, err := ReadSize(b)
		if err != nil || m != n || (size != v && size != UnknownSize) {
			t.Fatalf("ReadSize(%x) = %d, %d, %v", b, size, m, err)
		}
		_, _, _ = ReadID(b)
		_, _ = ReadUint(b)
		_, _ = ReadFloat(b)
	})
}
