package mediarecorder

import (
	"errors"
	"io"
	"time"
)

// muxer is one container writer behind a recording.
type muxer interface {
	// writeSample stores one sample of t at media time ts. An error that
	// errSkippable accepts means only this sample was not stored.
	writeSample(t *recTrack, ts, dur time.Duration, key bool, data []byte) error
	// flush puts every complete unit (element, page) into the output. It
	// returns the media time up to which the output covers the samples
	// written, when that is short of the latest sample's end.
	flush() (covered time.Duration, ok bool)
	// disableSeeking forbids rewriting bytes already written.
	disableSeeking()
	// close finishes the container.
	close() error
}

// errSkip marks a sample that cannot be stored; the recording goes on.
type errSkip struct{ err error }

func (e errSkip) Error() string { return e.err.Error() }
func (e errSkip) Unwrap() error { return e.err }

func errSkippable(err error) bool {
	var s errSkip
	return errors.As(err, &s)
}

// frameConverter turns a track's sample into what ISO BMFF and Matroska
// store: H.264 length-prefixed instead of Annex B, AV1 without temporal
// delimiters. Audio samples are all key frames.
type frameConverter struct{ scratch []byte }

func (c *frameConverter) convert(id codecID, key bool, data []byte) (frame []byte, isKey bool, err error) {
	if data, err = id.ContainerFrame(&c.scratch, data); err != nil {
		return nil, false, errSkip{err}
	}
	if id.kind() == KindAudio { // already checked by validSample
		key = true
	}
	if len(data) == 0 {
		return nil, false, errSkip{errNotConfigurable}
	}
	return data, key, nil
}

// newMuxer writes the container header for tracks into out.
func newMuxer(cfg config, tracks []*recTrack, out io.WriteSeeker, live bool) (muxer, error) {
	switch cfg.container {
	case containerOgg:
		return newOggMuxer(tracks, out)
	case containerMP4:
		return newMP4Muxer(tracks, out, live)
	default:
		return newWebMMuxer(cfg, tracks, out, live)
	}
}

// muxerFixesTracks reports whether the muxer of container c fixes the
// recording's tracks in its header for good (MP4: the moov's sample
// entries): a track that never showed its configuration then ends the
// recording with an error, where another container's file leaves it out.
func muxerFixesTracks(c container) bool { return c == containerMP4 }
