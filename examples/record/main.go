// Command record records the test media in testdata/ (VP8 video and Opus
// audio) through a Recorder, as a live source would feed it, and writes the
// recording to a WebM file. Run it from the module root:
//
//	go run ./examples/record [-o out.webm] [-timeslice 1s]
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/ogg"
)

func main() {
	out := flag.String("o", "recording.webm", "output file")
	timeslice := flag.Duration("timeslice", 0, "blob interval (0: one finished blob)")
	flag.Parse()
	if err := run(*out, *timeslice); err != nil {
		log.Fatal(err)
	}
}

func run(out string, timeslice time.Duration) error {
	frames, err := readIVF("testdata/vp8.ivf")
	if err != nil {
		return fmt.Errorf("run me from the module root: %w", err)
	}
	packets, err := readOpus("testdata/opus-stereo.ogg")
	if err != nil {
		return err
	}

	video := mr.NewSampleTrack(mr.Codec{MimeType: "video/VP8", ClockRate: 90000})
	audio := mr.NewSampleTrack(mr.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2})
	rec, err := mr.New(mr.NewStream(video, audio), mr.Options{})
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	var werr error // a failed write; read after Wait
	var typ string
	rec.OnDataAvailable(func(e mr.BlobEvent) {
		typ = e.Data.Type()
		if _, err := f.Write(e.Data.Bytes()); err != nil && werr == nil {
			werr = err
		}
	})
	rec.OnStart(func() { fmt.Printf("recording %s ...\n", rec.MimeType()) })
	if err := rec.Start(timeslice); err != nil {
		return err
	}
	// Feed both tracks in media-time order, in real time.
	start := time.Now()
	var vt, at time.Duration
	const frame = time.Second / 30
	for len(frames) > 0 || len(packets) > 0 {
		if len(frames) > 0 && (len(packets) == 0 || vt <= at) {
			time.Sleep(time.Until(start.Add(vt)))
			if err := video.WriteSample(mr.Sample{Data: frames[0], Duration: frame}); err != nil {
				return err
			}
			frames, vt = frames[1:], vt+frame
			continue
		}
		d, _ := opus.PacketDuration(packets[0])
		time.Sleep(time.Until(start.Add(at)))
		if err := audio.WriteSample(mr.Sample{Data: packets[0], Duration: d}); err != nil {
			return err
		}
		packets, at = packets[1:], at+d
	}
	if err := rec.Stop(); err != nil {
		return err
	}
	if err := rec.Wait(context.Background()); err != nil { // after the last blob
		return err
	}
	if werr != nil {
		return werr
	}
	if err := f.Close(); err != nil {
		return err
	}
	st, _ := os.Stat(out)
	fmt.Printf("wrote %s: %d bytes, type %s (try: ffprobe %s)\n", out, st.Size(), typ, out)
	return nil
}

// readIVF returns the frames of an IVF file (32-byte header, then a 12-byte
// header before each frame: its size and timestamp, little-endian).
func readIVF(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < 32 || string(data[:4]) != "DKIF" {
		return nil, fmt.Errorf("%s: not an IVF file", path)
	}
	hlen := int(binary.LittleEndian.Uint16(data[6:]))
	if hlen < 32 || hlen > len(data) {
		return nil, fmt.Errorf("%s: bad IVF header", path)
	}
	var frames [][]byte
	for rest := data[hlen:]; len(rest) > 0; {
		if len(rest) < 12 {
			return nil, fmt.Errorf("%s: cut-off frame header", path)
		}
		n := binary.LittleEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-12) {
			return nil, fmt.Errorf("%s: cut-off frame", path)
		}
		frames = append(frames, rest[12:12+n])
		rest = rest[12+n:]
	}
	return frames, nil
}

// readOpus returns the audio packets of an Ogg Opus file.
func readOpus(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := ogg.NewPacketReader(f)
	var pkts [][]byte
	for i := 0; ; i++ {
		p, _, err := r.NextPacket()
		if err == io.EOF {
			return pkts, nil
		}
		if err != nil {
			return nil, err
		}
		if i >= 2 { // after OpusHead and OpusTags
			pkts = append(pkts, append([]byte(nil), p...))
		}
	}
}
