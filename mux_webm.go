package mediarecorder

import (
	"io"
	"time"

	"github.com/gomediarecorder/mediarecorder/webm"
)

// webmMuxer adapts a recording to webm.Writer: codec IDs and private data,
// Annex B to length-prefixed H.264, AV1 without temporal delimiters.
type webmMuxer struct {
	w    *webm.Writer
	conv frameConverter
}

func newWebMMuxer(cfg config, tracks []*recTrack, out io.WriteSeeker, live bool) (*webmMuxer, error) {
	opts := webm.Options{
		DocType:    cfg.docType,
		MuxingApp:  "mediarecorder",
		WritingApp: "mediarecorder",
		Seekable:   !live,
	}
	for i, t := range tracks {
		c := t.cfg
		e := webm.TrackEntry{
			Number:       uint64(i + 1),
			CodecID:      t.codec.MatroskaID,
			CodecPrivate: c.CodecPrivate,
			SeekPreRoll:  t.codec.SeekPreRoll,
		}
		if t.codec.Reorders {
			opts.AllowReorder = true // B-frames: block timestamps are presentation times
		}
		if t.codec.kind() == KindVideo {
			e.Type = webm.TrackTypeVideo
			e.PixelWidth, e.PixelHeight = c.Width, c.Height
		} else {
			e.Type = webm.TrackTypeAudio
			e.SamplingFrequency = float64(c.SampleRate)
			e.Channels = c.Channels
			e.BitDepth = t.codec.BitDepth
		}
		opts.Tracks = append(opts.Tracks, e)
	}
	w, err := webm.NewWriter(out, opts)
	if err != nil {
		return nil, err
	}
	return &webmMuxer{w: w}, nil
}

func (m *webmMuxer) writeSample(t *recTrack, ts, dur time.Duration, key bool, data []byte) error {
	frame, key, err := m.conv.convert(t.codec, key, data)
	if err != nil {
		return err
	}
	return m.w.WriteFrame(uint64(t.index+1), ts, key, frame)
}

// writeFrame stores a frame in decoding order; its block carries its
// presentation time.
func (m *webmMuxer) writeFrame(t *recTrack, _, pts, _ time.Duration, key bool, data []byte) error {
	frame, key, err := m.conv.convert(t.codec, key, data)
	if err != nil {
		return err
	}
	return m.w.WriteFrame(uint64(t.index+1), pts, key, frame)
}

func (m *webmMuxer) flush() (time.Duration, bool) { return 0, false }
func (m *webmMuxer) disableSeeking()              { m.w.DisableSeeking() }
func (m *webmMuxer) close() error                 { return m.w.Close() }

// duration is the Duration the file says (Recorder.Duration).
func (m *webmMuxer) duration() time.Duration { return m.w.Duration() }
