//go:build linux

package main

import (
	"fmt"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/vp8"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/internal/opusfile"
)

// Media is the pre-encoded media every publisher sends, held in memory
// once and shared.
type Media struct {
	Video         [][]byte // VP8 frames
	Key           []bool   // Key[i]: Video[i] is a key frame
	FrameDur      time.Duration
	Width, Height int
	VideoBytes    int      // sum of the frame sizes
	Audio         [][]byte // Opus packets
	PacketDur     time.Duration
	AudioBytes    int
}

// VideoKbps is the video bitrate in kb/s.
func (m *Media) VideoKbps() float64 {
	return float64(m.VideoBytes) * 8 / (float64(len(m.Video)) * m.FrameDur.Seconds()) / 1000
}

// AudioKbps is the audio bitrate in kb/s.
func (m *Media) AudioKbps() float64 {
	return float64(m.AudioBytes) * 8 / (float64(len(m.Audio)) * m.PacketDur.Seconds()) / 1000
}

// FPS is the video frame rate.
func (m *Media) FPS() float64 { return float64(time.Second) / float64(m.FrameDur) }

// loadMedia reads a VP8 IVF file and an Ogg Opus file.
func loadMedia(ivfPath, oggPath string) (*Media, error) {
	h, frames, err := mediatest.ReadIVF(ivfPath)
	if err != nil {
		return nil, err
	}
	if h.FourCC != "VP80" {
		return nil, fmt.Errorf("%s: fourcc %q, want VP80", ivfPath, h.FourCC)
	}
	if len(frames) < 2 || h.TimebaseDen == 0 {
		return nil, fmt.Errorf("%s: %d frames, time base %d/%d", ivfPath, len(frames), h.TimebaseNum, h.TimebaseDen)
	}
	m := &Media{Width: int(h.Width), Height: int(h.Height)}
	// The frame duration: the PTS step of the file (ffmpeg writes 1/fps
	// time bases with PTS 0, 1, 2, ...).
	step := frames[1].PTS - frames[0].PTS
	if step <= 0 {
		return nil, fmt.Errorf("%s: PTS step %d", ivfPath, step)
	}
	m.FrameDur = time.Duration(int64(time.Second) * int64(h.TimebaseNum) * step / int64(h.TimebaseDen))
	for _, f := range frames {
		m.Video = append(m.Video, f.Data)
		m.Key = append(m.Key, vp8.IsKeyFrame(f.Data))
		m.VideoBytes += len(f.Data)
	}
	if !m.Key[0] {
		return nil, fmt.Errorf("%s: the first frame is not a key frame", ivfPath)
	}

	_, pkts, err := opusfile.Read(oggPath)
	if err != nil {
		return nil, err
	}
	for i, p := range pkts {
		d := p.Duration()
		if i == 0 {
			m.PacketDur = d
		} else if d != m.PacketDur {
			return nil, fmt.Errorf("%s: packets of %v and %v: want one packet duration", oggPath, m.PacketDur, d)
		}
		m.Audio = append(m.Audio, p.Data)
		m.AudioBytes += len(p.Data)
	}
	return m, nil
}
