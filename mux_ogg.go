package mediarecorder

import (
	"errors"
	"io"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/ogg"
)

// oggMuxer adapts a recording of one Opus track to ogg.OpusWriter.
type oggMuxer struct {
	w        *ogg.OpusWriter
	lastTS   time.Duration
	nPending int
	file     *fileOut // the file it goes into; nil in memory
	fileEnd  int64    // the file's end after the last page
}

func newOggMuxer(tracks []*recTrack, out io.Writer) (*oggMuxer, error) {
	if len(tracks) != 1 || !tracks[0].codec.Ogg {
		return nil, errors.New("mediarecorder: Ogg holds exactly one Opus track")
	}
	head := opus.DefaultHead(tracks[0].cfg.Channels, 48000)
	head.PreSkip = 0 // the source's encoder delay is unknown
	var opts ogg.OpusWriterOptions
	file, _ := out.(*fileOut)
	if file != nil {
		// Pages reach the file whole: short ones bound what a crash
		// loses (see liveFragmentDuration).
		opts.MaxPageDuration = liveFragmentDuration
	}
	w, err := ogg.NewOpusWriter(out, head, opus.Tags{Vendor: "mediarecorder"}, opts)
	if err != nil {
		return nil, err
	}
	return &oggMuxer{w: w, file: file}, nil
}

func (m *oggMuxer) writeSample(t *recTrack, ts, dur time.Duration, key bool, data []byte) error {
	if err := m.w.WritePacket(data, ts); err != nil {
		if errors.Is(err, opus.ErrInvalidPacket) {
			return errSkip{err}
		}
		return err
	}
	m.lastTS = ts
	m.nPending++
	if m.file != nil && m.file.end != m.fileEnd {
		m.fileEnd = m.file.end
		return m.file.unitDone() // a page was written
	}
	return nil
}

// flush writes whole pages; OpusWriter keeps the latest packet back for the
// EOS page, so the output covers media up to that packet's start.
func (m *oggMuxer) flush() (time.Duration, bool) {
	if m.nPending == 0 {
		return 0, false
	}
	if err := m.w.Flush(); err != nil {
		return 0, false
	}
	m.nPending = 1
	return m.lastTS, true
}

func (m *oggMuxer) disableSeeking() {}
func (m *oggMuxer) close() error    { return m.w.Close() }

// duration is the length the file says (Recorder.Duration).
func (m *oggMuxer) duration() time.Duration { return m.w.Duration() }
