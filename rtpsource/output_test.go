package rtpsource

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/codec"
)

// TestOutputTimeline: where frames land on the published timeline, and
// how long they last.
func TestOutputTimeline(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	opus10 := []byte{0xf0}   // CELT FB 10 ms, one frame
	opus20x2 := []byte{0xf9} // CELT FB 20 ms, two frames
	for _, tc := range []struct {
		name   string
		audio  bool
		frames []frame // data, ts, key
		want   []string
	}{
		{"audio: duration from the Opus packet", true,
			[]frame{{data: opus10, ts: ms(0)}, {data: opus20x2, ts: ms(10)}, {data: opus10, ts: ms(50)}},
			[]string{"0s+10ms", "10ms+40ms", "50ms+10ms"}},
		{"audio: 20 ms when the packet says nothing", true,
			[]frame{{data: []byte{}, ts: ms(0)}},
			[]string{"0s+20ms"}},
		{"audio: a timestamp that goes back is held at the previous one", true,
			[]frame{{data: opus10, ts: ms(100)}, {data: opus10, ts: ms(90)}},
			[]string{"100ms+10ms", "100ms+10ms"}},
		{"video: a frame lasts to the next one, the last as long as the one before", false,
			[]frame{{ts: ms(0)}, {ts: ms(40)}, {ts: ms(100)}},
			[]string{"0s+40ms", "40ms+60ms", "100ms+60ms"}},
		{"video: a single frame lasts 1/30 s", false,
			[]frame{{ts: ms(0)}},
			[]string{"0s+33.333333ms"}},
		{"video: a step of over a second takes the previous duration", false,
			[]frame{{ts: ms(0)}, {ts: ms(40)}, {ts: ms(1100)}},
			[]string{"0s+40ms", "40ms+40ms", "1.1s+40ms"}},
		{"video: a timestamp that goes back is held at the previous one", false,
			[]frame{{ts: ms(0)}, {ts: ms(40)}, {ts: ms(30)}, {ts: ms(80)}},
			[]string{"0s+40ms", "40ms+40ms", "40ms+40ms", "80ms+40ms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newTestOutput(tc.audio)
			var s sink
			o.fan.Subscribe(&s)
			for _, f := range tc.frames {
				o.place(f)
			}
			o.flushHeld()
			var got []string
			for _, x := range s.get() {
				got = append(got, fmt.Sprintf("%v+%v", x.Timestamp, x.Duration))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("published %q, want %q", got, tc.want)
			}
			if o.frames != len(tc.want) {
				t.Errorf("%d frames counted, want %d", o.frames, len(tc.want))
			}
		})
	}
}

// TestOutputNotBefore: a new SSRC's timeline starts no earlier than the
// end of what was published.
func TestOutputNotBefore(t *testing.T) {
	o := newTestOutput(true)
	if got := o.notBefore(time.Second); got != time.Second {
		t.Errorf("nothing published: %v, want 1s", got)
	}
	o.place(frame{data: []byte{0xf0}, ts: 2 * time.Second})
	if got := o.notBefore(time.Second); got != 2*time.Second+10*time.Millisecond {
		t.Errorf("before the end: %v, want 2.01s", got)
	}
	if got := o.notBefore(3 * time.Second); got != 3*time.Second {
		t.Errorf("after the end: %v, want 3s", got)
	}
}

// TestOutputBuffers: a published frame's buffer assembles the next frame;
// a buffer given back is handed out again.
func TestOutputBuffers(t *testing.T) {
	o := newTestOutput(true)
	b := append(o.buffer(), 0xf0)
	o.place(frame{data: b, ts: 0})
	if n := o.buffer(); cap(n) == 0 || &n[:1][0] != &b[0] {
		t.Error("the published frame's buffer was not handed out")
	}
	c := append(o.buffer(), 1, 2, 3)
	o.recycle(c)
	if n := o.buffer(); len(n) != 0 || &n[:1][0] != &c[0] {
		t.Error("the buffer given back was not handed out again, empty")
	}
}

// newTestOutput returns the output of an Opus or VP8 track.
func newTestOutput(audio bool) *output {
	if audio {
		return &output{codec: codec.Opus, params: mediarecorder.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2}}
	}
	return &output{codec: codec.VP8, params: mediarecorder.Codec{MimeType: "video/VP8", ClockRate: 90000}}
}
