package opus_test

import (
	"fmt"

	"github.com/gomediarecorder/mediarecorder/codecs/opus"
)

func ExamplePacketDuration() {
	// A 20 ms CELT fullband frame (config 31, code 0), as browsers send.
	d, err := opus.PacketDuration([]byte{0xf8, 0x12, 0x34})
	fmt.Println(d, err)
	// Three 2.5 ms frames in a code 3 packet.
	d, err = opus.PacketDuration([]byte{0x83, 0x03})
	fmt.Println(d, err)
	_, err = opus.PacketDuration(nil)
	fmt.Println(err)
	// Output:
	// 20ms <nil>
	// 7.5ms <nil>
	// opus: invalid packet
}

func ExampleParseTOC() {
	toc := opus.ParseTOC(0xfc)
	fmt.Printf("%+v %v %v\n", toc, toc.Mode(), toc.FrameDuration())
	// Output: {Config:31 Stereo:true FrameCountCode:0} CELT 20ms
}

func ExampleHead_MarshalBinary() {
	b, err := opus.DefaultHead(2, 48000).MarshalBinary()
	fmt.Printf("%q %v\n", b, err)
	// Output: "OpusHead\x01\x028\x01\x80\xbb\x00\x00\x00\x00\x00" <nil>
}
