package mediarecorder

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// eventLog records a recorder's events in order, with what the handlers saw.
type eventLog struct {
	mu      sync.Mutex
	events  []string
	blobs   []BlobEvent
	errs    []error
	states  []State // State() inside each handler
	mimes   []string
	stopped chan struct{}
}

func watch(r *Recorder) *eventLog {
	l := &eventLog{stopped: make(chan struct{}, 16)}
	add := func(name string) {
		l.mu.Lock()
		l.events = append(l.events, name)
		l.states = append(l.states, r.State())
		l.mimes = append(l.mimes, r.MimeType())
		l.mu.Unlock()
	}
	r.OnStart(func() { add("start") })
	r.OnPause(func() { add("pause") })
	r.OnResume(func() { add("resume") })
	r.OnError(func(err error) {
		l.mu.Lock()
		l.errs = append(l.errs, err)
		l.mu.Unlock()
		add("error")
	})
	r.OnDataAvailable(func(e BlobEvent) {
		l.mu.Lock()
		l.blobs = append(l.blobs, e)
		l.mu.Unlock()
		add("dataavailable")
	})
	r.OnStop(func() {
		add("stop")
		l.stopped <- struct{}{}
	})
	return l
}

// waitStop waits for the next stop event.
func (l *eventLog) waitStop(t testing.TB) {
	t.Helper()
	select {
	case <-l.stopped:
	case <-time.After(10 * time.Second):
		t.Fatalf("no stop event; events so far: %v", l.names())
	}
}

func (l *eventLog) names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}

func (l *eventLog) data() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b []byte
	for _, e := range l.blobs {
		b = append(b, e.Data.Bytes()...)
	}
	return b
}

func (l *eventLog) expect(t testing.TB, want ...string) {
	t.Helper()
	got := strings.Join(l.names(), ",")
	if w := strings.Join(want, ","); got != w {
		t.Fatalf("events = %s, want %s", got, w)
	}
}

// settle waits until no event has arrived for a moment (to check that
// nothing more fires).
func (l *eventLog) settle() {
	n := -1
	for n != len(l.names()) {
		n = len(l.names())
		time.Sleep(50 * time.Millisecond)
	}
}

// pcmTrack is a 48 kHz mono PCM track (any bytes are valid samples).
func pcmTrack() *SampleTrack {
	return NewSampleTrack(Codec{MimeType: "audio/PCM", ClockRate: 48000, Channels: 1})
}

// pcm20ms returns 20 ms of 48 kHz mono 16-bit silence-ish samples.
func pcm20ms(i int) Sample {
	b := make([]byte, 960*2)
	for j := range b {
		b[j] = byte(i + j)
	}
	return Sample{Data: b, Duration: 20 * time.Millisecond}
}

func mustNew(t testing.TB, s *Stream, o Options) *Recorder {
	t.Helper()
	r, err := New(s, o)
	if err != nil {
		t.Fatalf("New(%+v): %v", o, err)
	}
	return r
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var _ = fmt.Sprint

func writeFile(p string, b []byte) error { return os.WriteFile(p, b, 0o644) }
