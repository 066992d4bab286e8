package mediarecorder

import (
	"errors"
	"regexp"
	"testing"
)

// Ported from web-platform-tests mediacapture-record/MediaRecorder-mimetype.html,
// for what applies to a recorder that does not transcode.
var wptMimeTypes = []string{
	"audio/mp4", "audio/ogg", "audio/webm",
	`audio/ogg; codecs="vorbis"`, `audio/ogg; codecs="opus"`, `audio/webm; codecs="vorbis"`, `audio/webm; codecs="opus"`,
	"video/mp4", "video/webm", "video/x-matroska",
	`video/webm; codecs="vp8"`, `video/webm; codecs="vp9"`, `video/webm; codecs="av1"`,
	`video/x-matroska; codecs="avc1"`, `video/x-matroska; codecs="hvc1"`, `video/x-matroska; codecs="avc1.64001E"`,
	`video/mp4; codecs="avc1"`,
	`video/webm; codecs="vp8, vorbis"`, `video/webm; codecs="vp8, opus"`, `video/webm; codecs="vp9, opus"`,
	`video/webm; codecs="av1, opus"`, `video/x-matroska; codecs="avc1, vorbis"`, `video/x-matroska; codecs="hvc1, opus"`,
	`video/x-matroska; codecs="avc1.64001E, vorbis"`,
}

func TestWPTMimeType(t *testing.T) {
	// "MediaRecorder has no default mimeType"; invalid types throw.
	r := mustNew(t, NewStream(pcmTrack()), Options{})
	if r.MimeType() != "" {
		t.Errorf("default mimeType %q", r.MimeType())
	}
	for _, bad := range []string{"audio/banana", "video/pineapple"} {
		if _, err := New(NewStream(), Options{MimeType: bad}); !errors.Is(err, ErrNotSupported) {
			t.Errorf("%s: %v", bad, err)
		}
		if IsTypeSupported(bad) {
			t.Errorf("%s is supported", bad)
		}
	}
	oneCodec := regexp.MustCompile(`^audio/[a-z0-9-]+;[ ]*codecs=[^,]+$`)
	videoOneCodec := regexp.MustCompile(`^[a-z]+/[a-z0-9-]+;[ ]*codecs=[^,]+$`)
	for _, mime := range wptMimeTypes {
		if !IsTypeSupported(mime) {
			// "Unsupported mimeType throws": whatever IsTypeSupported
			// rejects, the constructor rejects with NotSupportedError.
			if _, err := New(NewStream(), Options{MimeType: mime}); !errors.Is(err, ErrNotSupported) {
				t.Errorf("%s: unsupported, but the constructor answered %v", mime, err)
			}
			continue
		}
		// "Supported mimeType is set immediately after constructing".
		opus := NewSampleTrack(Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2})
		r := mustNew(t, NewStream(opus), Options{MimeType: mime})
		if r.MimeType() != mime {
			t.Errorf("%s: mimeType %q after constructing", mime, r.MimeType())
		}
		l := watch(r)
		// "start() does not throw" for an audio stream, unless the type
		// names another audio codec (we do not transcode).
		err := r.Start(0)
		if err != nil {
			t.Errorf("%s: start() with an Opus track: %v", mime, err)
			continue
		}
		// "mimeType is not set before 'onstart'" — only the constructor's.
		must(t, opus.WriteSample(Sample{Data: []byte{0xfc, 1, 2}}))
		must(t, r.Stop())
		l.waitStop(t)
		l.settle()
		l.expect(t, "start", "dataavailable", "stop") // start fires once
		got := l.blobs[0].Data.Type()
		re := oneCodec
		if mime[:5] == "video" {
			re = videoOneCodec
		}
		if !re.MatchString(got) {
			t.Errorf("%s: recorded type %q is not well formed", mime, got)
		}
	}
}
