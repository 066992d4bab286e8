package opusfile

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

func TestRead(t *testing.T) {
	path := mediatest.Testdata(t, "opus-stereo.ogg")
	head, pkts, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if head.Channels != 2 {
		t.Errorf("%d channels, want 2", head.Channels)
	}
	// ffprobe counts the same packets, and the same length.
	p := mediatest.FFprobe(t, path)
	if len(p.Streams) != 1 || p.Streams[0].NbReadFrames != len(pkts) {
		t.Fatalf("%d packets; ffprobe: %+v", len(pkts), p.Streams)
	}
	var d time.Duration
	for _, pk := range pkts {
		if pk.Samples <= 0 || len(pk.Data) == 0 {
			t.Fatalf("packet %+v", pk)
		}
		d += pk.Duration()
	}
	if diff := d.Seconds() - p.Duration; diff < -0.05 || diff > 0.05 {
		t.Errorf("packets last %v, ffprobe says %.3f s", d, p.Duration)
	}
}

func TestReadBad(t *testing.T) {
	data, err := os.ReadFile(mediatest.Testdata(t, "opus-stereo.ogg"))
	if err != nil {
		t.Fatal(err)
	}
	// Headers only (the first two pages): no packets.
	if _, _, err := read(bytes.NewReader(data[:121]), "x"); !errors.Is(err, ErrNoPackets) {
		t.Errorf("headers only: %v, want ErrNoPackets", err)
	}
	if _, _, err := read(bytes.NewReader([]byte("not an ogg file at all, no")), "x"); err == nil {
		t.Error("garbage: no error")
	}
	if _, _, err := Read("/nonexistent/file.ogg"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
