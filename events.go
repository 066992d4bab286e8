package mediarecorder

// eventType names an event the recorder fires.
type eventType int

const (
	evStart eventType = iota
	evStop
	evPause
	evResume
	evData
	evError
)

// event is one queued task that fires an event.
type event struct {
	typ    eventType
	blob   BlobEvent
	err    error
	before func() // runs on the event goroutine just before the handler
	after  func() // runs on the event goroutine just after the handler
}

// queueEvent queues ev; events are delivered in queue order, one at a
// time, by a goroutine of the recorder's (never by the caller).
func (r *Recorder) queueEvent(ev event) {
	r.mu.Lock()
	r.evq = append(r.evq, ev)
	if !r.dispatching {
		r.dispatching = true
		go r.dispatch()
	}
	r.mu.Unlock()
}

// dispatch delivers queued events until the queue is empty.
func (r *Recorder) dispatch() {
	for {
		r.mu.Lock()
		if len(r.evq) == 0 {
			r.dispatching = false
			r.evq = nil
			r.mu.Unlock()
			return
		}
		ev := r.evq[0]
		r.evq[0] = event{}
		r.evq = r.evq[1:]
		onStart, onStop, onPause, onResume, onData, onError := r.onStart, r.onStop, r.onPause, r.onResume, r.onData, r.onError
		r.mu.Unlock()

		if ev.before != nil {
			ev.before()
		}
		switch ev.typ {
		case evStart:
			call(onStart)
		case evStop:
			call(onStop)
		case evPause:
			call(onPause)
		case evResume:
			call(onResume)
		case evData:
			if onData != nil {
				onData(ev.blob)
			}
		case evError:
			if onError != nil {
				onError(ev.err)
			}
		}
		if ev.after != nil {
			ev.after()
		}
	}
}

func call(f func()) {
	if f != nil {
		f()
	}
}
