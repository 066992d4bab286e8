// Package opusfile reads an Ogg Opus file whole into its packets: the
// media that tests and benchmarks feed to recorders and senders.
package opusfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/ogg"
)

// ErrNoPackets is returned (wrapped) for a file with no audio packet.
var ErrNoPackets = errors.New("opusfile: no Opus packets")

// Packet is one Opus packet of a file.
type Packet struct {
	Data    []byte // a copy, owned by the caller
	Samples int    // how long it plays, in 48 kHz samples
}

// Duration returns how long p plays.
func (p Packet) Duration() time.Duration {
	return time.Duration(p.Samples) * time.Second / 48000
}

// Read returns the identification header (OpusHead) and the audio packets
// of the Ogg Opus file at path; the comment header (OpusTags) is skipped.
// A packet whose TOC does not parse is an error.
func Read(path string) (opus.Head, []Packet, error) {
	f, err := os.Open(path)
	if err != nil {
		return opus.Head{}, nil, err
	}
	defer f.Close()
	return read(f, path)
}

func read(r io.Reader, name string) (opus.Head, []Packet, error) {
	pr := ogg.NewPacketReader(r)
	var head opus.Head
	var pkts []Packet
	for i := 0; ; i++ {
		pkt, _, err := pr.NextPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return head, nil, fmt.Errorf("%s: %w", name, err)
		}
		switch i {
		case 0:
			if head, err = opus.ParseHead(pkt); err != nil {
				return head, nil, fmt.Errorf("%s: %w", name, err)
			}
			continue
		case 1: // OpusTags
			continue
		}
		n, err := opus.PacketSamples(pkt)
		if err != nil {
			return head, nil, fmt.Errorf("%s: packet %d: %w", name, i, err)
		}
		pkts = append(pkts, Packet{Data: append([]byte(nil), pkt...), Samples: n})
	}
	if len(pkts) == 0 {
		return head, nil, fmt.Errorf("%s: %w", name, ErrNoPackets)
	}
	return head, pkts, nil
}
