package rtpsource

import (
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/gomediarecorder/mediarecorder/internal/codec"
)

// codecKind is the RTP payload format of a codec a Track takes: what the
// codec table (internal/codec) does not say, as the format is RTP's own —
// where a frame starts, how it depacketizes, what its packets tell of a
// loss (loss.go).
type codecKind int

const (
	codecOpus codecKind = iota
	codecVP8
	codecVP9
	codecAV1
	codecH264
)

// payloadFormats are the rows of the codec table a Track takes.
var payloadFormats = map[*codec.Codec]codecKind{
	codec.Opus: codecOpus,
	codec.VP8:  codecVP8,
	codec.VP9:  codecVP9,
	codec.AV1:  codecAV1,
	codec.H264: codecH264,
}

// rtpCodecOf returns the codec table's row of an RTP MIME type (any case)
// and its payload format, or false if a Track does not take it.
func rtpCodecOf(mime string) (*codec.Codec, codecKind, bool) {
	row := codec.ByRTPMimeType(mime)
	ck, ok := payloadFormats[row]
	return row, ck, ok
}

// audio reports whether the format carries audio (one frame a packet).
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
		return reset(&d.vp8)
	case codecVP9:
		return reset(&d.vp9)
	case codecAV1:
		return reset(&d.av1)
	case codecH264:
		return reset(&d.h264)
	}
	return reset(&d.opus)
}

// reset sets *p to its zero value and returns p.
func reset[T any](p *T) *T {
	var zero T
	*p = zero
	return p
}
