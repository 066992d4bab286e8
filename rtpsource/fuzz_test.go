package rtpsource

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/gomediarecorder/mediarecorder"
)

func TestNewTrackErrors(t *testing.T) {
	for _, tc := range []struct {
		codec mediarecorder.Codec
		err   error
	}{
		{mediarecorder.Codec{MimeType: "video/H265", ClockRate: 90000}, ErrUnsupportedCodec},
		{mediarecorder.Codec{MimeType: "audio/PCM", ClockRate: 48000}, ErrUnsupportedCodec},
		{mediarecorder.Codec{MimeType: "video/VP8"}, ErrClockRate},
		{mediarecorder.Codec{MimeType: "audio/L16", ClockRate: 48000}, ErrUnsupportedCodec},    // in the codec table, no depacketizer
		{mediarecorder.Codec{MimeType: "audio/vorbis", ClockRate: 48000}, ErrUnsupportedCodec}, // known by name only
		{mediarecorder.Codec{MimeType: "video/opus", ClockRate: 48000}, ErrUnsupportedCodec},
		{mediarecorder.Codec{MimeType: "", ClockRate: 48000}, ErrUnsupportedCodec},
		{mediarecorder.Codec{MimeType: "VIDEO/vp8", ClockRate: 90000}, nil},
		{mediarecorder.Codec{MimeType: "video/vp9", ClockRate: 90000}, nil},
		{mediarecorder.Codec{MimeType: "video/Av1", ClockRate: 90000}, nil},
		{mediarecorder.Codec{MimeType: "video/h264", ClockRate: 90000}, nil},
		{mediarecorder.Codec{MimeType: "AUDIO/OPUS", ClockRate: 48000}, nil},
	} {
		_, err := NewTrack(tc.codec, Options{})
		if !errors.Is(err, tc.err) {
			t.Errorf("%+v: %v, want %v", tc.codec, err, tc.err)
		}
	}
	tr, _ := NewTrack(mediarecorder.Codec{MimeType: "audio/opus", ClockRate: 48000}, Options{})
	if tr.Kind() != mediarecorder.KindAudio || tr.ReadyState() != mediarecorder.TrackLive || tr.ID() == "" {
		t.Errorf("kind %v state %v id %q", tr.Kind(), tr.ReadyState(), tr.ID())
	}
	if err := tr.WritePacket(nil, time.Now()); !errors.Is(err, ErrNilPacket) {
		t.Errorf("nil packet: %v", err)
	}
	var s sink
	tr.Subscribe(&s)
	tr.Stop()
	tr.Stop()
	if err := tr.WritePacket(&rtp.Packet{}, time.Now()); !errors.Is(err, ErrTrackEnded) {
		t.Errorf("after Stop: %v", err)
	}
	if tr.ReadyState() != mediarecorder.TrackEnded || !s.ended {
		t.Errorf("state %v, sink ended %v", tr.ReadyState(), s.ended)
	}
}

// FuzzWritePacket feeds arbitrary payloads, sequence numbers, timestamps,
// marker bits and padding-only packets to a track of each codec: nothing may panic, and every
// published sample is non-empty with non-decreasing timestamps.
func FuzzWritePacket(f *testing.F) {
	for _, name := range clipNames {
		c := loadClip(f, name)
		codec := uint8(slices.Index(fuzzMimes, c.codec.MimeType))
		for _, s := range packetize(c, 0, 3, 1, 1, 1) {
			f.Add(codec, s.p.Payload, uint8(0), s.p.Marker)
		}
	}
	f.Add(uint8(3), []byte{0x10, 0x0a, 0x0b}, uint8(0x81), true)
	f.Add(uint8(4), []byte{0x7c, 0x85, 0xff}, uint8(0xc0), false)
	f.Add(uint8(4), []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68}, uint8(1), true)
	f.Fuzz(fuzzWrite)
}

var fuzzMimes = []string{"audio/opus", "video/VP8", "video/VP9", "video/AV1", "video/H264"}

func fuzzWrite(t *testing.T, codec uint8, data []byte, step uint8, marker bool) {
	mime := fuzzMimes[int(codec)%len(fuzzMimes)]
	tr, err := NewTrack(mediarecorder.Codec{MimeType: mime, ClockRate: 90000}, Options{JitterWindow: 30 * time.Millisecond, OnKeyFrameRequest: func() {}})
	if err != nil {
		t.Fatal(err)
	}
	var s sink
	tr.Subscribe(&s)
	// Cut data into packets; step drives sequence, timestamp and SSRC jumps.
	base := time.Now()
	seq, ts := uint16(65500), uint32(1<<32-5000)
	for i := 0; len(data) > 0; i++ {
		n := min(len(data), 1+int(step)%97+i%5)
		p := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: marker != (i%3 == 0), SSRC: uint32(step >> 6)}, Payload: data[:n]}
		if step&0x20 != 0 && i%4 == 1 {
			// A padding-only packet (bandwidth probe) instead.
			p.Padding, p.Payload, p.PaddingSize = true, nil, 200
			n = 0
		}
		data = data[n:]
		if err := tr.WritePacket(p, base.Add(time.Duration(i)*10*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		seq += uint16(1 + int(step)%3 - 1*(i%4/3))
		ts += uint32(step) * 100
		if i%7 == 6 {
			step = step*31 + 7
		}
	}
	tr.Stop()
	var last time.Duration
	for i, x := range s.get() {
		if len(x.Data) == 0 || (i > 0 && x.Timestamp < last) {
			t.Fatalf("sample %d: %d bytes at %v after %v", i, len(x.Data), x.Timestamp, last)
		}
		last = x.Timestamp
	}
}
