package mediatest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// box returns an MP4 box of type typ holding body.
func box(typ string, body ...byte) []byte {
	n := 8 + len(body)
	return append([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), typ[0], typ[1], typ[2], typ[3]}, body...)
}

func TestMP4BoxSynthetic(t *testing.T) {
	file := append(box("ftyp", 'i', 's', 'o', 'm'), box("moov", box("avcC", 1, 2, 3)...)...)
	for _, tt := range []struct {
		name string
		data []byte
		typ  string
		want []byte // nil: not found
	}{
		{"nested", file, "avcC", []byte{1, 2, 3}},
		{"outer", file, "moov", box("avcC", 1, 2, 3)},
		{"empty body", box("free"), "free", []byte{}},
		{"missing", file, "vpcC", nil},
		{"type at the start", []byte("avcC0000"), "avcC", nil},
		{"size past the end", file[:len(file)-1], "avcC", nil},
		{"size below 8", append([]byte{0, 0, 0, 7}, "avcC"...), "avcC", nil},
		{"largesize", append([]byte{0, 0, 0, 1}, "avcC00000000"...), "avcC", nil},
	} {
		got, ok := mp4Box(tt.data, tt.typ)
		if ok != (tt.want != nil) || !bytes.Equal(got, tt.want) {
			t.Errorf("%s: mp4Box = %x, %v; want %x", tt.name, got, ok, tt.want)
		}
	}

	path := filepath.Join(t.TempDir(), "file.mp4")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := MP4Box(t, path, "avcC"); !bytes.Equal(got, []byte{1, 2, 3}) {
		t.Errorf("MP4Box = %x", got)
	}
	for _, p := range []string{path, filepath.Join(t.TempDir(), "none.mp4")} {
		r := RunTB(t, func(tb testing.TB) { MP4Box(tb, p, "vpcC") })
		if len(r.Fatals) != 1 {
			t.Errorf("MP4Box(%s, vpcC): fatals %q, want one", p, r.Fatals)
		}
	}
}
