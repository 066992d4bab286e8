package codec_test

import (
	"fmt"

	"github.com/gomediarecorder/mediarecorder/internal/codec"
)

// One row names the codec everywhere: a codecs-parameter entry leads to
// the track's MIME type, the Matroska CodecID and the MP4 sample entry.
func ExampleByMIMEName() {
	c := codec.ByMIMEName("avc1.42E01F")
	fmt.Println(c.Name, c.Kind, c.RTPMimeType, c.MatroskaID, c.MP4Entry)
	fmt.Println(codec.ByMatroskaID("A_OPUS").MIMEName, codec.ByMP4Entry("vp09").RTPMimeType)
	// Output:
	// h264 video video/H264 V_MPEG4/ISO/AVC avc1
	// opus video/VP9
}
