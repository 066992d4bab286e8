package mediatest

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
)

// MP4Box returns the body of the first box of type typ (a four-character
// code such as "avcC") in the MP4 file at path. It finds the box by
// searching the file for typ, a shortcut that suits the small files ffmpeg
// writes in tests, where a codec configuration box's type appears nowhere
// before the box itself. The test fails at once when the file cannot be
// read, typ is not found or the box's size runs past the end of the file.
func MP4Box(t testing.TB, path, typ string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("mediatest: %v", err)
		return nil
	}
	body, ok := mp4Box(data, typ)
	if !ok {
		t.Fatalf("mediatest: no whole %q box in %s", typ, path)
	}
	return body
}

// mp4Box returns the body of the box whose type is the first occurrence of
// typ in data.
func mp4Box(data []byte, typ string) ([]byte, bool) {
	i := bytes.Index(data, []byte(typ))
	if i < 4 {
		return nil, false
	}
	size := int64(binary.BigEndian.Uint32(data[i-4:]))
	if size < 8 || int64(i-4)+size > int64(len(data)) {
		return nil, false
	}
	return data[i+4 : i-4+int(size)], true
}
