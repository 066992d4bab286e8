package ogg_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/ogg"
)

func ExampleOpusWriter() {
	var buf bytes.Buffer
	head := opus.DefaultHead(2, 48000) // pre-skip 312
	tags := opus.Tags{Vendor: "mediarecorder"}
	w, err := ogg.NewOpusWriter(&buf, head, tags, ogg.OpusWriterOptions{
		Serial:          1,
		MaxPageDuration: 40 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	// Five 20 ms packets (TOC 0xfc: CELT fullband stereo, one frame).
	for i := range 5 {
		pts := time.Duration(i) * 20 * time.Millisecond
		if err := w.WritePacket([]byte{0xfc, 0xff, 0xfe}, pts); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("duration:", w.Duration())

	r := ogg.NewReader(&buf)
	for {
		p, err := r.NextPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("page %d flags %d granule %d packets %d\n", p.Sequence, p.Flags, p.Granule, len(p.Segments))
	}
	// Output:
	// duration: 100ms
	// page 0 flags 2 granule 0 packets 1
	// page 1 flags 0 granule 0 packets 1
	// page 2 flags 0 granule 2232 packets 2
	// page 3 flags 0 granule 4152 packets 2
	// page 4 flags 4 granule 5112 packets 1
}

func ExamplePacketReader() {
	var buf bytes.Buffer
	w, _ := ogg.NewOpusWriter(&buf, opus.DefaultHead(1, 48000), opus.Tags{}, ogg.OpusWriterOptions{})
	w.WritePacket([]byte{0xf8, 0x01}, 0)
	w.WritePacket([]byte{0xf8, 0x02}, 20*time.Millisecond)
	w.Close()

	r := ogg.NewPacketReader(&buf)
	for {
		pkt, granule, err := r.NextPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%q granule %d\n", pkt[:min(len(pkt), 8)], granule)
	}
	// Output:
	// "OpusHead" granule 0
	// "OpusTags" granule 0
	// "\xf8\x01" granule -1
	// "\xf8\x02" granule 2232
}
