package mediarecorder

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestErrorsIsAs(t *testing.T) {
	err := error(domErr(NameInvalidState, "x"))
	if !errors.Is(err, ErrInvalidState) || errors.Is(err, ErrNotSupported) {
		t.Fatal("errors.Is does not match by name")
	}
	var d *DOMException
	if !errors.As(err, &d) || d.Name != "InvalidStateError" || d.Message != "x" {
		t.Fatalf("errors.As: %+v", d)
	}
	for _, e := range []error{ErrInvalidState, ErrNotSupported, ErrSecurity, ErrInvalidModification, ErrUnknown} {
		if !errors.Is(e, e) {
			t.Errorf("%v is not itself", e)
		}
	}
	if got := err.Error(); got != "InvalidStateError: x" {
		t.Errorf("Error() = %q", got)
	}
}

// The founding document: stop() on an inactive recorder raises
// InvalidStateError and fires nothing.
func TestStopInactive(t *testing.T) {
	r := mustNew(t, NewStream(pcmTrack()), Options{})
	l := watch(r)
	if err := r.Stop(); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("Stop() on inactive = %v, want InvalidStateError", err)
	}
	l.settle()
	l.expect(t)
}

func TestInactiveMethods(t *testing.T) {
	r := mustNew(t, NewStream(pcmTrack()), Options{})
	l := watch(r)
	for name, f := range map[string]func() error{"Pause": r.Pause, "Resume": r.Resume, "RequestData": r.RequestData, "Stop": r.Stop} {
		if err := f(); !errors.Is(err, ErrInvalidState) {
			t.Errorf("%s() on inactive = %v, want InvalidStateError", name, err)
		}
	}
	l.settle()
	l.expect(t)
}

// Start(0) followed at once by Stop() still fires start, dataavailable, stop.
func TestStartStopAtOnce(t *testing.T) {
	tr := pcmTrack()
	r := mustNew(t, NewStream(tr), Options{})
	l := watch(r)
	must(t, r.Start(0))
	if s := r.State(); s != StateRecording {
		t.Fatalf("state after Start = %s", s)
	}
	must(t, r.Stop())
	if s := r.State(); s != StateInactive {
		t.Fatalf("state after Stop = %s", s)
	}
	l.waitStop(t)
	l.settle()
	l.expect(t, "start", "dataavailable", "stop")
	if l.blobs[0].Timecode != 0 {
		t.Errorf("first timecode = %v, want 0", l.blobs[0].Timecode)
	}
	if err := r.Stop(); !errors.Is(err, ErrInvalidState) {
		t.Errorf("second Stop = %v", err)
	}
}

func TestStartTwice(t *testing.T) {
	r := mustNew(t, NewStream(pcmTrack()), Options{})
	l := watch(r)
	must(t, r.Start(0))
	if err := r.Start(0); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("Start while recording = %v", err)
	}
	must(t, r.Pause())
	if err := r.Start(0); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("Start while paused = %v", err)
	}
	must(t, r.Stop())
	l.waitStop(t)
}

// Synchronous state changes, and pause()/resume() no-ops.
func TestPauseResume(t *testing.T) {
	tr := pcmTrack()
	r := mustNew(t, NewStream(tr), Options{})
	l := watch(r)
	must(t, r.Start(0))
	must(t, r.Resume()) // recording: no-op, no event
	must(t, r.Pause())
	if s := r.State(); s != StatePaused {
		t.Fatalf("state after Pause = %s", s)
	}
	must(t, r.Pause()) // paused: no-op, no event
	must(t, r.Resume())
	if s := r.State(); s != StateRecording {
		t.Fatalf("state after Resume = %s", s)
	}
	must(t, r.RequestData())
	must(t, r.Stop())
	l.waitStop(t)
	l.settle()
	l.expect(t, "start", "pause", "resume", "dataavailable", "dataavailable", "stop")
}

func TestNotSupported(t *testing.T) {
	vp8 := NewSampleTrack(Codec{MimeType: "video/VP8", ClockRate: 90000})
	h264 := NewSampleTrack(Codec{MimeType: "video/H264", ClockRate: 90000})
	opus := NewSampleTrack(Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2})
	weird := NewSampleTrack(Codec{MimeType: "video/MPV", ClockRate: 90000})
	ended := pcmTrack()
	ended.Stop()

	if _, err := New(NewStream(opus), Options{MimeType: "video/mp3"}); !errors.Is(err, ErrNotSupported) {
		t.Errorf("New(video/mp3) = %v", err)
	}
	if _, err := New(NewStream(opus), Options{MimeType: "not a type"}); !errors.Is(err, ErrNotSupported) {
		t.Errorf("New(garbage) = %v", err)
	}
	if _, err := New(NewStream(vp8), Options{VideoKeyFrameIntervalDuration: time.Second, VideoKeyFrameIntervalCount: 30}); !errors.Is(err, ErrNotSupported) {
		t.Errorf("New with both key frame intervals = %v", err)
	}
	cases := []struct {
		name   string
		stream *Stream
		mime   string
	}{
		{"no tracks", NewStream(), ""},
		{"only ended tracks", NewStream(ended), ""},
		{"video in audio/ogg", NewStream(vp8, opus), "audio/ogg"},
		{"video in audio/webm", NewStream(vp8), "audio/webm"},
		{"h264 in webm", NewStream(h264), "video/webm"},
		{"codec differs from track", NewStream(vp8), "video/webm;codecs=vp9"},
		{"audio codec differs", NewStream(opus), "audio/webm;codecs=pcm"},
		{"unknown track codec", NewStream(weird), ""},
		{"two video tracks", NewStream(vp8, NewSampleTrack(Codec{MimeType: "video/VP8"})), ""},
	}
	for _, c := range cases {
		r, err := New(c.stream, Options{MimeType: c.mime})
		if err != nil {
			t.Errorf("%s: New: %v", c.name, err)
			continue
		}
		l := watch(r)
		if err := r.Start(0); !errors.Is(err, ErrNotSupported) {
			t.Errorf("%s: Start = %v, want NotSupportedError", c.name, err)
		}
		if r.State() != StateInactive {
			t.Errorf("%s: state %s after failed Start", c.name, r.State())
		}
		l.settle()
		l.expect(t)
	}
}

// The mimeType timeline: the constructor's value, the full type from the
// start event to the stop, the constructor's value again after.
func TestMimeTypeTimeline(t *testing.T) {
	// On synctest's clock: the start event is awaited with synctest.Wait,
	// not by polling.
	synctest.Test(t, func(t *testing.T) {
		useBubbleClock(t)
		for _, c := range []struct{ given, full string }{
			{"", "audio/webm;codecs=pcm"},
			{"audio/webm", "audio/webm;codecs=pcm"},
			{"AUDIO/X-MATROSKA", "audio/x-matroska;codecs=pcm"},
			{`video/webm; codecs="pcm"`, "video/webm;codecs=pcm"},
		} {
			tr := pcmTrack()
			r := mustNew(t, NewStream(tr), Options{MimeType: c.given})
			l := watch(r)
			if got := r.MimeType(); got != c.given {
				t.Errorf("before start: %q", got)
			}
			must(t, r.Start(0))
			must(t, tr.WriteSample(pcm20ms(0)))
			synctest.Wait() // the start event has fired
			if got := r.MimeType(); got != c.full {
				t.Errorf("%q: after start event: %q, want %q", c.given, got, c.full)
			}
			must(t, r.Stop())
			if got := r.MimeType(); got != c.given {
				t.Errorf("after stop: %q, want %q", got, c.given)
			}
			l.waitStop(t)
			l.mu.Lock()
			if l.mimes[0] != c.full {
				t.Errorf("%q: in start handler: %q", c.given, l.mimes[0])
			}
			for _, b := range l.blobs {
				if b.Data.Type() != c.full {
					t.Errorf("blob type %q, want %q", b.Data.Type(), c.full)
				}
			}
			l.mu.Unlock()
		}
	})
}

func TestDefaultTypes(t *testing.T) {
	codec := func(m string) *SampleTrack { return NewSampleTrack(Codec{MimeType: m, ClockRate: 90000}) }
	opus := func() Track { return NewSampleTrack(Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2}) }
	for _, c := range []struct {
		tracks []Track
		want   string
	}{
		{[]Track{codec("video/VP8"), opus()}, "video/webm;codecs=vp8,opus"},
		{[]Track{opus(), codec("video/VP9")}, "video/webm;codecs=vp9,opus"},
		{[]Track{codec("video/AV1"), opus()}, "video/webm;codecs=av1,opus"},
		{[]Track{codec("video/H264"), opus()}, "video/x-matroska;codecs=avc1,opus"},
		{[]Track{opus()}, "audio/webm;codecs=opus"},
		{[]Track{codec("video/VP8")}, "video/webm;codecs=vp8"},
	} {
		var live []Track
		live = append(live, c.tracks...)
		cfg, err := configure(mimeType{}, live)
		if err != nil {
			t.Errorf("%s: %v", c.want, err)
			continue
		}
		if cfg.fullType != c.want {
			t.Errorf("got %s, want %s", cfg.fullType, c.want)
		}
	}
	// The caller's codec names are kept.
	m, _ := parseMIME(`video/webm;codecs="vp09.00.10.08"`)
	cfg, err := configure(m, []Track{codec("video/VP9"), opus()})
	if err != nil || cfg.fullType != "video/webm;codecs=vp09.00.10.08,opus" {
		t.Errorf("got %q, %v", cfg.fullType, err)
	}
}

// A track added to or removed from the stream ends the recording:
// error (InvalidModificationError, state already inactive), dataavailable, stop.
func TestTrackSetChange(t *testing.T) {
	for _, add := range []bool{true, false} {
		a, b := pcmTrack(), NewSampleTrack(Codec{MimeType: "video/VP8"})
		s := NewStream(a)
		r := mustNew(t, s, Options{})
		l := watch(r)
		must(t, r.Start(0))
		must(t, a.WriteSample(pcm20ms(0)))
		if add {
			s.AddTrack(b)
		} else {
			s.RemoveTrack(a)
		}
		if r.State() != StateInactive {
			t.Errorf("state right after the change: %s", r.State())
		}
		l.waitStop(t)
		l.settle()
		l.expect(t, "start", "error", "dataavailable", "stop")
		l.mu.Lock()
		if !errors.Is(l.errs[0], ErrInvalidModification) {
			t.Errorf("error = %v", l.errs[0])
		}
		if l.states[1] != StateInactive {
			t.Errorf("state in error handler = %s", l.states[1])
		}
		if l.blobs[0].Data.Size() == 0 {
			t.Errorf("the data gathered was not delivered")
		}
		l.mu.Unlock()
	}
}

// All tracks ended: dataavailable, stop, no error.
func TestAllTracksEnded(t *testing.T) {
	// On synctest's clock: synctest.Wait, not a sleep, lets the recorder
	// take the first track's end.
	synctest.Test(t, func(t *testing.T) {
		useBubbleClock(t)
		a, b := pcmTrack(), NewSampleTrack(Codec{MimeType: "video/VP8"})
		r := mustNew(t, NewStream(a, b), Options{})
		l := watch(r)
		must(t, r.Start(0))
		for i := range 5 {
			must(t, a.WriteSample(pcm20ms(i)))
		}
		a.Stop()
		synctest.Wait()
		if r.State() != StateRecording {
			t.Fatalf("stopped with a track still live")
		}
		b.Stop()
		l.waitStop(t)
		l.settle()
		l.expect(t, "start", "dataavailable", "stop")
		if r.State() != StateInactive {
			t.Errorf("state %s", r.State())
		}
		if err := a.WriteSample(pcm20ms(0)); !errors.Is(err, ErrTrackEnded) {
			t.Errorf("WriteSample after Stop = %v", err)
		}
	})
}

// A handler may call the recorder's methods; a new Start begins a new file
// whose events come after the previous stop.
func TestRestartFromHandler(t *testing.T) {
	tr := pcmTrack()
	r := mustNew(t, NewStream(tr), Options{})
	l := watch(r)
	restarted := make(chan error, 1)
	once := false
	r.OnStop(func() {
		l.mu.Lock()
		l.events = append(l.events, "stop")
		l.mu.Unlock()
		if !once {
			once = true
			restarted <- r.Start(0)
		}
		l.stopped <- struct{}{}
	})
	must(t, r.Start(0))
	must(t, tr.WriteSample(pcm20ms(0)))
	must(t, r.Stop())
	l.waitStop(t)
	must(t, <-restarted)
	must(t, tr.WriteSample(pcm20ms(1)))
	must(t, r.Stop())
	l.waitStop(t)
	l.expect(t, "start", "dataavailable", "stop", "start", "dataavailable", "stop")
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.blobs {
		if b.Data.Size() < 4 || string(b.Data.Bytes()[:4]) != "\x1a\x45\xdf\xa3" {
			t.Errorf("each recording must be a file starting with the EBML header")
		}
	}
	if !(l.blobs[1].Timecode >= l.blobs[0].Timecode) {
		t.Errorf("timecodes go back: %v then %v", l.blobs[0].Timecode, l.blobs[1].Timecode)
	}
}

func TestBitrates(t *testing.T) {
	vp8 := NewSampleTrack(Codec{MimeType: "video/VP8"})
	opus := NewSampleTrack(Codec{MimeType: "audio/opus", Channels: 2})
	r := mustNew(t, NewStream(vp8, opus), Options{})
	if r.VideoBitsPerSecond() != 2_500_000 || r.AudioBitsPerSecond() != 128_000 {
		t.Errorf("defaults %d/%d", r.VideoBitsPerSecond(), r.AudioBitsPerSecond())
	}
	if r.AudioBitrateMode() != BitrateVariable {
		t.Errorf("mode %s", r.AudioBitrateMode())
	}
	r = mustNew(t, NewStream(vp8, opus), Options{VideoBitsPerSecond: 1234, AudioBitsPerSecond: 99, AudioBitrateMode: BitrateConstant})
	if r.VideoBitsPerSecond() != 1234 || r.AudioBitsPerSecond() != 99 || r.AudioBitrateMode() != BitrateConstant {
		t.Errorf("explicit values not kept: %d %d %s", r.VideoBitsPerSecond(), r.AudioBitsPerSecond(), r.AudioBitrateMode())
	}
	r = mustNew(t, NewStream(vp8, opus), Options{BitsPerSecond: 2_100_000, VideoBitsPerSecond: 5})
	if r.VideoBitsPerSecond() != 2_000_000 || r.AudioBitsPerSecond() != 100_000 {
		t.Errorf("split 20:1 = %d/%d", r.VideoBitsPerSecond(), r.AudioBitsPerSecond())
	}
	// At Start, a kind with no track gets 0.
	a := pcmTrack()
	r = mustNew(t, NewStream(a), Options{BitsPerSecond: 300_000})
	l := watch(r)
	must(t, r.Start(0))
	if r.VideoBitsPerSecond() != 0 || r.AudioBitsPerSecond() != 300_000 {
		t.Errorf("audio only at start: %d/%d", r.VideoBitsPerSecond(), r.AudioBitsPerSecond())
	}
	must(t, r.Stop())
	l.waitStop(t)
	for _, c := range []struct {
		total, v, a uint64
		hv, ha      bool
	}{
		{100, 10_000, 500, true, true},
		{21_000, 20_000, 1000, true, true},
		{5, 0, 500, false, true},
		{5, 10_000, 0, true, false},
	} {
		v, a := splitBitrate(c.total, c.hv, c.ha)
		if v != c.v || a != c.a {
			t.Errorf("split(%d,%v,%v) = %d,%d want %d,%d", c.total, c.hv, c.ha, v, a, c.v, c.a)
		}
	}
}

// Events are delivered on the recorder's goroutine, never from inside the
// call that caused them: the caller holds a lock during the calls that every
// handler takes, which would deadlock if a handler ran inside a call.
func TestEventsNotFromCaller(t *testing.T) {
	tr := pcmTrack()
	r := mustNew(t, NewStream(tr), Options{})
	var mu sync.Mutex
	var order []string
	done := make(chan struct{})
	handler := func(name string) func() {
		return func() {
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
		}
	}
	r.OnStart(handler("start"))
	r.OnPause(handler("pause"))
	r.OnResume(handler("resume"))
	r.OnStop(func() { handler("stop")(); close(done) })
	mu.Lock()
	must(t, r.Start(0))
	must(t, r.Pause())
	must(t, r.Resume())
	must(t, r.Stop())
	if len(order) != 0 {
		t.Errorf("events ran inside the calls: %v", order)
	}
	mu.Unlock()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no stop event")
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(order, ","); got != "start,pause,resume,stop" {
		t.Errorf("order %s", got)
	}
}

// A fatal failure: error (UnknownError), then dataavailable with what was
// recorded, then stop; the state is inactive in the error handler.
func TestFatalError(t *testing.T) {
	tr := pcmTrack()
	r := mustNew(t, NewStream(tr), Options{})
	l := watch(r)
	var n atomic.Int32
	testHookWrite = func() error {
		if n.Add(1) > 5 {
			return errors.New("disk on fire")
		}
		return nil
	}
	defer func() { testHookWrite = nil }()
	must(t, r.Start(0))
	for i := range 10 {
		_ = tr.WriteSample(pcm20ms(i))
	}
	l.waitStop(t)
	l.settle()
	l.expect(t, "start", "error", "dataavailable", "stop")
	l.mu.Lock()
	defer l.mu.Unlock()
	if !errors.Is(l.errs[0], ErrUnknown) {
		t.Errorf("error %v, want UnknownError", l.errs[0])
	}
	if l.states[1] != StateInactive {
		t.Errorf("state in the error handler: %s", l.states[1])
	}
	if l.blobs[0].Data.Size() == 0 {
		t.Error("what was recorded before the failure was lost")
	}
	if err := r.Stop(); !errors.Is(err, ErrInvalidState) {
		t.Errorf("Stop after a fatal error = %v", err)
	}
}

// Stop while paused, and requestData while paused: the spec's tasks in order.
func TestStopWhilePaused(t *testing.T) {
	tr := pcmTrack()
	r := mustNew(t, NewStream(tr), Options{})
	l := watch(r)
	must(t, r.Start(0))
	must(t, tr.WriteSample(pcm20ms(0)))
	must(t, r.Pause())
	must(t, tr.WriteSample(pcm20ms(1))) // not gathered
	must(t, r.RequestData())
	must(t, r.Stop())
	l.waitStop(t)
	l.settle()
	l.expect(t, "start", "pause", "dataavailable", "dataavailable", "stop")
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.blobs[0].Data.Size() == 0 {
		t.Error("requestData while paused lost the data gathered before the pause")
	}
}

// With a timeslice, blobs come as media accumulates, before stop.
func TestTimesliceBlobs(t *testing.T) {
	// On synctest's clock: the 100 ms timeslices and the polling below
	// take no real time and do not depend on the machine's load.
	synctest.Test(t, func(t *testing.T) {
		useBubbleClock(t)
		tr := pcmTrack()
		r := mustNew(t, NewStream(tr), Options{})
		l := watch(r)
		must(t, r.Start(100*time.Millisecond))
		for i := range 50 { // 1 s of audio
			must(t, tr.WriteSample(pcm20ms(i)))
		}
		deadline := time.Now().Add(5 * time.Second)
		for len(l.names()) < 9 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		names := l.names()
		if len(names) < 9 {
			t.Fatalf("events before stop: %v", names)
		}
		must(t, r.Stop())
		l.waitStop(t)
		l.mu.Lock()
		defer l.mu.Unlock()
		for i, b := range l.blobs[1:] {
			if d := b.Timecode - l.blobs[i].Timecode; d < 100 {
				t.Errorf("blob %d came %v ms after the previous one, timeslice is 100 ms", i+1, d)
			}
		}
	})
}

// The constructor throws NotSupportedError for every type IsTypeSupported
// rejects, a codec it does not know included (issue 12.4), rather than
// deferring it to start().
func TestNewRejectsUnsupported(t *testing.T) {
	opus := NewSampleTrack(Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2})
	for _, typ := range []string{"audio/webm;codecs=vorbis", "video/webm;codecs=hevc", "audio/banana", "video/webm;codecs=vp8,vp9"} {
		if IsTypeSupported(typ) {
			t.Fatalf("%s is supported", typ)
		}
		if _, err := New(NewStream(opus), Options{MimeType: typ}); !errors.Is(err, ErrNotSupported) {
			t.Errorf("New(%q) = %v, want NotSupportedError", typ, err)
		}
	}
}

// A command that comes while the recording's goroutine is writing applies
// after exactly the samples that came before it: RequestData's blob ends
// there, and the samples written after the call go into the next blob.
// (Before, the goroutine wrote every queued sample first: the first blob
// took them all and the second was empty; with H.264 B-frames a pause
// mistimed frames so, see TestPauseWhileWriting.)
func TestCommandWhileWriting(t *testing.T) {
	tr := pcmTrack()
	r := mustNew(t, NewStream(tr), Options{})
	l := watch(r)
	writes := 0
	testHookWrite = func() error {
		if writes++; writes == 2 { // writing the second sample (on the recording's goroutine)
			if err := r.RequestData(); err != nil {
				t.Error(err)
			}
			for i := 2; i < 5; i++ {
				if err := tr.WriteSample(pcm20ms(i)); err != nil {
					t.Error(err)
				}
			}
		}
		return nil
	}
	defer func() { testHookWrite = nil }()
	must(t, r.Start(0))
	must(t, tr.WriteSample(pcm20ms(0)))
	must(t, tr.WriteSample(pcm20ms(1)))
	deadline := time.Now().Add(10 * time.Second)
	for r.Duration() < 100*time.Millisecond && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	must(t, r.Stop())
	l.waitStop(t)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.blobs) != 2 {
		t.Fatalf("%d blobs, want 2", len(l.blobs))
	}
	if got, want := l.blobs[1].Timecode, 40.0; got != want {
		t.Errorf("the second blob starts at %v ms, want %v (after the 2 samples before RequestData)", got, want)
	}
	if n := l.blobs[1].Data.Size(); n < 3*960*2 {
		t.Errorf("the second blob holds %d bytes, less than the 3 samples after RequestData", n)
	}
}
