package mediarecorder

import (
	"errors"
	"strings"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/av1"
	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/codecs/vp8"
	"github.com/gomediarecorder/mediarecorder/codecs/vp9"
)

// errNotConfigurable: the sample does not carry what the container header
// needs (a key frame header, SPS/PPS, a sequence header).
var errNotConfigurable = errors.New("mediarecorder: sample does not configure the track")

// trackConfig is what the container header needs to know about a track,
// learnt from its first usable sample.
type trackConfig struct {
	width, height uint32
	codecPrivate  []byte // avcC, av1C, VP9 features; OpusHead is built by the muxer
	channels      uint8
	sampleRate    uint32
	h264SPS       [][]byte
	h264PPS       [][]byte
	vp9           vp9.Header // VP9: the first key frame's header (MP4's vpcC)
}

// configureTrack reads the track's configuration from a first sample.
func configureTrack(id codecID, c Codec, data []byte) (trackConfig, error) {
	var cfg trackConfig
	switch id {
	case codecVP8:
		h, err := vp8.ParseFrameHeader(data)
		if err != nil || !h.KeyFrame || h.Width == 0 || h.Height == 0 {
			return cfg, errNotConfigurable
		}
		cfg.width, cfg.height = uint32(h.Width), uint32(h.Height)
	case codecVP9:
		h, err := vp9.ParseHeader(data)
		if err != nil || !h.KeyFrame || h.Width == 0 || h.Height == 0 {
			return cfg, errNotConfigurable
		}
		cfg.width, cfg.height = uint32(h.Width), uint32(h.Height)
		cfg.codecPrivate = vp9.CodecPrivate(h, 0)
		cfg.vp9 = h
	case codecAV1:
		raw, seq, ok := av1.FindSequenceHeader(data)
		if !ok || seq.MaxFrameWidth == 0 || seq.MaxFrameHeight == 0 {
			return cfg, errNotConfigurable
		}
		cfg.width, cfg.height = seq.MaxFrameWidth, seq.MaxFrameHeight
		cfg.codecPrivate = av1.CodecConfigurationRecord(seq, raw)
	case codecH264:
		var sps, pps [][]byte
		for nalu, rest := h264.NextNALU(data); nalu != nil; nalu, rest = h264.NextNALU(rest) {
			switch h264.NALUType(nalu) {
			case h264.NALUTypeSPS:
				sps = append(sps, append([]byte(nil), nalu...))
			case h264.NALUTypePPS:
				pps = append(pps, append([]byte(nil), nalu...))
			}
		}
		if len(sps) == 0 || len(pps) == 0 {
			sps, pps = spropParameterSets(c.SDPFmtpLine)
		}
		if len(sps) == 0 || len(pps) == 0 {
			return cfg, errNotConfigurable
		}
		s, err := h264.ParseSPS(sps[0])
		if err != nil || s.Width <= 0 || s.Height <= 0 {
			return cfg, errNotConfigurable
		}
		rec, err := h264.AVCDecoderConfigurationRecord(sps, pps)
		if err != nil {
			return cfg, errNotConfigurable
		}
		cfg.width, cfg.height = uint32(s.Width), uint32(s.Height)
		cfg.codecPrivate = rec
		cfg.h264SPS, cfg.h264PPS = sps, pps
	case codecOpus:
		if _, err := opus.PacketSamples(data); err != nil {
			return cfg, errNotConfigurable
		}
		cfg.sampleRate = 48000
		switch {
		case c.Channels > 0 && c.Channels <= 2:
			cfg.channels = uint8(c.Channels)
		case opus.ParseTOC(data[0]).Stereo:
			cfg.channels = 2
		default:
			cfg.channels = 1
		}
		if strings.Contains(strings.ToLower(c.SDPFmtpLine), "stereo=1") {
			cfg.channels = 2
		}
	case codecPCM:
		cfg.channels = uint8(max(1, min(int(c.Channels), 255)))
		cfg.sampleRate = c.ClockRate
		if cfg.sampleRate == 0 {
			cfg.sampleRate = 48000
		}
	default:
		return cfg, errNotConfigurable
	}
	return cfg, nil
}

// sampleDuration estimates a sample's duration when its producer gave none.
func sampleDuration(id codecID, cfg trackConfig, data []byte) time.Duration {
	switch id {
	case codecOpus:
		if opus.Validate(data) == nil {
			d, _ := opus.PacketDuration(data)
			return d
		}
	case codecPCM:
		bytesPerSec := int64(cfg.sampleRate) * int64(cfg.channels) * 2
		if bytesPerSec > 0 {
			return time.Duration(int64(len(data)) * int64(time.Second) / bytesPerSec)
		}
	}
	return 0
}
