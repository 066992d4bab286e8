package mediarecorder

import (
	"sync"

	"github.com/gomediarecorder/mediarecorder/internal/id"
)

// Stream is a MediaStream: a set of tracks recorded together.
// Its methods are safe for concurrent use.
type Stream struct {
	id string

	mu        sync.Mutex
	tracks    []Track
	listeners map[*streamListener]struct{}
}

// streamListener is told when the track set changes (recorders use it).
type streamListener struct{ changed func() }

// NewStream returns a stream holding tracks (duplicates are kept once).
func NewStream(tracks ...Track) *Stream {
	s := &Stream{id: id.New()}
	for _, t := range tracks {
		if t != nil && s.index(t) < 0 {
			s.tracks = append(s.tracks, t)
		}
	}
	return s
}

// ID returns the stream's identifier.
func (s *Stream) ID() string { return s.id }

func (s *Stream) index(t Track) int {
	for i, x := range s.tracks {
		if x == t {
			return i
		}
	}
	return -1
}

// Tracks returns the stream's tracks, in the order they were added.
func (s *Stream) Tracks() []Track {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Track(nil), s.tracks...)
}

func (s *Stream) ofKind(k Kind) []Track {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Track
	for _, t := range s.tracks {
		if t.Kind() == k {
			out = append(out, t)
		}
	}
	return out
}

// AudioTracks returns the stream's audio tracks.
func (s *Stream) AudioTracks() []Track { return s.ofKind(KindAudio) }

// VideoTracks returns the stream's video tracks.
func (s *Stream) VideoTracks() []Track { return s.ofKind(KindVideo) }

// AddTrack adds t to the stream; adding a track already there does nothing.
// A recorder recording the stream stops with an InvalidModificationError.
func (s *Stream) AddTrack(t Track) {
	if t == nil {
		return
	}
	s.mu.Lock()
	if s.index(t) >= 0 {
		s.mu.Unlock()
		return
	}
	s.tracks = append(s.tracks, t)
	ls := s.snapshotListeners()
	s.mu.Unlock()
	notify(ls)
}

// RemoveTrack removes t from the stream; removing a track not there does
// nothing. A recorder recording the stream stops with an
// InvalidModificationError.
func (s *Stream) RemoveTrack(t Track) {
	s.mu.Lock()
	i := s.index(t)
	if i < 0 {
		s.mu.Unlock()
		return
	}
	s.tracks = append(s.tracks[:i:i], s.tracks[i+1:]...)
	ls := s.snapshotListeners()
	s.mu.Unlock()
	notify(ls)
}

// active reports whether the stream has a live track (MediaStream.active).
func (s *Stream) active() bool {
	for _, t := range s.Tracks() {
		if t.ReadyState() == TrackLive {
			return true
		}
	}
	return false
}

func (s *Stream) snapshotListeners() []*streamListener {
	ls := make([]*streamListener, 0, len(s.listeners))
	for l := range s.listeners {
		ls = append(ls, l)
	}
	return ls
}

func notify(ls []*streamListener) {
	for _, l := range ls {
		l.changed()
	}
}

// listen registers f to be called after each change of the track set.
func (s *Stream) listen(f func()) (stop func()) {
	l := &streamListener{changed: f}
	s.mu.Lock()
	if s.listeners == nil {
		s.listeners = make(map[*streamListener]struct{})
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}
}
