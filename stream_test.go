package mediarecorder

import (
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

func TestStream(t *testing.T) {
	a := pcmTrack()
	v := NewSampleTrack(Codec{MimeType: "video/VP8"})
	s := NewStream(a, a, nil)
	if len(s.Tracks()) != 1 || s.ID() == "" || s.ID() == NewStream().ID() {
		t.Fatalf("tracks %v id %q", s.Tracks(), s.ID())
	}
	changes := 0
	stop := s.listen(func() { changes++ })
	s.AddTrack(v)
	s.AddTrack(v) // already there: nothing
	if len(s.VideoTracks()) != 1 || len(s.AudioTracks()) != 1 || changes != 1 {
		t.Fatalf("video %d audio %d changes %d", len(s.VideoTracks()), len(s.AudioTracks()), changes)
	}
	s.RemoveTrack(a)
	s.RemoveTrack(a) // not there: nothing
	if len(s.Tracks()) != 1 || s.Tracks()[0] != Track(v) || changes != 2 {
		t.Fatalf("after remove: %v, %d changes", s.Tracks(), changes)
	}
	stop()
	s.AddTrack(a)
	if changes != 2 {
		t.Fatal("a stopped listener was called")
	}
	if !s.active() {
		t.Fatal("stream with a live track is not active")
	}
	a.Stop()
	v.Stop()
	if s.active() {
		t.Fatal("stream with only ended tracks is active")
	}
}

func TestSampleTrack(t *testing.T) {
	tr := NewSampleTrack(Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2})
	if tr.Kind() != KindAudio || tr.ReadyState() != TrackLive || tr.ID() == "" {
		t.Fatalf("kind %s state %s", tr.Kind(), tr.ReadyState())
	}
	if NewSampleTrack(Codec{MimeType: "Video/VP8"}).Kind() != KindVideo {
		t.Fatal("video kind")
	}
	var got []TimedSample
	var ended atomic.Bool
	unsub := tr.Subscribe(sinkFunc{func(s TimedSample) { got = append(got, s) }, func() { ended.Store(true) }})
	pkt := []byte{0xfc, 1, 2, 3} // config 31 (CELT 20 ms), stereo, one frame
	must(t, tr.WriteSample(Sample{Data: pkt, Duration: 20 * time.Millisecond}))
	must(t, tr.WriteSample(Sample{Data: pkt})) // duration from the TOC
	must(t, tr.WriteSample(Sample{Data: pkt}))
	if len(got) != 3 || got[1].Timestamp-got[0].Timestamp != 20*time.Millisecond || got[2].Timestamp-got[1].Timestamp != 20*time.Millisecond {
		t.Fatalf("timestamps %v", got)
	}
	if !got[0].KeyFrame {
		t.Error("audio samples are key frames")
	}
	unsub()
	must(t, tr.WriteSample(Sample{Data: pkt}))
	if len(got) != 3 {
		t.Fatal("a sample reached an unsubscribed sink")
	}
	// Key frame requests reach the producer by callback and channel.
	var calls atomic.Int32
	tr.OnKeyFrameRequest(func() { calls.Add(1) })
	tr.RequestKeyFrame()
	tr.RequestKeyFrame() // merges with the pending one on the channel
	select {
	case <-tr.KeyFrameRequests():
	default:
		t.Fatal("no request on the channel")
	}
	select {
	case <-tr.KeyFrameRequests():
		t.Fatal("requests did not merge")
	default:
	}
	if calls.Load() != 2 {
		t.Fatalf("callback called %d times", calls.Load())
	}
	tr.Subscribe(sinkFunc{func(TimedSample) {}, func() {}})
	tr.Stop()
	tr.Stop()
	if tr.ReadyState() != TrackEnded {
		t.Fatal("not ended")
	}
	late := false
	tr.Subscribe(sinkFunc{func(TimedSample) {}, func() { late = true }})
	if !late {
		t.Fatal("a sink subscribed after the end is not told")
	}
}

type sinkFunc struct {
	write func(TimedSample)
	end   func()
}

func (s sinkFunc) WriteSample(t TimedSample) { s.write(t) }
func (s sinkFunc) TrackEnded()               { s.end() }

// Concurrent writers, subscribers and stops: run with -race.
func TestFanoutConcurrent(t *testing.T) {
	tr := pcmTrack()
	var wg sync.WaitGroup
	var n atomic.Int64
	for range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 200 {
				_ = tr.WriteSample(pcm20ms(i))
			}
		}()
		go func() {
			defer wg.Done()
			for range 50 {
				u := tr.Subscribe(sinkFunc{func(TimedSample) { n.Add(1) }, func() {}})
				u()
			}
		}()
	}
	wg.Wait()
	tr.Stop()
}

func TestQueueDropsToKeyFrame(t *testing.T) {
	q := newSampleQueue()
	now := Now()
	for i := range queueMaxSamples {
		if ok, _ := q.push(TimedSample{Sample: Sample{Data: []byte{1}}, KeyFrame: i == 0}, 0, 0, now); !ok {
			t.Fatalf("dropped sample %d before full", i)
		}
	}
	if ok, _ := q.push(TimedSample{Sample: Sample{Data: []byte{1}}, KeyFrame: true}, 0, 0, now); ok {
		t.Fatal("a full queue took a sample")
	}
	q.pop()
	q.pop()
	if ok, _ := q.push(TimedSample{Sample: Sample{Data: []byte{2}}}, 0, 0, now); ok {
		t.Fatal("after an overflow, a delta frame was taken before a key frame")
	}
	if ok, _ := q.push(TimedSample{Sample: Sample{Data: []byte{3}}, KeyFrame: true}, 0, 0, now); !ok {
		t.Fatal("the key frame after an overflow was dropped")
	}
	if d := q.takeDropped(); d != 2 {
		t.Fatalf("dropped %d, want 2", d)
	}
}

// TestSlowConsumer: a recorder whose goroutine is stuck drops samples up to
// the next key frame, without stalling the producer or another recorder,
// and still writes a valid file.
func TestSlowConsumer(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	_, frames, err := mediatest.ReadIVF(mediatest.Testdata(t, "vp8.ivf"))
	if err != nil {
		t.Fatal(err)
	}
	tr := NewSampleTrack(Codec{MimeType: "video/VP8", ClockRate: 90000})
	s := NewStream(tr)
	slow, fast := mustNew(t, s, Options{}), mustNew(t, s, Options{})
	slowL, fastL := watch(slow), watch(fast)
	release := make(chan struct{})
	var blocked atomic.Bool
	testHookWake = func(r *Recorder) {
		if r == slow && !blocked.Load() {
			blocked.Store(true)
			<-release
		}
	}
	defer func() { testHookWake = nil }()
	must(t, slow.Start(0))
	must(t, fast.Start(0))
	start := time.Now()
	const loops = 80 // 4800 frames: more than a track's buffer holds
	for i := range loops {
		for _, f := range frames {
			must(t, tr.WriteSample(Sample{Data: f.Data, Duration: time.Second / 30}))
		}
		// Let the working recorder keep up (on a loaded machine it could
		// fall a whole buffer behind too); the stuck one cannot.
		for deadline := time.Now().Add(5 * time.Second); i%10 == 9 && fast.Pending() > 100 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the producer was stalled for %v", d)
	}
	close(release)
	must(t, slow.Stop())
	must(t, fast.Stop())
	slowL.waitStop(t)
	fastL.waitStop(t)
	if slow.Stats().Dropped == 0 {
		t.Errorf("the stuck recorder dropped nothing: %+v", slow.Stats())
	}
	if fast.Stats().Dropped != 0 {
		t.Errorf("the other recorder dropped samples: %+v", fast.Stats())
	}
	for name, l := range map[string]*eventLog{"slow": slowL, "fast": fastL} {
		p := writeTemp(t, l.data())
		if out := mediatest.Decode(t, p); out != "" {
			t.Errorf("%s: ffmpeg: %s", name, out)
		}
		if name == "fast" {
			if got := mediatest.FFprobe(t, p).Streams[0].NbReadFrames; got != loops*len(frames) {
				t.Errorf("fast recorder: %d frames, want %d", got, loops*len(frames))
			}
		}
	}
}

// Key frames are asked for at start, at resume, and by the interval options.
func TestKeyFrameRequests(t *testing.T) {
	// On synctest's clock: the sleeps between frames and the polling take
	// no real time and do not depend on the machine's load.
	synctest.Test(t, func(t *testing.T) {
		useBubbleClock(t)
		_, frames, err := mediatest.ReadIVF(mediatest.Testdata(t, "vp8.ivf"))
		if err != nil {
			t.Fatal(err)
		}
		tr := NewSampleTrack(Codec{MimeType: "video/VP8", ClockRate: 90000})
		r := mustNew(t, NewStream(tr), Options{VideoKeyFrameIntervalCount: 10})
		l := watch(r)
		must(t, r.Start(0))
		select {
		case <-tr.KeyFrameRequests():
		case <-time.After(5 * time.Second):
			t.Fatal("no key frame request at start")
		}
		for _, f := range frames[:25] { // key frame at 0, then 24 deltas
			must(t, tr.WriteSample(Sample{Data: f.Data, Duration: time.Second / 30}))
			time.Sleep(time.Millisecond)
		}
		deadline := time.Now().Add(5 * time.Second)
		for r.Stats().KeyFrameRequests < 2 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if r.Stats().KeyFrameRequests < 2 {
			t.Errorf("no request after 10 frames without a key frame: %+v", r.Stats())
		}
		must(t, r.Stop())
		l.waitStop(t)
	})
}

func writeTemp(t testing.TB, b []byte) string {
	t.Helper()
	p := t.TempDir() + "/out.webm"
	if err := writeFile(p, b); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWriteSampleAt(t *testing.T) {
	tr := pcmTrack()
	var got []TimedSample
	tr.Subscribe(sinkFunc{func(s TimedSample) { got = append(got, s) }, func() {}})
	base := Now()
	must(t, tr.WriteSampleAt(pcm20ms(0), base+time.Second))
	must(t, tr.WriteSample(pcm20ms(1)))
	must(t, tr.WriteSampleAt(pcm20ms(2), base+3*time.Second)) // a gap stays
	if got[0].Timestamp != base+time.Second || got[1].Timestamp != base+time.Second+20*time.Millisecond || got[2].Timestamp != base+3*time.Second {
		t.Fatalf("timestamps %v %v %v", got[0].Timestamp, got[1].Timestamp, got[2].Timestamp)
	}
}

// A live source's late frames (captured before a pause, delivered after the
// resume, as a jitter buffer does) keep the time before the pause; the
// paused time is still cut out.
func TestPauseLateFrames(t *testing.T) {
	// On synctest's clock: the pause lasts exactly 400 ms whatever the
	// machine's load.
	var data []byte
	synctest.Test(t, func(t *testing.T) {
		useBubbleClock(t)
		tr := pcmTrack()
		r := mustNew(t, NewStream(tr), Options{})
		l := watch(r)
		must(t, r.Start(0))
		base := Now() - time.Second // one second of audio captured up to now
		for i := range 45 {
			must(t, tr.WriteSampleAt(pcm20ms(i), base+time.Duration(i)*20*time.Millisecond))
		}
		time.Sleep(50 * time.Millisecond)
		must(t, r.Pause())
		time.Sleep(400 * time.Millisecond)
		must(t, r.Resume())
		// Late: the last 100 ms before the pause.
		for i := 45; i < 50; i++ {
			must(t, tr.WriteSampleAt(pcm20ms(i), base+time.Duration(i)*20*time.Millisecond))
		}
		// Then 500 ms captured after the resume.
		after := Now()
		for i := range 25 {
			must(t, tr.WriteSampleAt(pcm20ms(i), after+time.Duration(i)*20*time.Millisecond))
		}
		must(t, r.Stop())
		l.waitStop(t)
		data = l.data()
	})
	p := mediatest.FFprobe(t, writeTemp(t, data))
	// 1 s before the pause + 0.5 s after; the 0.4 s pause is gone.
	if p.Duration < 1.4 || p.Duration > 1.6 {
		t.Errorf("duration %.3f s, want 1.5 s", p.Duration)
	}
}

// A video track that never sends a key frame is left out of the file; its
// later samples are skipped, and when every track ends the recorder stops
// by itself.
func TestExcludedTrackEnds(t *testing.T) {
	_, frames, err := mediatest.ReadIVF(mediatest.Testdata(t, "vp8.ivf"))
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	var stats Stats
	// On synctest's clock: synctest.Wait, not a sleep, lets the recorder
	// write the header without video before more deltas come.
	synctest.Test(t, func(t *testing.T) {
		useBubbleClock(t)
		v := NewSampleTrack(Codec{MimeType: "video/VP8", ClockRate: 90000})
		a := pcmTrack()
		r := mustNew(t, NewStream(v, a), Options{})
		l := watch(r)
		must(t, r.Start(0))
		for i := range 150 { // 3 s of audio; video: deltas only
			must(t, a.WriteSample(pcm20ms(i)))
			if i%2 == 0 {
				must(t, v.WriteSample(Sample{Data: frames[1+i%29].Data, Duration: 40 * time.Millisecond}))
			}
		}
		synctest.Wait()
		for i := range 20 { // more deltas after the header was written without video
			must(t, v.WriteSample(Sample{Data: frames[1+i].Data, Duration: 40 * time.Millisecond}))
		}
		v.Stop()
		a.Stop()
		l.waitStop(t)
		data, stats = l.data(), r.Stats()
	})
	if stats.Skipped < 90 {
		t.Errorf("stats %+v", stats)
	}
	p := mediatest.FFprobe(t, writeTemp(t, data))
	if len(p.Streams) != 1 || p.Streams[0].CodecType != "audio" {
		t.Errorf("streams %+v", p.Streams)
	}
}
