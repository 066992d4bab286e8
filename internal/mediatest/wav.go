package mediatest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

// ErrInvalidWAV is returned (wrapped) by ReadWAV for data that is not a
// well-formed 16-bit PCM WAV file.
var ErrInvalidWAV = errors.New("mediatest: invalid WAV file")

// WAV is the audio of a 16-bit PCM WAV file.
type WAV struct {
	Channels      int
	SampleRate    int
	BitsPerSample int    // always 16
	Data          []byte // interleaved little-endian samples
}

const (
	wavFormatPCM        = 0x0001
	wavFormatExtensible = 0xFFFE
)

// ReadWAV reads the RIFF/WAVE file at path. Only 16-bit integer PCM is
// accepted (format tag 1, or WAVE_FORMAT_EXTENSIBLE with the PCM
// subformat); anything else, or a truncated file, gives an error wrapping
// ErrInvalidWAV. A data chunk whose size is 0xFFFFFFFF (a streamed file)
// runs to the end of the file.
func ReadWAV(path string) (WAV, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return WAV{}, err
	}
	return parseWAV(data)
}

// pcmSubformatTail is the part of KSDATAFORMAT_SUBTYPE_PCM's GUID after its
// first 2 bytes (the format tag, 0x0001): the tail every WAVE subformat shares.
var pcmSubformatTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// parseWAV parses a whole WAV file held in data.
func parseWAV(data []byte) (WAV, error) {
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return WAV{}, fmt.Errorf("%w: no RIFF/WAVE header", ErrInvalidWAV)
	}
	var w WAV
	haveFmt := false
	for rest := data[12:]; ; {
		if len(rest) < 8 {
			return WAV{}, fmt.Errorf("%w: no data chunk", ErrInvalidWAV)
		}
		id := string(rest[0:4])
		size := uint64(binary.LittleEndian.Uint32(rest[4:]))
		rest = rest[8:]
		if id == "data" && size == 0xFFFFFFFF {
			size = uint64(len(rest))
		}
		if size > uint64(len(rest)) {
			return WAV{}, fmt.Errorf("%w: %q chunk of %d bytes, only %d left", ErrInvalidWAV, id, size, len(rest))
		}
		body := rest[:size:size]
		switch id {
		case "fmt ":
			if err := w.parseFmt(body); err != nil {
				return WAV{}, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return WAV{}, fmt.Errorf("%w: data chunk before fmt chunk", ErrInvalidWAV)
			}
			if frame := uint64(w.Channels * 2); size%frame != 0 {
				return WAV{}, fmt.Errorf("%w: data size %d is not a whole number of %d-byte frames", ErrInvalidWAV, size, frame)
			}
			w.Data = body
			return w, nil
		}
		// Chunks are padded to an even size.
		if size%2 == 1 && size < uint64(len(rest)) {
			size++
		}
		rest = rest[size:]
	}
}

// parseFmt fills w from the body of a "fmt " chunk.
func (w *WAV) parseFmt(b []byte) error {
	if len(b) < 16 {
		return fmt.Errorf("%w: fmt chunk of %d bytes", ErrInvalidWAV, len(b))
	}
	format := binary.LittleEndian.Uint16(b[0:])
	w.Channels = int(binary.LittleEndian.Uint16(b[2:]))
	w.SampleRate = int(binary.LittleEndian.Uint32(b[4:]))
	blockAlign := int(binary.LittleEndian.Uint16(b[12:]))
	w.BitsPerSample = int(binary.LittleEndian.Uint16(b[14:]))
	if format == wavFormatExtensible {
		// cbSize, wValidBitsPerSample, dwChannelMask, then the subformat GUID.
		if len(b) < 40 {
			return fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes", ErrInvalidWAV, len(b))
		}
		sub := b[24:40]
		if binary.LittleEndian.Uint16(sub) != wavFormatPCM || string(sub[2:]) != string(pcmSubformatTail) {
			return fmt.Errorf("%w: extensible subformat is not PCM", ErrInvalidWAV)
		}
		format = wavFormatPCM
	}
	switch {
	case format != wavFormatPCM:
		return fmt.Errorf("%w: format tag %#04x, want PCM", ErrInvalidWAV, format)
	case w.BitsPerSample != 16:
		return fmt.Errorf("%w: %d bits per sample, want 16", ErrInvalidWAV, w.BitsPerSample)
	case w.Channels < 1:
		return fmt.Errorf("%w: %d channels", ErrInvalidWAV, w.Channels)
	case w.SampleRate < 1:
		return fmt.Errorf("%w: sample rate %d", ErrInvalidWAV, w.SampleRate)
	case blockAlign != 2*w.Channels:
		return fmt.Errorf("%w: block align %d for %d channels", ErrInvalidWAV, blockAlign, w.Channels)
	}
	return nil
}
