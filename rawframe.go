package mediarecorder

import (
	"errors"
	"fmt"
	"image"
	"time"
)

// ErrBadFrame is wrapped by the errors VideoTrack and AudioTrack return for
// frames and buffers they cannot take: a wrong size or plane length, an
// unknown pixel format, a format that changes mid-stream.
var ErrBadFrame = errors.New("mediarecorder: bad raw frame")

// PixelFormat is the layout of a VideoFrame's planes.
type PixelFormat int

// The pixel formats. Both are 4:2:0 with 8-bit samples; chroma planes are
// (Width+1)/2 by (Height+1)/2.
const (
	// PixelI420: three planes, Y, U (Cb), V (Cr).
	PixelI420 PixelFormat = iota + 1
	// PixelNV12: two planes, Y and interleaved U, V (Cb, Cr).
	PixelNV12
)

// String returns "I420" or "NV12".
func (p PixelFormat) String() string {
	switch p {
	case PixelI420:
		return "I420"
	case PixelNV12:
		return "NV12"
	}
	return fmt.Sprintf("PixelFormat(%d)", int(p))
}

// VideoFrame is one raw picture.
type VideoFrame struct {
	Format        PixelFormat
	Width, Height int
	// Planes holds Y, U, V (I420) or Y, UV (NV12).
	Planes [3][]byte
	// Strides are the bytes from one row of a plane to the next; 0 means
	// tightly packed (Width for Y, (Width+1)/2 for I420 chroma, 2*((Width+1)/2)
	// for NV12's UV).
	Strides [3]int
	// Duration is how long the frame shows, when the producer knows it;
	// otherwise the recorder estimates it from the frame spacing.
	Duration time.Duration
}

// maxFrameSide bounds frame dimensions (VP8 allows 16383).
const maxFrameSide = 16383

func badFrame(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadFrame}, args...)...)
}

// planeGeometry returns the number of planes, and each plane's row width in
// bytes and its rows.
func (f *VideoFrame) planeGeometry() (n int, widths, rows [3]int) {
	cw, ch := (f.Width+1)/2, (f.Height+1)/2
	switch f.Format {
	case PixelI420:
		return 3, [3]int{f.Width, cw, cw}, [3]int{f.Height, ch, ch}
	case PixelNV12:
		return 2, [3]int{f.Width, 2 * cw}, [3]int{f.Height, ch}
	}
	return 0, widths, rows
}

// check validates the frame's format, size, strides and plane lengths, and
// returns it with every stride set.
func (f VideoFrame) check() (VideoFrame, error) {
	if f.Width <= 0 || f.Height <= 0 || f.Width > maxFrameSide || f.Height > maxFrameSide {
		return f, badFrame("size %dx%d (want 1..%d on each side)", f.Width, f.Height, maxFrameSide)
	}
	n, widths, rows := f.planeGeometry()
	if n == 0 {
		return f, badFrame("unknown pixel format %v", f.Format)
	}
	for i := range n {
		if f.Strides[i] == 0 {
			f.Strides[i] = widths[i]
		}
		if f.Strides[i] < widths[i] {
			return f, badFrame("%v plane %d: stride %d is below its width %d", f.Format, i, f.Strides[i], widths[i])
		}
		need := f.Strides[i]*(rows[i]-1) + widths[i]
		if len(f.Planes[i]) < need {
			return f, badFrame("%v %dx%d plane %d: %d bytes, want at least %d", f.Format, f.Width, f.Height, i, len(f.Planes[i]), need)
		}
	}
	for i := n; i < 3; i++ {
		if len(f.Planes[i]) != 0 {
			return f, badFrame("%v has %d planes, plane %d is not empty", f.Format, n, i)
		}
	}
	return f, nil
}

// toI420 returns f as I420: f itself when it is, else a copy in buf's memory.
func (f *VideoFrame) toI420(buf []byte) (VideoFrame, []byte) {
	if f.Format == PixelI420 {
		return *f, buf
	}
	cw, ch := (f.Width+1)/2, (f.Height+1)/2
	ysz := f.Width * f.Height
	need := ysz + 2*cw*ch
	if cap(buf) < need {
		buf = make([]byte, need)
	}
	buf = buf[:need]
	out := VideoFrame{Format: PixelI420, Width: f.Width, Height: f.Height, Duration: f.Duration,
		Strides: [3]int{f.Width, cw, cw}}
	out.Planes[0], out.Planes[1], out.Planes[2] = buf[:ysz], buf[ysz:ysz+cw*ch], buf[ysz+cw*ch:]
	for y := range f.Height {
		copy(out.Planes[0][y*f.Width:(y+1)*f.Width], f.Planes[0][y*f.Strides[0]:])
	}
	for y := range ch {
		row := f.Planes[1][y*f.Strides[1]:]
		u, v := out.Planes[1][y*cw:(y+1)*cw], out.Planes[2][y*cw:(y+1)*cw]
		for x := range cw {
			u[x], v[x] = row[2*x], row[2*x+1]
		}
	}
	return out, buf
}

// FrameFromImage converts img to an I420 frame: BT.601 limited range (what
// VP8 and VP9 decoders assume), the chroma averaged over each 2x2 block.
// An *image.YCbCr in 4:2:0 is copied as it is, without conversion.
func FrameFromImage(img image.Image) (VideoFrame, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 || w > maxFrameSide || h > maxFrameSide {
		return VideoFrame{}, badFrame("image size %dx%d", w, h)
	}
	cw, ch := (w+1)/2, (h+1)/2
	ysz := w * h
	buf := make([]byte, ysz+2*cw*ch)
	f := VideoFrame{Format: PixelI420, Width: w, Height: h, Strides: [3]int{w, cw, cw}}
	f.Planes[0], f.Planes[1], f.Planes[2] = buf[:ysz], buf[ysz:ysz+cw*ch], buf[ysz+cw*ch:]
	if yc, ok := img.(*image.YCbCr); ok && yc.SubsampleRatio == image.YCbCrSubsampleRatio420 && b.Min.X%2 == 0 && b.Min.Y%2 == 0 {
		for y := range h {
			o := yc.YOffset(b.Min.X, b.Min.Y+y)
			copy(f.Planes[0][y*w:(y+1)*w], yc.Y[o:o+w])
		}
		for y := range ch {
			o := yc.COffset(b.Min.X, b.Min.Y+2*y)
			copy(f.Planes[1][y*cw:(y+1)*cw], yc.Cb[o:o+cw])
			copy(f.Planes[2][y*cw:(y+1)*cw], yc.Cr[o:o+cw])
		}
		return f, nil
	}
	for cy := range ch {
		for cx := range cw {
			var sb, sr, n int
			for dy := range 2 {
				for dx := range 2 {
					x, y := 2*cx+dx, 2*cy+dy
					if x >= w || y >= h {
						continue
					}
					r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
					yy, cb, cr := rgbToYUV(int(r>>8), int(g>>8), int(bl>>8))
					f.Planes[0][y*w+x] = uint8(yy)
					sb += cb
					sr += cr
					n++
				}
			}
			f.Planes[1][cy*cw+cx] = uint8((sb + n/2) / n)
			f.Planes[2][cy*cw+cx] = uint8((sr + n/2) / n)
		}
	}
	return f, nil
}

// rgbToYUV is BT.601 limited range in 8-bit integer arithmetic.
func rgbToYUV(r, g, b int) (y, u, v int) {
	y = 16 + (66*r+129*g+25*b+128)>>8
	u = 128 + (-38*r-74*g+112*b+128)>>8
	v = 128 + (112*r-94*g-18*b+128)>>8
	return y, u, v
}
