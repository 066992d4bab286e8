package mediatest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"testing"
)

// ErrInvalidIVF is returned (wrapped) by ReadIVF for data that is not a
// well-formed IVF file.
var ErrInvalidIVF = errors.New("mediatest: invalid IVF file")

const (
	ivfHeaderSize      = 32
	ivfFrameHeaderSize = 12
)

// IVFHeader is the 32-byte header of an IVF file.
type IVFHeader struct {
	FourCC      string // "VP80", "VP90", "AV01", ...
	Width       uint16
	Height      uint16
	TimebaseDen uint32 // frame timestamps count in TimebaseNum/TimebaseDen seconds
	TimebaseNum uint32
	NumFrames   uint32 // as written by the muxer; ffmpeg stores the duration in frames here
}

// IVFFrame is one frame of an IVF file.
type IVFFrame struct {
	PTS  int64 // in the header's time base
	Data []byte
}

// ReadIVF reads the IVF file at path and returns its header and frames.
// Each frame's Data is a capacity-limited slice of one buffer holding the
// file. A truncated or malformed file gives an error wrapping ErrInvalidIVF.
func ReadIVF(path string) (IVFHeader, []IVFFrame, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return IVFHeader{}, nil, err
	}
	return parseIVF(data)
}

// parseIVF parses a whole IVF file held in data.
func parseIVF(data []byte) (IVFHeader, []IVFFrame, error) {
	if len(data) < ivfHeaderSize {
		return IVFHeader{}, nil, fmt.Errorf("%w: %d-byte file is shorter than the header", ErrInvalidIVF, len(data))
	}
	if string(data[0:4]) != "DKIF" {
		return IVFHeader{}, nil, fmt.Errorf("%w: signature %q, want \"DKIF\"", ErrInvalidIVF, data[0:4])
	}
	if v := binary.LittleEndian.Uint16(data[4:]); v != 0 {
		return IVFHeader{}, nil, fmt.Errorf("%w: version %d, want 0", ErrInvalidIVF, v)
	}
	hlen := int(binary.LittleEndian.Uint16(data[6:]))
	if hlen < ivfHeaderSize || hlen > len(data) {
		return IVFHeader{}, nil, fmt.Errorf("%w: header length %d", ErrInvalidIVF, hlen)
	}
	h := IVFHeader{
		FourCC:      string(data[8:12]),
		Width:       binary.LittleEndian.Uint16(data[12:]),
		Height:      binary.LittleEndian.Uint16(data[14:]),
		TimebaseDen: binary.LittleEndian.Uint32(data[16:]),
		TimebaseNum: binary.LittleEndian.Uint32(data[20:]),
		NumFrames:   binary.LittleEndian.Uint32(data[24:]),
	}
	var frames []IVFFrame
	for rest := data[hlen:]; len(rest) > 0; {
		if len(rest) < ivfFrameHeaderSize {
			return h, frames, fmt.Errorf("%w: frame %d: truncated frame header", ErrInvalidIVF, len(frames))
		}
		size := binary.LittleEndian.Uint32(rest)
		pts := int64(binary.LittleEndian.Uint64(rest[4:]))
		rest = rest[ivfFrameHeaderSize:]
		if uint64(size) > uint64(len(rest)) {
			return h, frames, fmt.Errorf("%w: frame %d: size %d, only %d bytes left", ErrInvalidIVF, len(frames), size, len(rest))
		}
		n := int(size)
		frames = append(frames, IVFFrame{PTS: pts, Data: rest[:n:n]})
		rest = rest[n:]
	}
	return h, frames, nil
}

// IVFFrames returns the data of each frame of the IVF file at path, read
// with ReadIVF. The test fails at once when the file cannot be read or is
// not a well-formed IVF file.
func IVFFrames(t testing.TB, path string) [][]byte {
	t.Helper()
	_, frames, err := ReadIVF(path)
	if err != nil {
		t.Fatalf("mediatest: %s: %v", path, err)
		return nil
	}
	data := make([][]byte, len(frames))
	for i, f := range frames {
		data[i] = f.Data
	}
	return data
}
