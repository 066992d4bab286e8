package mediarecorder

import (
	"github.com/gomediarecorder/mediarecorder/codecs/av1"
	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/codecs/vp8"
	"github.com/gomediarecorder/mediarecorder/codecs/vp9"
)

// keyFrameDetector tells key frames from the bitstream. AV1 frame headers
// need the stream's sequence header, which it remembers.
type keyFrameDetector struct {
	av1Seq *av1.SequenceHeader
}

func (d *keyFrameDetector) isKeyFrame(id codecID, data []byte) bool {
	switch id {
	case codecVP8:
		return vp8.IsKeyFrame(data)
	case codecVP9:
		return vp9.IsKeyFrame(data)
	case codecH264:
		return h264.IsKeyFrame(data)
	case codecAV1:
		if _, seq, ok := av1.FindSequenceHeader(data); ok {
			d.av1Seq = &seq
		}
		return av1.IsKeyFrame(data, d.av1Seq)
	case codecOpus, codecPCM:
		return len(data) > 0
	}
	return false
}
