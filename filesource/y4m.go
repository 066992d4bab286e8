package filesource

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/gomediarecorder/mediarecorder"
)

// FormatY4M is YUV4MPEG2, raw 4:2:0 video: played into a raw
// mediarecorder.VideoTrack, which recorders encode (see File.AllTracks).
const FormatY4M Format = "y4m"

// y4mMagic starts every Y4M file.
const y4mMagic = "YUV4MPEG2 "

// maxY4MLine bounds the stream and frame header lines.
const maxY4MLine = 4096

// y4mSource reads the frames of a Y4M file.
type y4mSource struct {
	r         *byteReader
	w, h      int
	num, den  uint64 // frame rate
	frameSize int
	frames    int64
	buf       []byte
	err       error
}

// readLine reads up to and including '\n' (at most maxY4MLine bytes) and
// returns the line without it.
func (b *byteReader) readLine() ([]byte, error) {
	var line []byte
	var c [1]byte
	for len(line) < maxY4MLine {
		if err := b.full(c[:]); err != nil {
			if err == io.EOF && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return line, err
		}
		if c[0] == '\n' {
			return line, nil
		}
		line = append(line, c[0])
	}
	return line, errY4MLine
}

var errY4MLine = fmt.Errorf("%w: Y4M header line longer than %d bytes", ErrInvalidFile, maxY4MLine)

// openY4M reads the stream header. size is the file size, or -1.
func openY4M(r io.Reader, size int64) (*openInfo, error) {
	br := newSizedReader(r, size)
	line, err := br.readLine()
	switch {
	case err == io.EOF:
		return nil, ErrEmptyFile
	case err == errY4MLine:
		return nil, errAt(0, err)
	case err != nil:
		return nil, truncatedAt(0, "Y4M header")
	}
	if !bytes.HasPrefix(append(line, ' '), []byte(y4mMagic)) {
		return nil, errAt(0, fmt.Errorf("%w: no YUV4MPEG2 header", ErrInvalidFile))
	}
	s := &y4mSource{r: br, num: 25, den: 1}
	for _, f := range bytes.Fields(line[len(y4mMagic)-1:]) {
		v := string(f[1:])
		switch f[0] {
		case 'W':
			s.w, err = strconv.Atoi(v)
		case 'H':
			s.h, err = strconv.Atoi(v)
		case 'F':
			var n, d uint64
			if _, e := fmt.Sscanf(v, "%d:%d", &n, &d); e != nil || n == 0 || d == 0 || n/d > 1000 {
				return nil, errAt(0, fmt.Errorf("%w: Y4M frame rate %q", ErrInvalidFile, v))
			}
			s.num, s.den = n, d
		case 'I':
			if v != "p" && v != "?" {
				return nil, errAt(0, fmt.Errorf("%w: interlaced Y4M (I%s), want progressive", ErrUnsupportedCodec, v))
			}
		case 'C':
			switch v {
			case "420", "420jpeg", "420paldv", "420mpeg2":
			default:
				return nil, errAt(0, fmt.Errorf("%w: Y4M colour space C%s, want 4:2:0 8-bit", ErrUnsupportedCodec, v))
			}
		}
		if err != nil {
			return nil, errAt(0, fmt.Errorf("%w: Y4M field %q", ErrInvalidFile, f))
		}
	}
	if s.w <= 0 || s.h <= 0 || s.w > 16383 || s.h > 16383 {
		return nil, errAt(0, fmt.Errorf("%w: Y4M size %dx%d", ErrInvalidFile, s.w, s.h))
	}
	s.frameSize = s.w*s.h + 2*((s.w+1)/2)*((s.h+1)/2)
	info := &openInfo{src: s, raw: []mediarecorder.Track{mediarecorder.NewVideoTrack()}}
	if size >= 0 {
		// Frame headers are usually the bare "FRAME\n".
		n := (size - br.off) / int64(s.frameSize+6)
		info.dur, info.hasDur = scaleTime(n, s.den, s.num), true
	}
	return info, nil
}

func (s *y4mSource) next() (sample, error) {
	if s.err != nil {
		return sample{}, s.err
	}
	start := s.r.off
	line, err := s.r.readLine()
	switch {
	case err == io.EOF:
		s.err = io.EOF
	case err == errY4MLine:
		s.err = errAt(start, err)
	case err != nil:
		s.err = truncatedAt(start, fmt.Sprintf("frame %d header", s.frames))
	case !bytes.Equal(line, []byte("FRAME")) && !bytes.HasPrefix(line, []byte("FRAME ")):
		s.err = errAt(start, fmt.Errorf("%w: frame %d: no FRAME header", ErrInvalidFile, s.frames))
	}
	if s.err != nil {
		return sample{}, s.err
	}
	s.buf, err = s.r.readInto(s.buf, s.frameSize)
	if err != nil {
		s.err = truncatedAt(start, fmt.Sprintf("frame %d", s.frames))
		return sample{}, s.err
	}
	pts := scaleTime(s.frames, s.den, s.num)
	s.frames++
	return sample{pts: pts, dur: scaleTime(s.frames, s.den, s.num) - pts, data: s.buf}, nil
}

// y4mFrame is the VideoFrame of a Y4M frame's bytes.
func y4mFrame(data []byte, w, h int) mediarecorder.VideoFrame {
	ysz, csz := w*h, ((w+1)/2)*((h+1)/2)
	return mediarecorder.VideoFrame{Format: mediarecorder.PixelI420, Width: w, Height: h,
		Planes: [3][]byte{data[:ysz], data[ysz : ysz+csz], data[ysz+csz:]}}
}

// writeRaw writes a sample of a file with raw tracks (Y4M video, WAV audio
// opened with Options.RawAudio) at ts.
func (f *File) writeRaw(s sample, ts time.Duration) error {
	switch t := f.raw[s.track].(type) {
	case *mediarecorder.VideoTrack:
		src := f.src.(*y4mSource)
		fr := y4mFrame(s.data, src.w, src.h)
		fr.Duration = s.dur
		return t.WriteFrameAt(fr, ts)
	case *mediarecorder.AudioTrack:
		f.pcm = f.pcm[:0]
		for i := 0; i+1 < len(s.data); i += 2 {
			f.pcm = append(f.pcm, int16(binary.LittleEndian.Uint16(s.data[i:])))
		}
		return t.WriteInt16At(f.pcm, ts)
	}
	return nil
}

// waitRaw waits while a recorder holds a large backlog of the raw track's
// samples.
func (f *File) waitRaw(track int) {
	switch t := f.raw[track].(type) {
	case *mediarecorder.VideoTrack:
		t.WaitRoom()
	case *mediarecorder.AudioTrack:
		t.WaitRoom()
	}
}
