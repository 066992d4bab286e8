package rtpsource

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// TestRecord packetizes real frames of every codec, feeds them in order,
// shuffled, and with a lost packet, records them and checks the file
// with ffmpeg and ffprobe.
func TestRecord(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	type mode int
	const (
		inOrder mode = iota
		shuffled
		lossy
	)
	for _, name := range clipNames {
		c := loadClip(t, name)
		for _, m := range []mode{inOrder, shuffled, lossy} {
			t.Run(name+"/"+[]string{"inorder", "shuffled", "loss"}[m], func(t *testing.T) {
				t.Parallel()
				rng := rand.New(rand.NewPCG(1, uint64(m)))
				pkts := packetize(c, 0, len(c.frames), rng.Uint32(), uint16(rng.Uint32()), rng.Uint32())
				want := len(c.frames)
				wantLost := 0
				switch m {
				case shuffled:
					pkts = shuffle(pkts, 100*time.Millisecond, rng)
				case lossy:
					// Lose the first packet of frame 10 (and, for audio, 50).
					var kept []sent
					for i, s := range pkts {
						first := i == 0 || pkts[i-1].frame != s.frame
						if first && (s.frame == 10 || (c.codec.ClockRate == 48000 && s.frame == 50)) {
							continue
						}
						kept = append(kept, s)
					}
					pkts = kept
					if c.codec.ClockRate == 48000 {
						want, wantLost = len(c.frames)-2, 2
					} else {
						want, wantLost = 40, 1 // frames 0-9, then from the key frame at 30
					}
				}
				var keyReqs atomic.Int32
				tr := newTrack(t, c, Options{OnKeyFrameRequest: func() { keyReqs.Add(1) }})
				rec := startRecording(t, tr)
				feed(t, tr, pkts, time.Now())
				tr.Stop()
				path := rec.file(t)
				st := tr.Stats()
				if st.Frames != want || st.Lost != wantLost {
					t.Errorf("stats %+v, want %d frames, %d lost", st, want, wantLost)
				}
				if m == lossy && c.codec.ClockRate == 90000 && (st.KeyFrameRequests == 0 || keyReqs.Load() == 0) {
					t.Errorf("no key frame request after a loss: %+v", st)
				}
				checkFrames(t, path, want)
			})
		}
	}
}
