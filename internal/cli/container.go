package cli

import (
	"fmt"
	"mime"
	"path/filepath"
	"strings"

	mr "github.com/gomediarecorder/mediarecorder"
)

// outContainers maps OUT's extension to the containers it may hold, the
// first being the one chosen without -mime. WebM is Matroska, so .mkv
// takes it too.
var outContainers = map[string][]string{
	".webm": {"webm"},
	".mkv":  {"matroska", "webm"},
	".ogg":  {"ogg"},
	".opus": {"ogg"},
	".mp4":  {"mp4"},
	".m4a":  {"mp4"},
}

// mimeContainers maps a MIME type's essence to its container.
var mimeContainers = map[string]string{
	"video/webm": "webm", "audio/webm": "webm",
	"video/x-matroska": "matroska", "audio/x-matroska": "matroska",
	"audio/ogg": "ogg",
	"video/mp4": "mp4", "audio/mp4": "mp4",
}

// checkMime fails with a usage error when -mime names a container that
// OUT's extension contradicts (-o x.mp4 -mime video/webm). A MIME type we
// do not know is left to the recorder (a NotSupportedError).
func checkMime(out, mimeType string) error {
	if mimeType == "" {
		return nil
	}
	ext := strings.ToLower(filepath.Ext(out))
	allowed, ok := outContainers[ext]
	essence, _, err := mime.ParseMediaType(mimeType)
	if !ok || err != nil {
		return nil
	}
	c, known := mimeContainers[essence]
	if !known {
		return nil
	}
	for _, a := range allowed {
		if a == c {
			return nil
		}
	}
	return usageError{fmt.Sprintf("-mime %s writes %s, but OUT %s says %s: change one of them", mimeType, c, out, allowed[0])}
}

// mimeForOut is the MIME type OUT's extension asks for ("" for none or an
// extension we do not know: the recorder's choice, WebM): video/... when
// a track is video, else audio/....
func mimeForOut(out string, tracks []mr.Track) string {
	ext := strings.ToLower(filepath.Ext(out))
	cs, ok := outContainers[ext]
	if !ok || out == "-" {
		return ""
	}
	kind := "audio"
	if ext != ".m4a" {
		for _, t := range tracks {
			if t.Kind() == mr.KindVideo {
				kind = "video"
			}
		}
	}
	switch cs[0] {
	case "webm":
		return kind + "/webm"
	case "matroska":
		return kind + "/x-matroska"
	case "ogg":
		return "audio/ogg"
	}
	return kind + "/mp4"
}
