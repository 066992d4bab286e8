package mediatest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// buildWAV returns a WAV file: a RIFF header, then the given chunks (id and
// body), each padded to an even size.
func buildWAV(chunks ...string) []byte {
	var body []byte
	body = append(body, "WAVE"...)
	for i := 0; i+1 < len(chunks); i += 2 {
		body = append(body, chunks[i]...)
		body = binary.LittleEndian.AppendUint32(body, uint32(len(chunks[i+1])))
		body = append(body, chunks[i+1]...)
		if len(chunks[i+1])%2 == 1 {
			body = append(body, 0)
		}
	}
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	return append(b, body...)
}

// fmtPCM returns the body of a PCM "fmt " chunk.
func fmtPCM(format uint16, channels, rate, bits int) string {
	b := binary.LittleEndian.AppendUint16(nil, format)
	b = binary.LittleEndian.AppendUint16(b, uint16(channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*channels*bits/8))
	b = binary.LittleEndian.AppendUint16(b, uint16(channels*bits/8))
	b = binary.LittleEndian.AppendUint16(b, uint16(bits))
	return string(b)
}

// fmtExtensible returns the body of a WAVE_FORMAT_EXTENSIBLE "fmt " chunk
// whose subformat GUID starts with sub.
func fmtExtensible(sub uint16, channels, rate int) string {
	b := []byte(fmtPCM(wavFormatExtensible, channels, rate, 16))
	b = binary.LittleEndian.AppendUint16(b, 22)  // cbSize
	b = binary.LittleEndian.AppendUint16(b, 16)  // valid bits
	b = binary.LittleEndian.AppendUint32(b, 0x4) // channel mask
	b = binary.LittleEndian.AppendUint16(b, sub) // subformat
	return string(append(b, pcmSubformatTail...))
}

func TestParseWAV(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want WAV
	}{
		{"pcm mono", buildWAV("fmt ", fmtPCM(1, 1, 8000, 16), "data", "\x01\x02\x03\x04"),
			WAV{Channels: 1, SampleRate: 8000, BitsPerSample: 16, Data: []byte{1, 2, 3, 4}}},
		{"odd chunk before data", buildWAV("fmt ", fmtPCM(1, 2, 48000, 16), "LIST", "abc", "data", "\x01\x02\x03\x04"),
			WAV{Channels: 2, SampleRate: 48000, BitsPerSample: 16, Data: []byte{1, 2, 3, 4}}},
		{"extensible", buildWAV("fmt ", fmtExtensible(1, 1, 44100), "data", "\x01\x02"),
			WAV{Channels: 1, SampleRate: 44100, BitsPerSample: 16, Data: []byte{1, 2}}},
		{"empty data", buildWAV("fmt ", fmtPCM(1, 1, 8000, 16), "data", ""),
			WAV{Channels: 1, SampleRate: 8000, BitsPerSample: 16, Data: []byte{}}},
	}
	// A streamed file: data size 0xFFFFFFFF runs to the end.
	streamed := buildWAV("fmt ", fmtPCM(1, 1, 8000, 16), "data", "\x01\x02")
	binary.LittleEndian.PutUint32(streamed[len(streamed)-6:], 0xFFFFFFFF)
	tests = append(tests, struct {
		name string
		data []byte
		want WAV
	}{"streamed", streamed, WAV{Channels: 1, SampleRate: 8000, BitsPerSample: 16, Data: []byte{1, 2}}})

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseWAV(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

var wavErrorCases = []struct {
	name string
	data []byte
}{
	{"empty", nil},
	{"not RIFF", []byte("RIFX\x00\x00\x00\x00WAVE")},
	{"not WAVE", buildWAV()[:8]},
	{"no chunks", buildWAV()},
	{"no data chunk", buildWAV("fmt ", fmtPCM(1, 1, 8000, 16))},
	{"data before fmt", buildWAV("data", "\x01\x02", "fmt ", fmtPCM(1, 1, 8000, 16))},
	{"short fmt", buildWAV("fmt ", "\x01\x00\x01\x00", "data", "")},
	{"8-bit", buildWAV("fmt ", fmtPCM(1, 1, 8000, 8), "data", "\x01")},
	{"24-bit", buildWAV("fmt ", fmtPCM(1, 1, 8000, 24), "data", "\x01\x02\x03")},
	{"float", buildWAV("fmt ", fmtPCM(3, 1, 8000, 16), "data", "")},
	{"zero channels", buildWAV("fmt ", fmtPCM(1, 0, 8000, 16), "data", "")},
	{"zero rate", buildWAV("fmt ", fmtPCM(1, 1, 0, 16), "data", "")},
	{"extensible float", buildWAV("fmt ", fmtExtensible(3, 1, 8000), "data", "")},
	{"extensible short", buildWAV("fmt ", fmtPCM(wavFormatExtensible, 1, 8000, 16), "data", "")},
	{"partial frame", buildWAV("fmt ", fmtPCM(1, 2, 8000, 16), "data", "\x01\x02")},
	{"truncated data", buildWAV("fmt ", fmtPCM(1, 1, 8000, 16), "data", "\x01\x02\x03\x04")[:46]},
}

func TestParseWAVErrors(t *testing.T) {
	for _, tc := range wavErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			if w, err := parseWAV(tc.data); !errors.Is(err, ErrInvalidWAV) {
				t.Errorf("got %v, %v; want ErrInvalidWAV", w, err)
			}
		})
	}
	if _, err := ReadWAV("no/such/file.wav"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestReadWAVMatchesFFmpeg checks ReadWAV against ffmpeg's own reading of
// WAV files: the committed mono file and a 3-channel file, which ffmpeg
// writes as WAVE_FORMAT_EXTENSIBLE.
func TestReadWAVMatchesFFmpeg(t *testing.T) {
	ffmpeg := RequireTool(t, "ffmpeg")
	three := filepath.Join(t.TempDir(), "three.wav")
	out, err := execOutput(t, ffmpeg, "-nostdin", "-v", "error", "-f", "lavfi",
		"-i", "sine=frequency=1000:sample_rate=16000:duration=0.1", "-ac", "3",
		"-c:a", "pcm_s16le", three)
	if err != nil || len(out) > 0 {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	for _, tc := range []struct {
		path           string
		channels, rate int
	}{
		{Testdata(t, "pcm.wav"), 1, 48000},
		{three, 3, 16000},
	} {
		w, err := ReadWAV(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if w.Channels != tc.channels || w.SampleRate != tc.rate || w.BitsPerSample != 16 {
			t.Errorf("%s: %d ch, %d Hz, %d bits; want %d ch, %d Hz, 16 bits",
				tc.path, w.Channels, w.SampleRate, w.BitsPerSample, tc.channels, tc.rate)
		}
		raw, err := execOutput(t, ffmpeg, "-nostdin", "-v", "error", "-i", tc.path, "-f", "s16le", "-")
		if err != nil {
			t.Fatalf("ffmpeg: %v", err)
		}
		if !bytes.Equal(w.Data, raw) {
			t.Errorf("%s: ReadWAV gave %d bytes, ffmpeg %d, or their samples differ", tc.path, len(w.Data), len(raw))
		}
	}
}

func FuzzParseWAV(f *testing.F) {
	f.Add(buildWAV("fmt ", fmtPCM(1, 2, 48000, 16), "LIST", "abc", "data", "\x01\x02\x03\x04"))
	f.Add(buildWAV("fmt ", fmtExtensible(1, 1, 44100), "data", "\x01\x02"))
	for _, tc := range wavErrorCases {
		f.Add(tc.data)
	}
	if b, err := os.ReadFile("../../testdata/pcm.wav"); err == nil {
		f.Add(b[:min(len(b), 1024)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := parseWAV(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidWAV) {
				t.Fatalf("error %v does not wrap ErrInvalidWAV", err)
			}
			return
		}
		if w.BitsPerSample != 16 || w.Channels < 1 || w.SampleRate < 1 || len(w.Data)%(2*w.Channels) != 0 {
			t.Fatalf("accepted %d ch, %d Hz, %d bits, %d bytes", w.Channels, w.SampleRate, w.BitsPerSample, len(w.Data))
		}
	})
}

func ExampleReadWAV() {
	w, err := ReadWAV("../../testdata/pcm.wav")
	if err != nil {
		fmt.Println(err)
		return
	}
	seconds := float64(len(w.Data)) / float64(w.Channels*w.BitsPerSample/8*w.SampleRate)
	fmt.Printf("%d ch, %d Hz, %d bits, %.1f s\n", w.Channels, w.SampleRate, w.BitsPerSample, seconds)
	// Output:
	// 1 ch, 48000 Hz, 16 bits, 2.0 s
}
