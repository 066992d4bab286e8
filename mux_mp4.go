package mediarecorder

import (
	"io"
	"time"

	"github.com/gomediarecorder/mediarecorder/mp4"
)

// mp4Muxer adapts a recording to the fragmented MP4 writer: sample entries
// and their configuration boxes, length-prefixed H.264, AV1 without
// temporal delimiters.
type mp4Muxer struct {
	w    *mp4.Writer
	conv frameConverter
	file *fileOut // the file it goes into; nil in memory
}

// liveFragmentDuration is the longest fragment of a recording into a file:
// a fragment reaches the file only whole, so this (plus the batching of
// live samples) is what a crash can lose, whatever the key-frame interval.
// A fragment cut between key frames starts with a non-sync sample.
const liveFragmentDuration = 500 * time.Millisecond

func newMP4Muxer(tracks []*recTrack, out io.WriteSeeker, live bool) (*mp4Muxer, error) {
	opts := mp4.Options{Seekable: !live}
	file, _ := out.(*fileOut)
	if file != nil {
		opts.MaxFragmentDuration = liveFragmentDuration
	}
	for i, t := range tracks {
		c := t.cfg
		tr := mp4.Track{ID: uint32(i + 1), Codec: t.codec.MP4Entry}
		if tr.Codec == "" {
			return nil, errNotConfigurable
		}
		if t.codec.kind() == KindVideo {
			tr.Type, tr.Width, tr.Height = mp4.TrackTypeVideo, uint16(c.Width), uint16(c.Height)
		} else {
			tr.Type, tr.Channels, tr.SampleRate = mp4.TrackTypeAudio, uint16(c.Channels), c.SampleRate
		}
		// Where the writer wants each sample entry's configuration.
		switch tr.Codec {
		case mp4.CodecAVC1:
			tr.AVCC = c.CodecPrivate
		case mp4.CodecAV01:
			tr.AV1C = c.CodecPrivate
		case mp4.CodecVP09:
			h := c.VP9
			tr.VP9 = &h
		}
		opts.Tracks = append(opts.Tracks, tr)
	}
	w, err := mp4.NewWriter(out, opts)
	if err != nil {
		return nil, err
	}
	return &mp4Muxer{w: w, file: file}, nil
}

func (m *mp4Muxer) writeSample(t *recTrack, ts, dur time.Duration, key bool, data []byte) error {
	frame, key, err := m.conv.convert(t.codec, key, data)
	if err != nil {
		return err
	}
	n := m.w.Size()
	if err := m.w.WriteSample(uint32(t.index+1), ts, dur, key, frame); err != nil {
		return err
	}
	if m.file != nil && m.w.Size() != n {
		// A fragment was cut: it goes to the file now, not a second later.
		return m.file.unitDone()
	}
	return nil
}

// writeFrame stores a frame in decoding order at dts, with its
// presentation time pts as the sample's composition time offset.
func (m *mp4Muxer) writeFrame(t *recTrack, dts, pts, dur time.Duration, key bool, data []byte) error {
	frame, key, err := m.conv.convert(t.codec, key, data)
	if err != nil {
		return err
	}
	return m.w.WriteSampleAt(uint32(t.index+1), dts, pts, dur, key, frame)
}

// flush ends the pending fragment, so a blob ends on a fragment boundary.
func (m *mp4Muxer) flush() (time.Duration, bool) {
	_ = m.w.Flush() // an error is sticky: the next write reports it
	return 0, false
}

func (m *mp4Muxer) disableSeeking() { m.w.DisableSeeking() }
func (m *mp4Muxer) close() error    { return m.w.Close() }
