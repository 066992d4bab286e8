//go:build libvpx && cgo

package vpx_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/codecs/vp8"
	"github.com/gomediarecorder/mediarecorder/codecs/vp9"
	"github.com/gomediarecorder/mediarecorder/encode/vpx"
)

func frame(w, h int, seed byte) *mediarecorder.VideoFrame {
	cw, ch := (w+1)/2, (h+1)/2
	f := &mediarecorder.VideoFrame{Format: mediarecorder.PixelI420, Width: w, Height: h,
		Planes: [3][]byte{make([]byte, w*h), make([]byte, cw*ch), make([]byte, cw*ch)}, Strides: [3]int{w, cw, cw}}
	for i := range f.Planes[0] {
		f.Planes[0][i] = byte(i) + seed
	}
	return f
}

func TestEncode(t *testing.T) {
	for _, vp9codec := range []bool{false, true} {
		e, err := vpx.New(vp9codec, mediarecorder.VideoEncoderConfig{Width: 65, Height: 33, BitsPerSecond: 200_000})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			out, err := e.Encode(frame(65, 33, byte(i)), time.Duration(i)*33*time.Millisecond, i == 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != 1 {
				t.Fatalf("frame %d: %d packets out, want 1 (no lag)", i, len(out))
			}
			key := vp8.IsKeyFrame(out[0].Data)
			if vp9codec {
				key = vp9.IsKeyFrame(out[0].Data)
				h, err := vp9.ParseHeader(out[0].Data)
				if err != nil || (key && (h.Width != 65 || h.Height != 33)) {
					t.Fatalf("frame %d: header %+v, %v", i, h, err)
				}
			} else if key {
				h, err := vp8.ParseFrameHeader(out[0].Data)
				if err != nil || h.Width != 65 || h.Height != 33 {
					t.Fatalf("frame %d: header %+v, %v", i, h, err)
				}
			}
			if want := i == 0 || i == 5; key != want || out[0].KeyFrame != want {
				t.Errorf("vp9=%v frame %d: key %v (flag %v), want %v", vp9codec, i, key, out[0].KeyFrame, want)
			}
		}
		if _, err := e.Encode(frame(64, 33, 0), time.Second, false); !errors.Is(err, vpx.ErrEncoder) {
			t.Errorf("frame of another size: %v", err)
		}
		must(t, e.Close())
		must(t, e.Close())
		if _, err := e.Encode(frame(65, 33, 0), time.Second, false); !errors.Is(err, vpx.ErrEncoder) {
			t.Errorf("after Close: %v", err)
		}
	}
	if _, err := vpx.New(false, mediarecorder.VideoEncoderConfig{Width: 0, Height: 10}); !errors.Is(err, vpx.ErrEncoder) {
		t.Errorf("0x10: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
