package filesource

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/webm"
)

// head returns the first n bytes of the testdata file name.
func head(f *testing.F, name string, n int) []byte {
	b, err := os.ReadFile(mediatest.Testdata(f, name))
	if err != nil {
		f.Fatal(err)
	}
	return b[:min(n, len(b))]
}

// drainFuzz reads a source to its end, checking what can be checked of
// any input: no panic, no endless loop, sample data no larger than the
// input, durations not negative.
func drainFuzz(t *testing.T, src source, inputLen int) {
	for i := 0; ; i++ {
		s, err := src.next()
		if err != nil {
			if _, err2 := src.next(); err2 == nil {
				t.Fatalf("a sample after error %v", err)
			}
			return
		}
		if len(s.data) > inputLen {
			t.Fatalf("%d-byte sample from %d bytes", len(s.data), inputLen)
		}
		if i > inputLen {
			t.Fatalf("%d samples from %d bytes", i, inputLen)
		}
	}
}

func FuzzIVF(f *testing.F) {
	for _, name := range []string{"vp8.ivf", "vp9.ivf", "av1.ivf", "vp8-resize.ivf"} {
		f.Add(head(f, name, 2000))
	}
	f.Add(head(f, "vp8.ivf", 1<<30)) // the whole file: spans read-ahead chunks
	f.Add([]byte("DKIF"))
	f.Add([]byte("DKIF\x00\x00\x20\x00VP80\x40\x01\xf0\x00\x1e\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("DKIF\x00\x00\x40\x00AV01\x40\x01\xf0\x00\x1e\x00\x00\x00\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := openIVF(bytes.NewReader(data))
		// The same bytes read ahead in chunks (large files) must give
		// the same samples and the same error.
		pre := newPrefetcher(bytes.NewReader(data))
		defer pre.close()
		minfo, merr := openIVF(&prefetched{p: pre})
		if (err == nil) != (merr == nil) || (err != nil && err.Error() != merr.Error()) {
			t.Fatalf("read: %v; read ahead: %v", err, merr)
		}
		if err != nil {
			return
		}
		if len(info.codecs) != 1 {
			t.Fatalf("%d codecs", len(info.codecs))
		}
		for i := 0; ; i++ {
			a, aerr := info.src.next()
			b, berr := minfo.src.next()
			if (aerr == nil) != (berr == nil) || (aerr != nil && aerr.Error() != berr.Error()) {
				t.Fatalf("sample %d: read: %v; read ahead: %v", i, aerr, berr)
			}
			if aerr != nil {
				break
			}
			if a.pts != b.pts || a.dur != b.dur || !bytes.Equal(a.data, b.data) {
				t.Fatalf("sample %d differs: read %d bytes at %v, read ahead %d bytes at %v", i, len(a.data), a.pts, len(b.data), b.pts)
			}
		}
		info, _ = openIVF(bytes.NewReader(data))
		drainFuzz(t, info.src, len(data))
	})
}

func FuzzWAV(f *testing.F) {
	f.Add(head(f, "pcm.wav", 1000), int64(-1))
	f.Add(head(f, "pcm.wav", 1000), int64(192044))
	fmtChunk := func(tag uint16, bits uint16) []byte {
		b := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00")
		b = binary.LittleEndian.AppendUint16(b, tag)
		b = append(b, 1, 0, 0x80, 0xbb, 0, 0, 0, 0x77, 1, 0, 2, 0)
		b = binary.LittleEndian.AppendUint16(b, bits)
		return append(b, "data\x05\x00\x00\x00\x01\x02\x03\x04\x05"...)
	}
	f.Add(fmtChunk(1, 16), int64(-1))
	f.Add(fmtChunk(3, 32), int64(-1))
	f.Add(fmtChunk(0xfffe, 16), int64(-1))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVELIST\x01\x00\x00\x00a\x00"), int64(100))
	f.Fuzz(func(t *testing.T, data []byte, size int64) {
		info, err := openWAV(bytes.NewReader(data), size, 20*time.Millisecond)
		if err != nil {
			return
		}
		if info.hasDur && info.dur < 0 {
			t.Fatalf("duration %v", info.dur)
		}
		drainFuzz(t, info.src, len(data))
	})
}

func FuzzDetect(f *testing.F) {
	for _, name := range []string{"vp8.ivf", "opus-stereo.ogg", "h264.h264", "pcm.wav"} {
		f.Add(head(f, name, 64), name)
	}
	f.Add([]byte{0x1a, 0x45, 0xdf, 0xa3, 0x8b, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84, 'w', 'e', 'b', 'm'}, "x")
	f.Add([]byte{0x1a, 0x45, 0xdf, 0xa3, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x42, 0x82, 0x88, 'm', 'a', 't', 'r', 'o', 's', 'k', 'a'}, "x.mkv")
	f.Add([]byte{0x1a, 0x45, 0xdf, 0xa3, 0x10, 0x00, 0x00}, "x.webm")
	f.Add([]byte{0, 0, 0, 0, 1, 0x65}, "")
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"), "a.wav")
	f.Fuzz(func(t *testing.T, head []byte, name string) {
		fm, err := detect(head, name)
		if (err == nil) == (fm == "") {
			t.Fatalf("detect = %q, %v", fm, err)
		}
	})
}

func FuzzOgg(f *testing.F) {
	f.Add(head(f, "opus-stereo.ogg", 3000))
	f.Add(head(f, "opus-mono-60ms.ogg", 1000))
	f.Add(smallOggStream(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		info, err := openOgg(r, int64(len(data)))
		if err != nil {
			return
		}
		drainFuzz(t, info.src, len(data))
	})
}

// webmSeed writes a small WebM/Matroska file with webm.Writer: the first
// frames of vp8.ivf and h264.h264 (as avcC + length-prefixed NAL units)
// and a few Opus packets.
func webmSeed(f testing.TB, docType string) []byte {
	ivf, err := os.ReadFile(mediatest.Testdata(f, "vp8.ivf"))
	if err != nil {
		f.Fatal(err)
	}
	info, err := openIVF(bytes.NewReader(ivf))
	if err != nil {
		f.Fatal(err)
	}
	var vp8 [][]byte
	for range 3 {
		s, err := info.src.next()
		if err != nil {
			f.Fatal(err)
		}
		vp8 = append(vp8, append([]byte(nil), s.data[:min(len(s.data), 24)]...)) // small seeds fuzz faster
	}
	tracks := []webm.TrackEntry{
		{Number: 1, Type: webm.TrackTypeVideo, CodecID: "V_VP8", PixelWidth: 320, PixelHeight: 240},
		{Number: 2, Type: webm.TrackTypeAudio, CodecID: "A_OPUS", CodecDelay: 6500 * time.Microsecond, SamplingFrequency: 48000, Channels: 2},
	}
	var avc [][]byte
	if docType == "matroska" {
		hb, err := os.ReadFile(mediatest.Testdata(f, "h264.h264"))
		if err != nil {
			f.Fatal(err)
		}
		ai, err := openAnnexB(bytes.NewReader(hb), 30)
		if err != nil {
			f.Fatal(err)
		}
		var sps, pps [][]byte
		for i := range 2 {
			s, err := ai.src.next()
			if err != nil {
				f.Fatal(err)
			}
			if i == 0 {
				for n, rest := h264.NextNALU(s.data); n != nil; n, rest = h264.NextNALU(rest) {
					switch h264.NALUType(n) {
					case h264.NALUTypeSPS:
						sps = append(sps, append([]byte(nil), n...))
					case h264.NALUTypePPS:
						pps = append(pps, append([]byte(nil), n...))
					}
				}
			}
			var short []byte
			for n, rest := h264.NextNALU(s.data); n != nil; n, rest = h264.NextNALU(rest) {
				short = append(append(short, 0, 0, 0, 1), n[:min(len(n), 24)]...)
			}
			avc = append(avc, h264.AppendAVCC(nil, short))
		}
		rec, err := h264.AVCDecoderConfigurationRecord(sps, pps)
		if err != nil {
			f.Fatal(err)
		}
		tracks = append(tracks, webm.TrackEntry{Number: 3, Type: webm.TrackTypeVideo, CodecID: "V_MPEG4/ISO/AVC", CodecPrivate: rec, PixelWidth: 320, PixelHeight: 240})
	}
	head, _ := opus.DefaultHead(2, 48000).MarshalBinary()
	tracks[1].CodecPrivate = head
	var b bytes.Buffer
	w, err := webm.NewWriter(&b, webm.Options{DocType: docType, Tracks: tracks})
	if err != nil {
		f.Fatal(err)
	}
	for i := range 3 {
		ts := time.Duration(i) * time.Second / 30
		if err := w.WriteFrame(1, ts, i == 0, vp8[i]); err != nil {
			f.Fatal(err)
		}
		if err := w.WriteFrame(2, ts, true, []byte{0xfc, 0xff, 0xfe}); err != nil {
			f.Fatal(err)
		}
		if i < len(avc) {
			if err := w.WriteFrame(3, ts, i == 0, avc[i]); err != nil {
				f.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	return b.Bytes()
}

func FuzzWebM(f *testing.F) {
	f.Add(webmSeed(f, "webm"))
	f.Add(webmSeed(f, "matroska"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := openWebM(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(info.codecs) == 0 {
			t.Fatal("no tracks and no error")
		}
		drainFuzz(t, info.src, 2*len(data)+1<<16) // H.264 gains start codes and SPS/PPS
	})
}
