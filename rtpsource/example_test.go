package rtpsource_test

import (
	"fmt"
	"time"

	"github.com/pion/rtp"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/rtpsource"
)

// printer is a mediarecorder.Sink that prints when each sample plays,
// relative to the first.
type printer struct{ first *time.Duration }

func (p printer) WriteSample(s mediarecorder.TimedSample) {
	if *p.first < 0 {
		*p.first = s.Timestamp
	}
	fmt.Printf("%v: %d bytes, %v\n", s.Timestamp-*p.first, len(s.Data), s.Duration)
}

func (p printer) TrackEnded() { fmt.Println("ended") }

func ExampleTrack() {
	tr, err := rtpsource.NewTrack(mediarecorder.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2}, rtpsource.Options{})
	if err != nil {
		panic(err)
	}
	first := time.Duration(-1)
	tr.Subscribe(printer{&first})
	start := time.Now()
	for _, seq := range []uint16{2, 1, 4} { // 1 and 2 swapped, 3 lost
		p := &rtp.Packet{
			Header:  rtp.Header{Version: 2, SSRC: 1, SequenceNumber: seq, Timestamp: uint32(seq) * 960},
			Payload: []byte{0xfc, 0xff, 0xfe}, // a 20 ms Opus packet
		}
		if err := tr.WritePacket(p, start.Add(time.Duration(seq)*20*time.Millisecond)); err != nil {
			panic(err)
		}
	}
	tr.Stop()
	fmt.Printf("%+v\n", tr.Stats())
	// Output:
	// 0s: 3 bytes, 20ms
	// 20ms: 3 bytes, 20ms
	// 60ms: 3 bytes, 20ms
	// ended
	// {Packets:3 Frames:3 Dropped:0 Lost:1 KeyFrameRequests:0 Padding:0 NonReferenceLost:0}
}
