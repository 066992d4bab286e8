package mediarecorder

import (
	"errors"
	"image"
	"image/color"
	"testing"
)

func TestFrameFromImage(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 3, 3)) // odd sizes: chroma of partial blocks
	for y := range 3 {
		for x := range 3 {
			img.Set(x, y, color.RGBA{255, 255, 255, 255})
		}
	}
	img.Set(0, 0, color.RGBA{0, 0, 0, 255})
	f, err := FrameFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	if f.Width != 3 || f.Height != 3 || len(f.Planes[0]) != 9 || len(f.Planes[1]) != 4 || len(f.Planes[2]) != 4 {
		t.Fatalf("frame %dx%d planes %d %d %d", f.Width, f.Height, len(f.Planes[0]), len(f.Planes[1]), len(f.Planes[2]))
	}
	// BT.601 limited range: black 16, white 235, grey chroma 128.
	if f.Planes[0][0] != 16 || f.Planes[0][1] != 235 || f.Planes[1][3] != 128 || f.Planes[2][3] != 128 {
		t.Errorf("Y %v U %v V %v", f.Planes[0], f.Planes[1], f.Planes[2])
	}
	if _, err := f.check(); err != nil {
		t.Errorf("check: %v", err)
	}
	yc := image.NewYCbCr(image.Rect(0, 0, 4, 2), image.YCbCrSubsampleRatio420)
	for i := range yc.Y {
		yc.Y[i] = byte(i)
	}
	yc.Cb[1], yc.Cr[1] = 7, 9
	f, err = FrameFromImage(yc)
	if err != nil {
		t.Fatal(err)
	}
	if f.Planes[0][5] != 5 || f.Planes[1][1] != 7 || f.Planes[2][1] != 9 {
		t.Errorf("YCbCr copy: Y %v U %v V %v", f.Planes[0], f.Planes[1], f.Planes[2])
	}
	if _, err := FrameFromImage(image.NewRGBA(image.Rect(0, 0, 0, 5))); !errors.Is(err, ErrBadFrame) {
		t.Errorf("empty image: %v", err)
	}
}

func TestNV12ToI420(t *testing.T) {
	f := VideoFrame{Format: PixelNV12, Width: 3, Height: 2, Strides: [3]int{4, 6},
		Planes: [3][]byte{{1, 2, 3, 0, 4, 5, 6}, {10, 20, 30, 40}}}
	f, err := f.check()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := f.toI420(nil)
	if string(out.Planes[0]) != "\x01\x02\x03\x04\x05\x06" || string(out.Planes[1]) != "\x0a\x1e" || string(out.Planes[2]) != "\x14\x28" {
		t.Errorf("I420 %v", out.Planes)
	}
}

func TestResampler(t *testing.T) {
	// A DC level survives every ratio; a stream's length scales by the ratio.
	for _, r := range [][2]int{{44100, 48000}, {8000, 48000}, {96000, 48000}, {47999, 48000}, {48000, 48000}} {
		rs := newResampler(r[0], r[1], 2)
		in := make([]float32, 2*(r[0]/10))
		for i := range in {
			in[i] = 0.5
		}
		var out []float32
		for range 3 {
			out = append(out, rs.process(in)...)
		}
		want := 2 * int(int64(3*(r[0]/10))*int64(r[1])/int64(r[0]))
		if n := len(out); n > want || n < want-2*(rs.taps+1)*max(1, r[1]/r[0]) {
			t.Errorf("%v: %d samples out of 0.3 s, want about %d", r, n, want)
		}
		for i := 2 * 64; i < len(out); i++ {
			if d := out[i] - 0.5; d > 1e-3 || d < -1e-3 {
				t.Fatalf("%v: sample %d = %v, want 0.5", r, i, out[i])
			}
		}
	}
}

// FuzzVideoFrame: whatever a producer passes as a frame, check either
// rejects it with ErrBadFrame or accepts one that toI420 can read.
func FuzzVideoFrame(f *testing.F) {
	f.Add(uint8(1), uint16(4), uint16(2), uint16(0), uint16(0), uint16(0), uint16(8), uint16(2), uint16(2))
	f.Add(uint8(2), uint16(3), uint16(3), uint16(4), uint16(4), uint16(0), uint16(12), uint16(8), uint16(0))
	f.Add(uint8(2), uint16(1), uint16(1), uint16(0), uint16(0), uint16(0), uint16(1), uint16(2), uint16(0))
	f.Fuzz(func(t *testing.T, format uint8, w, h, s0, s1, s2, n0, n1, n2 uint16) {
		fr := VideoFrame{Format: PixelFormat(format % 4), Width: int(w % 300), Height: int(h % 300),
			Strides: [3]int{int(s0 % 700), int(s1 % 700), int(s2 % 700)},
			Planes:  [3][]byte{make([]byte, n0), make([]byte, n1), make([]byte, n2)}}
		got, err := fr.check()
		if err != nil {
			if !errors.Is(err, ErrBadFrame) {
				t.Fatalf("error %v does not wrap ErrBadFrame", err)
			}
			return
		}
		out, _ := got.toI420(nil)
		if _, err := out.check(); err != nil || out.Format != PixelI420 {
			t.Fatalf("converted frame: %v", err)
		}
	})
}

// FuzzResampler: any pair of the rates AudioTrack takes, any samples, any
// chunking: no panic, and output in proportion to the input.
func FuzzResampler(f *testing.F) {
	f.Add(uint32(44100), uint32(48000), uint8(2), uint16(441), []byte{1, 2, 3, 4})
	f.Add(uint32(8000), uint32(48000), uint8(1), uint16(1), []byte{0xff})
	f.Add(uint32(192000), uint32(48000), uint8(2), uint16(7), []byte{0x80, 0x7f})
	f.Fuzz(func(t *testing.T, in, out uint32, ch uint8, chunk uint16, data []byte) {
		inRate := int(in%(maxAudioRate-minAudioRate+1)) + minAudioRate
		outRate := []int{48000, 16000, 24000}[out%3]
		channels := int(ch%2) + 1
		rs := newResampler(inRate, outRate, channels)
		n := int(chunk%2000) + 1
		total, got := 0, 0
		for i := 0; i < 4; i++ {
			pcm := make([]float32, n*channels)
			for j := range pcm {
				if len(data) > 0 {
					pcm[j] = float32(int8(data[(i*len(pcm)+j)%len(data)])) / 128
				}
			}
			total += n
			o := rs.process(pcm)
			if len(o)%channels != 0 {
				t.Fatalf("%d samples out for %d channels", len(o), channels)
			}
			got += len(o) / channels
			for _, v := range o {
				if v != v || v > 2 || v < -2 {
					t.Fatalf("sample %v", v)
				}
			}
		}
		if want := int(int64(total) * int64(outRate) / int64(inRate)); got > want+1 {
			t.Fatalf("%d frames out of %d at %d->%d Hz, want at most %d", got, total, inRate, outRate, want+1)
		}
	})
}
