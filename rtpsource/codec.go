package rtpsource

import (
	"strings"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/gomediarecorder/mediarecorder/codecs/av1"
	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/codecs/vp8"
	"github.com/gomediarecorder/mediarecorder/codecs/vp9"
)

// codecKind is a codec a Track takes.
type codecKind int

const (
	codecOpus codecKind = iota
	codecVP8
	codecVP9
	codecAV1
	codecH264
)

// codecKindOf returns the codec of an RTP MIME type (any case).
func codecKindOf(mime string) (codecKind, bool) {
	switch strings.ToLower(mime) {
	case "audio/opus":
		return codecOpus, true
	case "video/vp8":
		return codecVP8, true
	case "video/vp9":
		return codecVP9, true
	case "video/av1":
		return codecAV1, true
	case "video/h264":
		return codecH264, true
	}
	return 0, false
}

// audio reports whether the codec is an audio codec.
func (ck codecKind) audio() bool { return ck == codecOpus }

// frameStart reports whether an RTP payload is the first packet of a frame.
func (ck codecKind) frameStart(payload []byte) bool {
	if len(payload) == 0 {
		return false
	}
	switch ck {
	case codecVP8:
		return (&codecs.VP8Packet{}).IsPartitionHead(payload)
	case codecVP9:
		return (&codecs.VP9Packet{}).IsPartitionHead(payload)
	case codecAV1:
		return payload[0]&0x80 == 0 // Z = 0: no OBU continues from before
	case codecH264:
		return (&codecs.H264Packet{}).IsPartitionHead(payload)
	}
	return true
}

// isKeyFrame reports whether a depacketized frame is a key frame (every
// audio frame is).
func (ck codecKind) isKeyFrame(data []byte) bool {
	switch ck {
	case codecVP8:
		return vp8.IsKeyFrame(data)
	case codecVP9:
		return vp9.IsKeyFrame(data)
	case codecAV1:
		_, seq, ok := av1.FindSequenceHeader(data)
		return ok && av1.IsKeyFrame(data, &seq)
	case codecH264:
		return h264.IsKeyFrame(data)
	}
	return true
}

// depacketizers holds pion's depacketizers, reset for each frame (kept in
// the Track: no allocation).
type depacketizers struct {
	opus codecs.OpusPacket
	vp8  codecs.VP8Packet
	vp9  codecs.VP9Packet
	av1  codecs.AV1Depacketizer
	h264 codecs.H264Packet
}

// fresh returns the depacketizer of ck, reset for a new frame.
func (d *depacketizers) fresh(ck codecKind) rtp.Depacketizer {
	switch ck {
	case codecVP8:
		d.vp8 = codecs.VP8Packet{}
		return &d.vp8
	case codecVP9:
		d.vp9 = codecs.VP9Packet{}
		return &d.vp9
	case codecAV1:
		d.av1 = codecs.AV1Depacketizer{}
		return &d.av1
	case codecH264:
		d.h264 = codecs.H264Packet{}
		return &d.h264
	}
	d.opus = codecs.OpusPacket{}
	return &d.opus
}
