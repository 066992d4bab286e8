package rtpsource

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// checkSpacing checks that consecutive samples are step apart (± 1 ms),
// except where gaps says otherwise (index of the later sample → gap).
func checkSpacing(t *testing.T, got []mediarecorder.TimedSample, step time.Duration, gaps map[int]time.Duration) {
	t.Helper()
	for i := 1; i < len(got); i++ {
		want := step
		if g, ok := gaps[i]; ok {
			want = g
		}
		if d := got[i].Timestamp - got[i-1].Timestamp; d < want-time.Millisecond || d > want+time.Millisecond {
			t.Errorf("sample %d: %v after the previous one, want %v", i, d, want)
		}
	}
}

// TestTimestampWrap starts the RTP timestamps and sequence numbers just
// before they wrap.
func TestTimestampWrap(t *testing.T) {
	for _, name := range []string{"vp8", "opus"} {
		t.Run(name, func(t *testing.T) {
			c := loadClip(t, name)
			start := uint32(math.MaxUint32 - 10*c.ticks[0])
			pkts := packetize(c, 0, len(c.frames), 1, 65530, start)
			tr := newTrack(t, c, Options{})
			var s sink
			tr.Subscribe(&s)
			rec := startRecording(t, tr)
			feed(t, tr, pkts, time.Now())
			tr.Stop()
			got := s.get()
			if len(got) != len(c.frames) {
				t.Fatalf("%d samples, want %d", len(got), len(c.frames))
			}
			step := time.Duration(c.ticks[0]) * time.Second / time.Duration(c.codec.ClockRate)
			checkSpacing(t, got, step, nil)
			path := rec.file(t)
			mediatest.Decode(t, path)
			if p := mediatest.FFprobe(t, path); p.Duration < 1.9 || p.Duration > 2.2 {
				t.Errorf("duration %v, want 2 s", p.Duration)
			}
		})
	}
}

// TestSSRCChange switches SSRC, sequence numbers and RTP timestamps at the
// key frame in the middle: the timeline goes on.
func TestSSRCChange(t *testing.T) {
	c := loadClip(t, "vp8")
	a := packetize(c, 0, 30, 1111, 100, 5000)
	b := packetize(c, 30, 60, 2222, 40000, 3_000_000_000)
	for i := range b {
		b[i].at += time.Second // frame 30 is sent 1 s after frame 0
	}
	tr := newTrack(t, c, Options{})
	var s sink
	tr.Subscribe(&s)
	rec := startRecording(t, tr)
	base := time.Now()
	feed(t, tr, a, base)
	feed(t, tr, b, base)
	tr.Stop()
	got := s.get()
	if len(got) != 60 {
		t.Fatalf("%d samples, want 60", len(got))
	}
	checkSpacing(t, got, time.Second/30, nil)
	path := rec.file(t)
	mediatest.Decode(t, path)
	if p := mediatest.FFprobe(t, path); p.Streams[0].NbReadFrames != 60 {
		t.Errorf("ffprobe: %+v", p.Streams)
	}
}

// TestAudioGap sends nothing for 1 s (RTP time and arrival jump, sequence
// numbers go on, as with DTX): the recording keeps the second.
func TestAudioGap(t *testing.T) {
	c := loadClip(t, "opus")
	pkts := packetize(c, 0, len(c.frames), 7, 1, 1000)
	for i := range pkts {
		if pkts[i].frame >= 50 {
			pkts[i].p.Timestamp += 48000
			pkts[i].at += time.Second
		}
	}
	tr := newTrack(t, c, Options{})
	var s sink
	tr.Subscribe(&s)
	rec := startRecording(t, tr)
	feed(t, tr, pkts, time.Now())
	tr.Stop()
	checkSpacing(t, s.get(), 20*time.Millisecond, map[int]time.Duration{50: time.Second + 20*time.Millisecond})
	path := rec.file(t)
	mediatest.Decode(t, path)
	p := mediatest.FFprobe(t, path)
	if p.Duration < 2.95 || p.Duration > 3.1 {
		t.Errorf("duration %v, want 3 s", p.Duration)
	}
	pts := mediatest.FFprobeLines(t, path, "-select_streams", "a", "-show_entries", "packet=pts_time", "-of", "csv=p=0")
	if len(pts) != len(c.frames) {
		t.Fatalf("%d packets, want %d", len(pts), len(c.frames))
	}
	t49, _ := strconv.ParseFloat(pts[49], 64)
	t50, _ := strconv.ParseFloat(pts[50], 64)
	if d := t50 - t49; d < 1.015 || d > 1.025 {
		t.Errorf("packet 50 is %.3f s after packet 49, want 1.020", d)
	}
}

// ntpTime returns t as a 32.32 NTP timestamp.
func ntpTime(t time.Time) uint64 {
	d := t.Sub(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC))
	secs := uint64(d / time.Second)
	frac := uint64(d%time.Second) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// TestSenderReportSync sends audio and video of one sender, the video
// starting 500 ms later and arriving with 250 ms more delay than the
// audio: Sender Reports put the video 500 ms after the audio.
func TestSenderReportSync(t *testing.T) {
	ac, vc := loadClip(t, "opus"), loadClip(t, "vp8")
	const (
		aBase = 123456
		vBase = 4_000_000_000
	)
	ap := packetize(ac, 0, len(ac.frames), 10, 1, aBase)
	vp := packetize(vc, 0, len(vc.frames), 20, 1, vBase)
	sendStart := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC) // the sender's NTP clock at audio RTP time aBase
	for i := range ap {
		ap[i].at += 20 * time.Millisecond
	}
	for i := range vp {
		vp[i].at += 500*time.Millisecond + 270*time.Millisecond
	}
	sess := NewSession()
	at, err := NewTrack(ac.codec, Options{Session: sess})
	if err != nil {
		t.Fatal(err)
	}
	vt, err := NewTrack(vc.codec, Options{Session: sess})
	if err != nil {
		t.Fatal(err)
	}
	rec := startRecording(t, at, vt)
	base := time.Now()
	// Audio's SR arrives with its first packet, video's with its own.
	at.WriteRTCP([]rtcp.Packet{&rtcp.SenderReport{SSRC: 10, NTPTime: ntpTime(sendStart), RTPTime: aBase}})
	var vSR bool
	i, j := 0, 0
	for i < len(ap) || j < len(vp) {
		if j >= len(vp) || (i < len(ap) && ap[i].at <= vp[j].at) {
			if err := at.WritePacket(ap[i].p, base.Add(ap[i].at)); err != nil {
				t.Fatal(err)
			}
			i++
			continue
		}
		if !vSR {
			vSR = true
			// Video RTP time vBase is 500 ms after the audio's start.
			vt.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 99}, &rtcp.SenderReport{SSRC: 20, NTPTime: ntpTime(sendStart.Add(500 * time.Millisecond)), RTPTime: vBase}})
		}
		if err := vt.WritePacket(vp[j].p, base.Add(vp[j].at)); err != nil {
			t.Fatal(err)
		}
		j++
	}
	at.Stop()
	vt.Stop()
	path := rec.file(t)
	mediatest.Decode(t, path)
	lines := mediatest.FFprobeLines(t, path, "-show_entries", "stream=codec_type,start_time", "-of", "csv=p=0")
	starts := map[string]float64{}
	for _, l := range lines {
		f := strings.Split(l, ",")
		if len(f) == 2 {
			starts[f[0]], _ = strconv.ParseFloat(f[1], 64)
		}
	}
	if d := starts["video"] - starts["audio"]; d < 0.46 || d > 0.54 {
		t.Errorf("video starts %.3f s after audio, want 0.5 ± 0.04 (%q)", d, lines)
	}
}

// TestLateFrameTail: the sender stalls for 300 ms in the middle of a
// multi-packet key frame (a paced key frame, a busy sender). No packet is
// lost, so no frame is dropped: the frame waits for its tail.
func TestLateFrameTail(t *testing.T) {
	vc := loadClip(t, "vp8")
	pkts := packetize(vc, 0, len(vc.frames), 30, 100, 5000)
	stall := -1
	for i := 1; i < len(pkts); i++ {
		if pkts[i].frame == pkts[i-1].frame { // inside a frame
			stall = i
			break
		}
	}
	if stall < 0 {
		t.Fatal("no frame of several packets in the clip")
	}
	for i := stall; i < len(pkts); i++ {
		pkts[i].at += 300 * time.Millisecond
	}
	tr := newTrack(t, vc, Options{})
	s := &sink{}
	tr.Subscribe(s)
	feed(t, tr, pkts, time.Now())
	tr.Stop()
	st := tr.Stats()
	if st.Dropped != 0 || st.Lost != 0 || st.Frames != len(vc.frames) {
		t.Errorf("stats %+v: want every one of %d frames, none dropped", st, len(vc.frames))
	}
}

// TestSenderReportJitter: a sender whose reports pair NTP and RTP times
// up to 40 ms off (as a busy one does) moves the timeline by at most 5 ms
// per report, so frames keep their spacing.
func TestSenderReportJitter(t *testing.T) {
	ac := loadClip(t, "opus")
	pkts := packetize(ac, 0, len(ac.frames), 40, 1, 1000)
	tr := newTrack(t, ac, Options{})
	s := &sink{}
	tr.Subscribe(s)
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	base := time.Now()
	for i, p := range pkts {
		if i%50 == 0 { // a report a second, alternately 40 ms early and late
			off := 40 * time.Millisecond
			if i/50%2 == 1 {
				off = -off
			}
			if i == 0 {
				off = 0
			}
			tr.WriteRTCP([]rtcp.Packet{&rtcp.SenderReport{SSRC: 40, NTPTime: ntpTime(start.Add(p.at + off)), RTPTime: p.p.Timestamp}})
		}
		if err := tr.WritePacket(p.p, base.Add(p.at)); err != nil {
			t.Fatal(err)
		}
	}
	tr.Stop()
	got := s.get()
	if len(got) < 100 {
		t.Fatalf("%d samples", len(got))
	}
	for i := 1; i < len(got); i++ {
		if d := got[i].Timestamp - got[i-1].Timestamp; d < 14*time.Millisecond || d > 26*time.Millisecond {
			t.Errorf("sample %d: %v after the previous one, want 20 ± 6 ms", i, d)
		}
	}
}
