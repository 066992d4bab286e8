package server

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/codec"
)

// sessionView is the body of GET /api/sessions/{session}.
type sessionView struct {
	ID     string      `json:"id"`
	Tracks []trackView `json:"tracks"`
	// MimeTypes are the types the session's tracks can be recorded as,
	// the server's choice ("") first: what a type menu should offer.
	MimeTypes []string `json:"mimeTypes"`
}

type trackView struct {
	Kind  string `json:"kind"`
	Codec string `json:"codec"` // e.g. video/VP8
}

// recordableTypes are the container types tried, in the order offered.
var recordableTypes = []string{"video/webm", "video/x-matroska", "video/mp4", "audio/webm", "audio/ogg", "audio/mp4", "audio/x-matroska"}

// codecName maps a track's codec to its name in a codecs parameter ("" for
// a codec the recorder does not take).
func codecName(mimeType string) string {
	c := codec.ByRTPMimeType(mimeType)
	if !c.Recordable() {
		return ""
	}
	return c.MIMEName
}

// typesFor lists the MIME types (with codecs) that tracks can be recorded
// as: the container holds every track's codec, and audio/* types only
// sessions without video (a recorder takes every track of its stream).
func typesFor(tracks []trackView) []string {
	out := []string{""}
	if len(tracks) == 0 {
		return out
	}
	video := false
	var codecs []string
	// Video first, whatever order the tracks arrived in.
	tracks = slices.Clone(tracks)
	slices.SortStableFunc(tracks, func(a, b trackView) int { return strings.Compare(b.Kind, a.Kind) })
	for _, t := range tracks {
		n := codecName(t.Codec)
		if n == "" {
			return out
		}
		if t.Kind == "video" {
			video = true
		}
		codecs = append(codecs, n)
	}
	for _, essence := range recordableTypes {
		if video && strings.HasPrefix(essence, "audio/") {
			continue
		}
		typ := essence + ";codecs=" + strings.Join(codecs, ",")
		if mediarecorder.IsTypeSupported(typ) {
			out = append(out, typ)
		}
	}
	return out
}

// handleSession answers GET /api/sessions/{session}: the session's tracks
// (once they have arrived, at most trackWait after the offer) and the
// types they can be recorded as.
func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ss := s.sessions[r.PathValue("session")]
	s.mu.Unlock()
	if ss == nil {
		writeError(w, http.StatusNotFound, "NotFoundError", "no such session")
		return
	}
	ss.waitTracks(r.Context(), trackWait)
	ss.mu.Lock()
	v := sessionView{ID: ss.id, Tracks: []trackView{}}
	for _, t := range ss.tracks {
		v.Tracks = append(v.Tracks, trackView{Kind: string(t.Kind()), Codec: t.Codec().MimeType})
	}
	ss.mu.Unlock()
	v.MimeTypes = typesFor(v.Tracks)
	writeJSON(w, http.StatusOK, v)
}

// maxNameLen is the longest recording name accepted, in characters.
const maxNameLen = 200

// checkName checks a recording's name: at most maxNameLen characters of
// valid UTF-8, no control characters.
func checkName(name string) error {
	if !utf8.ValidString(name) {
		return errors.New(`"name" is not valid UTF-8`)
	}
	if n := utf8.RuneCountInString(name); n > maxNameLen {
		return fmt.Errorf(`"name" has %d characters; at most %d are accepted`, n, maxNameLen)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return errors.New(`"name" holds a control character`)
	}
	return nil
}
