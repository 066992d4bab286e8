package bits_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/bits"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// op is one read of a test script: "bN" (ReadBits(N)), "f" (Flag), "ue",
// "se" or "uvlc".
type op string

// do performs o on r and returns what it read, as a number (a flag is 0 or
// 1, an se(v) value its int64).
func do(r *bits.Reader, o op) int64 {
	switch {
	case o == "f":
		if r.Flag() {
			return 1
		}
		return 0
	case o == "ue":
		return int64(r.UE())
	case o == "se":
		return int64(r.SE())
	case o == "uvlc":
		return int64(r.UVLC())
	case strings.HasPrefix(string(o), "b"):
		var n int
		if _, err := fmt.Sscan(string(o[1:]), &n); err != nil {
			panic(err)
		}
		return int64(r.ReadBits(n))
	}
	panic("bad op " + o)
}

// zeros returns the Bits field of n zero bits (n may exceed 64).
func zeros(n int) []string {
	var f []string
	for ; n > 32; n -= 32 {
		f = append(f, "0/32")
	}
	return append(f, fmt.Sprintf("0/%d", n))
}

var readerTests = []struct {
	name   string
	data   []byte
	ops    []op
	want   []int64
	err    error
	offset int // Offset after the ops
}{
	{"empty, nothing read", nil, nil, nil, nil, 0},
	{"zero width", nil, []op{"b0", "b0"}, []int64{0, 0}, nil, 0},
	{"whole bytes", []byte{0x12, 0x34, 0x56, 0x78, 0x9a}, []op{"b8", "b16", "b16"}, []int64{0x12, 0x3456, 0x789a}, nil, 40},
	{"across bytes", []byte{0b1010_1100, 0b0101_0011}, []op{"b3", "b7", "b6"}, []int64{0b101, 0b0110001, 0b010011}, nil, 16},
	{"32 bits unaligned", []byte{0xff, 0xff, 0xff, 0xff, 0xff}, []op{"b4", "b32", "b4"}, []int64{0xf, 0xffffffff, 0xf}, nil, 40},
	{"32 bits aligned", []byte{0xde, 0xad, 0xbe, 0xef}, []op{"b32"}, []int64{0xdeadbeef}, nil, 32},
	{"flags", []byte{0b1011_0000}, []op{"f", "f", "f", "f", "b4"}, []int64{1, 0, 1, 1, 0}, nil, 8},
	{"exactly to the end", []byte{0xab}, []op{"b5", "b3", "b0"}, []int64{0b10101, 0b011, 0}, nil, 8},

	// Errors are sticky: the reader moves to the end and reads 0 after.
	{"past the end", []byte{0xff, 0xff}, []op{"b4", "b13", "b4", "f"}, []int64{0xf, 0, 0, 0}, bits.ErrShort, 16},
	{"flag past the end", []byte{0xff}, []op{"b8", "f", "b0"}, []int64{0xff, 0, 0}, bits.ErrShort, 8},
	{"empty data", nil, []op{"f"}, []int64{0}, bits.ErrShort, 0},
	{"width 33", []byte{0xff, 0xff, 0xff, 0xff, 0xff}, []op{"b1", "b33", "b1"}, []int64{1, 0, 0}, bits.ErrOverflow, 40},
	{"negative width", []byte{0xff}, []op{"b-1", "b1"}, []int64{0, 0}, bits.ErrOverflow, 8},
	{"first error kept", []byte{0xff}, []op{"b9", "b40"}, []int64{0, 0}, bits.ErrShort, 8},

	// ue(v) and se(v): H.264 Table 9-2 and 9-3.
	{"ue", mediatest.Bits("1/1", "0b010/3", "0b011/3", "0b00100/5", "0b00111/5", "0b0001000/7", "1/1"),
		[]op{"ue", "ue", "ue", "ue", "ue", "ue", "f"}, []int64{0, 1, 2, 3, 6, 7, 1}, nil, 25},
	{"se", mediatest.Bits("1/1", "0b010/3", "0b011/3", "0b00100/5", "0b00101/5"),
		[]op{"se", "se", "se", "se", "se"}, []int64{0, 1, -1, 2, -2}, nil, 17},
	{"ue largest", mediatest.Bits(slices.Concat(zeros(31), []string{"1/1", "0x7fffffff/31"})...),
		[]op{"ue"}, []int64{1<<32 - 2}, nil, 63},
	{"se largest", mediatest.Bits(slices.Concat(zeros(31), []string{"1/1", "0x7ffffffe/31"},
		zeros(31), []string{"1/1", "0x7fffffff/31"})...),
		[]op{"se", "se"}, []int64{1<<31 - 1, -(1<<31 - 1)}, nil, 126},
	{"ue 32 zeros", mediatest.Bits(slices.Concat(zeros(32), []string{"1/1", "0/32"})...),
		[]op{"ue", "f"}, []int64{0, 0}, bits.ErrOverflow, 72},
	{"ue zeros to the end", []byte{0, 0}, []op{"ue"}, []int64{0}, bits.ErrShort, 16},
	{"ue value cut short", mediatest.Bits("0b00001/5", "7/3"), []op{"ue"}, []int64{0}, bits.ErrShort, 8},
	{"se after error", []byte{0}, []op{"b9", "se"}, []int64{0, 0}, bits.ErrShort, 8},

	// uvlc(): 32 or more leading zeros give 2^32-1 and no value bits.
	{"uvlc", mediatest.Bits("1/1", "0b010/3", "0b011/3", "0b0001111/7"), []op{"uvlc", "uvlc", "uvlc", "uvlc"}, []int64{0, 1, 2, 14}, nil, 14},
	{"uvlc 31 zeros", mediatest.Bits(slices.Concat(zeros(31), []string{"1/1", "0x7fffffff/31"})...),
		[]op{"uvlc"}, []int64{1<<32 - 2}, nil, 63},
	{"uvlc 32 zeros", mediatest.Bits(slices.Concat(zeros(32), []string{"1/1", "1/1"})...),
		[]op{"uvlc", "f"}, []int64{1<<32 - 1, 1}, nil, 34},
	{"uvlc 70 zeros", mediatest.Bits(slices.Concat(zeros(70), []string{"1/1", "0/1"})...),
		[]op{"uvlc", "f"}, []int64{1<<32 - 1, 0}, nil, 72},
	{"uvlc zeros to the end", []byte{0, 0, 0, 0, 0}, []op{"uvlc"}, []int64{0}, bits.ErrShort, 40},
	{"uvlc value cut short", mediatest.Bits("0b00001/5", "7/3"), []op{"uvlc"}, []int64{0}, bits.ErrShort, 8},
}

func TestReader(t *testing.T) {
	for _, tt := range readerTests {
		t.Run(tt.name, func(t *testing.T) {
			r := bits.NewReader(tt.data)
			var got []int64
			for _, o := range tt.ops {
				got = append(got, do(&r, o))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("read %v, want %v", got, tt.want)
			}
			if err := r.Err(); err != tt.err {
				t.Errorf("Err() = %v, want %v", err, tt.err)
			}
			if r.Offset() != tt.offset {
				t.Errorf("Offset() = %d, want %d", r.Offset(), tt.offset)
			}
		})
	}
}

func TestZeroReader(t *testing.T) {
	var r bits.Reader
	if r.Err() != nil || r.Offset() != 0 || r.ReadBits(0) != 0 || r.Err() != nil {
		t.Fatalf("zero Reader: Err %v, Offset %d", r.Err(), r.Offset())
	}
	if r.UE() != 0 || !errors.Is(r.Err(), bits.ErrShort) || r.Offset() != 0 {
		t.Errorf("zero Reader after UE: Err %v, Offset %d", r.Err(), r.Offset())
	}
}

func TestNoAllocs(t *testing.T) {
	data := mediatest.Bits("0x12345678/32", "0b00101/5", "1/1", "0b0001010/7")
	if n := testing.AllocsPerRun(100, func() {
		r := bits.NewReader(data)
		r.ReadBits(32)
		r.SE()
		r.Flag()
		r.UVLC()
		r.ReadBits(32)
		_ = r.Err()
	}); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}

// refReader is a plain model of Reader, one bit at a time, for FuzzReader.
type refReader struct {
	data []byte
	pos  int
	err  error
}

func (r *refReader) fail(err error) int64 {
	if r.err == nil {
		r.err = err
	}
	r.pos = len(r.data) * 8
	return 0
}

// bit returns the next bit, or -1 at the end.
func (r *refReader) bit() int64 {
	if r.err != nil || r.pos >= len(r.data)*8 {
		return -1
	}
	b := int64(r.data[r.pos/8] >> (7 - r.pos%8) & 1)
	r.pos++
	return b
}

func (r *refReader) read(n int) int64 {
	if n < 0 || n > 32 {
		return r.fail(bits.ErrOverflow)
	}
	if r.err != nil || n > len(r.data)*8-r.pos {
		return r.fail(bits.ErrShort)
	}
	var v int64
	for range n {
		v = v<<1 | r.bit()
	}
	return v
}

// zeros reads leading zero bits and the 1 after them, stopping after max
// zeros; it returns -1 at the end of the data.
func (r *refReader) zeros(max int) int {
	n := 0
	for n < max {
		switch r.bit() {
		case -1:
			return -1
		case 1:
			return n
		}
		n++
	}
	return n
}

func (r *refReader) ue() int64 {
	n := r.zeros(32)
	switch {
	case n < 0:
		return r.fail(bits.ErrShort)
	case n == 32:
		return r.fail(bits.ErrOverflow)
	}
	v := r.read(n)
	if r.err != nil {
		return 0
	}
	return 1<<n - 1 + v
}

func (r *refReader) do(o op) int64 {
	switch {
	case o == "f":
		if b := r.bit(); b >= 0 {
			return b
		}
		return r.fail(bits.ErrShort)
	case o == "ue":
		return r.ue()
	case o == "se":
		k := r.ue()
		if k%2 == 1 {
			return (k + 1) / 2
		}
		return -k / 2
	case o == "uvlc":
		n := r.zeros(1 << 30)
		switch {
		case n < 0:
			return r.fail(bits.ErrShort)
		case n >= 32:
			return 1<<32 - 1
		}
		v := r.read(n)
		if r.err != nil {
			return 0
		}
		return 1<<n - 1 + v
	}
	var n int
	fmt.Sscan(string(o[1:]), &n)
	return r.read(n)
}

// script turns fuzz bytes into ops.
func script(b []byte) []op {
	var ops []op
	for i := 0; i < len(b); i++ {
		switch b[i] % 5 {
		case 0:
			n := 0
			if i+1 < len(b) {
				i++
				n = int(b[i]%40) - 3 // -3 to 36
			}
			ops = append(ops, op(fmt.Sprintf("b%d", n)))
		case 1:
			ops = append(ops, "f")
		case 2:
			ops = append(ops, "ue")
		case 3:
			ops = append(ops, "se")
		case 4:
			ops = append(ops, "uvlc")
		}
	}
	return ops
}

// unscript turns ops back into fuzz bytes.
func unscript(ops []op) []byte {
	var b []byte
	for _, o := range ops {
		switch o {
		case "f":
			b = append(b, 1)
		case "ue":
			b = append(b, 2)
		case "se":
			b = append(b, 3)
		case "uvlc":
			b = append(b, 4)
		default:
			var n int
			fmt.Sscan(string(o[1:]), &n)
			b = append(b, 0, byte(n+3))
		}
	}
	return b
}

// FuzzReader checks Reader against refReader on arbitrary data and read
// scripts.
func FuzzReader(f *testing.F) {
	for _, tt := range readerTests {
		f.Add(tt.data, unscript(tt.ops))
	}
	// Real headers: an H.264 SPS (libx264, 636x358, from codecs/h264) read
	// as its fields start, and a VP9 key frame header (codecs/vp9).
	f.Add([]byte{0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f, 0xee, 0x6f, 0xfc, 0x16, 0x60},
		unscript([]op{"b8", "b8", "b8", "ue", "ue", "ue", "ue", "f", "f", "ue", "ue", "ue", "ue", "f", "ue", "ue", "f", "f", "f"}))
	f.Add([]byte{0x82, 0x49, 0x83, 0x42, 0x00, 0x13, 0xf0, 0x0b, 0x36, 0x06, 0x38, 0x24},
		unscript([]op{"b2", "f", "f", "f", "f", "f", "f", "b8", "b8", "b8", "b3", "f", "b16", "b16", "f"}))
	f.Fuzz(func(t *testing.T, data, prog []byte) {
		r := bits.NewReader(data)
		ref := refReader{data: data}
		for i, o := range script(prog) {
			got, want := do(&r, o), ref.do(o)
			if got != want || r.Err() != ref.err || r.Offset() != ref.pos {
				t.Fatalf("op %d %s: got %d, Err %v, Offset %d; want %d, %v, %d",
					i, o, got, r.Err(), r.Offset(), want, ref.err, ref.pos)
			}
		}
	})
}

func Example() {
	// An H.264 SPS starts profile_idc u(8), constraint flags u(8),
	// level_idc u(8), seq_parameter_set_id ue(v).
	r := bits.NewReader([]byte{0x64, 0x00, 0x1f, 0xac})
	profile, _, level := r.ReadBits(8), r.ReadBits(8), r.ReadBits(8)
	id := r.UE()
	fmt.Println(profile, level, id, r.Err())
	r.ReadBits(8) // past the end
	fmt.Println(r.ReadBits(1), r.Err())
	// Output:
	// 100 31 0 <nil>
	// 0 bits: read past the end of the data
}

// benchData holds Exp-Golomb codes of the sizes an SPS has: mostly 1 to 7
// bits, a few of 9 to 13.
var benchData = mediatest.Bits(slices.Concat(
	[]string{"0x64/8", "0/8", "0x1f/8", "1/1", "0b011/3", "0b00101/5", "0b0001000/7", "1/1", "0b010/3"},
	[]string{"0b0000100111/10", "0b00000101101/11", "1/1", "1/1", "0b00111/5", "0x12345678/32", "0x9abc/16"},
)...)

func BenchmarkReader(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		r := bits.NewReader(benchData)
		r.ReadBits(8)
		r.ReadBits(8)
		r.ReadBits(8)
		for range 6 {
			r.UE()
		}
		r.SE()
		r.SE()
		r.Flag()
		r.Flag()
		r.UVLC()
		r.ReadBits(32)
		r.ReadBits(16)
		if r.Err() != nil {
			b.Fatal(r.Err())
		}
	}
}
