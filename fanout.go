package mediarecorder

import "sync"

// Fanout delivers a track's samples to every Sink subscribed to it. Track
// implementations keep one in an unexported field and forward
// Track.Subscribe to it; they do not embed it in an exported type, which
// would let callers End or Publish behind the track's back.
// The zero value is ready to use; its methods are safe for concurrent use.
type Fanout struct {
	mu      sync.Mutex
	deliver sync.Mutex // serialises deliveries so sinks see samples in order
	sinks   []*fanoutEntry
	ended   bool
}

type fanoutEntry struct{ sink Sink }

// Subscribe implements Track.Subscribe.
func (f *Fanout) Subscribe(s Sink) (unsubscribe func()) {
	f.mu.Lock()
	if f.ended {
		f.mu.Unlock()
		s.TrackEnded()
		return func() {}
	}
	e := &fanoutEntry{sink: s}
	f.sinks = append(f.sinks, e)
	f.mu.Unlock()
	return func() {
		// Wait for a delivery in progress, so that nothing reaches the
		// sink after unsubscribe returns.
		f.deliver.Lock()
		defer f.deliver.Unlock()
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, x := range f.sinks {
			if x == e {
				f.sinks = append(f.sinks[:i:i], f.sinks[i+1:]...)
				return
			}
		}
	}
}

// Publish hands s to every subscribed sink. Sinks never block, so neither
// does Publish (beyond waiting for a concurrent Publish to finish).
func (f *Fanout) Publish(s TimedSample) {
	f.deliver.Lock()
	defer f.deliver.Unlock()
	f.mu.Lock()
	if f.ended {
		f.mu.Unlock()
		return
	}
	sinks := f.sinks
	f.mu.Unlock()
	for _, e := range sinks {
		e.sink.WriteSample(s)
	}
}

// WaitRoom blocks until every subscribed sink that implements RoomWaiter
// has room for more samples.
func (f *Fanout) WaitRoom() {
	f.mu.Lock()
	sinks := f.sinks
	f.mu.Unlock()
	for _, e := range sinks {
		if w, ok := e.sink.(RoomWaiter); ok {
			w.WaitRoom()
		}
	}
}

// End tells every sink that the track has ended; later Publish calls do
// nothing and later subscribers are told at once. Idempotent.
func (f *Fanout) End() {
	f.deliver.Lock()
	defer f.deliver.Unlock()
	f.mu.Lock()
	if f.ended {
		f.mu.Unlock()
		return
	}
	f.ended = true
	sinks := f.sinks
	f.sinks = nil
	f.mu.Unlock()
	for _, e := range sinks {
		e.sink.TrackEnded()
	}
}

// Subscribers returns how many sinks are subscribed.
func (f *Fanout) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sinks)
}
