package rtpsource

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// padPacket returns a padding-only packet as it comes off the wire (a
// bandwidth probe): the Padding flag set, 224 bytes of padding, no payload.
func padPacket(t testing.TB, ssrc uint32, seq uint16, ts uint32) *rtp.Packet {
	t.Helper()
	raw, err := (&rtp.Packet{Header: rtp.Header{
		Version: 2, Padding: true, PayloadType: 96,
		SequenceNumber: seq, Timestamp: ts, SSRC: ssrc, PaddingSize: 224,
	}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var p rtp.Packet
	if err := p.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	if !p.Padding || len(p.Payload) != 0 {
		t.Fatalf("not a padding-only packet: %+v", p)
	}
	return &p
}

// insertPadding inserts n(i) padding-only packets before packet i (in
// sending order), with the timestamp of the packet before them (of the
// first packet, before it) and its arrival time, and renumbers the
// sequence numbers so that the padding fills slots of its own.
func insertPadding(t testing.TB, pkts []sent, n func(pkts []sent, i int) int) (out []sent, pads int) {
	t.Helper()
	seq := pkts[0].p.SequenceNumber
	for i, s := range pkts {
		prev := pkts[max(i-1, 0)]
		for range n(pkts, i) {
			out = append(out, sent{p: padPacket(t, s.p.SSRC, seq, prev.p.Timestamp), frame: -1, at: prev.at})
			seq++
			pads++
		}
		s.p.SequenceNumber = seq
		seq++
		out = append(out, s)
	}
	return out, pads
}

// padBetweenAndInside puts 2 padding packets before every 4th frame and
// one after the first packet of every frame of several packets.
func padBetweenAndInside(pkts []sent, i int) int {
	switch {
	case i == 0:
		return 0
	case pkts[i].frame != pkts[i-1].frame && pkts[i].frame%4 == 0:
		return 2
	case pkts[i].frame == pkts[i-1].frame && (i < 2 || pkts[i-2].frame != pkts[i].frame):
		return 1
	}
	return 0
}

// corrupt replaces the payload of the first packet of frame with bad,
// which does not depacketize.
func corrupt(frame int, bad []byte) func([]sent) []sent {
	return func(pkts []sent) []sent {
		for _, s := range pkts {
			if s.frame == frame {
				s.p.Payload = bad
				break
			}
		}
		return pkts
	}
}

// TestRecordDamaged records streams with padding-only packets (bandwidth
// probes) and with frames that do not depacketize, and checks the stats,
// the key-frame requests and the file (ffmpeg, ffprobe).
func TestRecordDamaged(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	type tcase struct {
		name    string
		clip    string
		window  time.Duration
		padding func(pkts []sent, i int) int // padding packets before packet i
		damage  func([]sent) []sent
		shuffle bool
		frames  int // published and in the file
		dropped int
		keyReqs [2]int // min, max key-frame requests
		keyAt   int    // a key frame is published at this index
	}
	tests := []tcase{
		{name: "vp8/corrupt", clip: "vp8", damage: corrupt(10, []byte{0x90}),
			// Frame 10 fails, 11-29 wait for the key frame at 30. Frames
			// 10-29 span 20/30 s: with requests 150 ms apart, at most 5.
			frames: 40, dropped: 20, keyReqs: [2]int{1, 5}, keyAt: 10},
		{name: "vp8/corrupt/short-window", clip: "vp8", window: 20 * time.Millisecond, damage: corrupt(10, []byte{0x90}),
			frames: 40, dropped: 20, keyReqs: [2]int{1, 7}, keyAt: 10}, // 100 ms apart at least
		{name: "vp8/corrupt-first", clip: "vp8", damage: corrupt(0, []byte{0x90}),
			frames: 30, dropped: 30, keyReqs: [2]int{1, 8}, keyAt: 0},
		{name: "h264/corrupt", clip: "h264", damage: corrupt(10, []byte{0x7c}),
			frames: 40, dropped: 20, keyReqs: [2]int{1, 5}, keyAt: 10},
		{name: "vp8/corrupt+padding", clip: "vp8", padding: padBetweenAndInside, damage: corrupt(10, []byte{0x90}),
			frames: 40, dropped: 20, keyReqs: [2]int{1, 5}, keyAt: 10},
		{name: "vp8/padding-first", clip: "vp8", frames: 60, keyAt: 0,
			padding: func(_ []sent, i int) int {
				if i == 0 {
					return 5 // probes before the first frame
				}
				return 0
			}},
		{name: "vp8/padding-shuffled", clip: "vp8", padding: padBetweenAndInside, shuffle: true, frames: 60, keyAt: 30},
	}
	for _, name := range clipNames {
		tests = append(tests, tcase{name: name + "/padding", clip: name, padding: padBetweenAndInside, frames: 60, keyAt: 0})
	}
	clips := map[string]clip{}
	for _, tc := range tests {
		if _, ok := clips[tc.clip]; !ok {
			clips[tc.clip] = loadClip(t, tc.clip)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := clips[tc.clip]
			rng := rand.New(rand.NewPCG(7, uint64(len(tc.name))))
			pkts := packetize(c, 0, len(c.frames), rng.Uint32(), uint16(rng.Uint32()), rng.Uint32())
			if tc.damage != nil {
				pkts = tc.damage(pkts)
			}
			pads := 0
			if tc.padding != nil {
				pkts, pads = insertPadding(t, pkts, tc.padding)
				if pads == 0 {
					t.Fatal("no padding inserted")
				}
			}
			if tc.shuffle {
				pkts = shuffle(pkts, 100*time.Millisecond, rng)
			}
			frames, dropped := tc.frames, tc.dropped
			if c.codec.ClockRate == 48000 {
				frames = len(c.frames)
			}
			var keyReqs atomic.Int32
			tr := newTrack(t, c, Options{JitterWindow: tc.window, OnKeyFrameRequest: func() { keyReqs.Add(1) }})
			var s sink
			tr.Subscribe(&s)
			rec := startRecording(t, tr)
			// The recorder asks for a key frame when it starts: count
			// only the requests the track makes on its own.
			for deadline := time.Now().Add(2 * time.Second); tr.Kind() == mediarecorder.KindVideo && keyReqs.Load() == 0 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			base := int(keyReqs.Load())
			feed(t, tr, pkts, time.Now())
			tr.Stop()
			path := rec.file(t)

			st := tr.Stats()
			if st.Frames != frames || st.Dropped != dropped || st.Lost != 0 || st.Padding != pads || st.Packets != len(pkts) {
				t.Errorf("stats %+v, want %d frames, %d dropped, 0 lost, %d padding, %d packets", st, frames, dropped, pads, len(pkts))
			}
			if n := int(keyReqs.Load()); n != st.KeyFrameRequests || n-base < tc.keyReqs[0] || n-base > tc.keyReqs[1] {
				t.Errorf("%d key-frame requests (stats %d, the recorder's %d), want %d to %d from the track", n, st.KeyFrameRequests, base, tc.keyReqs[0], tc.keyReqs[1])
			}
			got := s.get()
			if len(got) != frames {
				t.Fatalf("%d samples, want %d", len(got), frames)
			}
			if c.codec.ClockRate == 90000 {
				if !got[tc.keyAt].KeyFrame || !got[0].KeyFrame {
					t.Errorf("samples 0 and %d are not key frames", tc.keyAt)
				}
				// The recording resumes at the key frame: frame 30 is 1 s
				// after frame 0, whatever was dropped in between.
				if tc.dropped > 0 && tc.keyAt > 0 {
					if d := got[tc.keyAt].Timestamp - got[0].Timestamp; d < 990*time.Millisecond || d > 1010*time.Millisecond {
						t.Errorf("the key frame after the damage is %v after the first frame, want 1 s", d)
					}
				}
			}
			checkFrames(t, path, frames)
		})
	}
}
