package rtpsource

import (
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder"
)

// discard is a sink that keeps nothing (a recorder copies what it keeps).
type discard struct{ n int }

func (d *discard) WriteSample(s mediarecorder.TimedSample) { d.n += len(s.Data) }
func (d *discard) TrackEnded()                             {}

// discardTrack returns clip name, its packets in order, and a track of it
// whose one subscriber keeps nothing (until tb ends).
func discardTrack(tb testing.TB, name string) (clip, []sent, *Track, *discard) {
	c := loadClip(tb, name)
	pkts := packetize(c, 0, len(c.frames), 1, 0, 0)
	d := &discard{}
	tr := newTrack(tb, c, Options{})
	tb.Cleanup(tr.Subscribe(d))
	return c, pkts, tr, d
}

// BenchmarkWritePacket feeds a clip's RTP packets, in order, to a track
// with one subscriber: the cost of reassembly and publishing per packet.
func BenchmarkWritePacket(b *testing.B) {
	for _, name := range []string{"vp8", "opus"} {
		b.Run(name, func(b *testing.B) {
			c, pkts, tr, d := discardTrack(b, name)
			base := time.Now()
			span := pkts[len(pkts)-1].at + 40*time.Millisecond // the clip's length, to lay copies end to end
			ticks := uint32(0)
			for _, t := range c.ticks {
				ticks += t
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				loop, k := i/len(pkts), i%len(pkts)
				s := pkts[k]
				p := *s.p
				p.SequenceNumber += uint16(loop * len(pkts))
				p.Timestamp += uint32(loop) * ticks
				if err := tr.WritePacket(&p, base.Add(time.Duration(loop)*span+s.at)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if b.N > 2*len(pkts) && d.n == 0 {
				b.Fatal("nothing published")
			}
		})
	}
}

// TestWritePacketAllocs: reassembly and publishing, in order, allocate
// nothing per packet once the track's buffers have grown (what
// BenchmarkWritePacket reports as 0 allocs/op).
func TestWritePacketAllocs(t *testing.T) {
	for _, name := range []string{"vp8", "opus"} {
		t.Run(name, func(t *testing.T) {
			_, pkts, tr, _ := discardTrack(t, name)
			base := time.Now()
			i := 0
			write := func() {
				p := *pkts[i].p
				if err := tr.WritePacket(&p, base.Add(pkts[i].at)); err != nil {
					t.Fatal(err)
				}
				i++
			}
			for range len(pkts) / 2 { // buffers grow
				write()
			}
			if n := testing.AllocsPerRun(len(pkts)/2-1, write); n != 0 {
				t.Errorf("%v allocations per packet, want 0", n)
			}
		})
	}
}
