package mediarecorder

import (
	"reflect"
	"testing"
)

var mimeCases = []struct {
	in      string
	ok      bool
	typ     string
	sub     string
	codecs  []string
	support bool // IsTypeSupported
}{
	{"video/webm", true, "video", "webm", nil, true},
	{"VIDEO/WebM", true, "video", "webm", nil, true},
	{"video/webm;codecs=vp8", true, "video", "webm", []string{"vp8"}, true},
	{"video/webm;codecs=vp8,opus", true, "video", "webm", []string{"vp8", "opus"}, true},
	{`video/webm; codecs="vp8, opus"`, true, "video", "webm", []string{"vp8", "opus"}, true},
	{`video/webm;codecs="vp09.00.10.08"`, true, "video", "webm", []string{"vp09.00.10.08"}, true},
	{"video/webm;codecs=av01.0.04M.08,opus", true, "video", "webm", []string{"av01.0.04M.08", "opus"}, true},
	{"video/webm;codecs=AV1", true, "video", "webm", []string{"AV1"}, true},
	{"video/x-matroska;codecs=avc1.42E01E,opus", true, "video", "x-matroska", []string{"avc1.42E01E", "opus"}, true},
	{"video/x-matroska;codecs=h264", true, "video", "x-matroska", []string{"h264"}, true},
	{"video/webm;codecs=h264", true, "video", "webm", []string{"h264"}, false},
	{"audio/webm;codecs=opus", true, "audio", "webm", []string{"opus"}, true},
	{"audio/webm;codecs=pcm", true, "audio", "webm", []string{"pcm"}, true},
	{"audio/webm;codecs=vp8", true, "audio", "webm", []string{"vp8"}, false},
	{"audio/ogg", true, "audio", "ogg", nil, true},
	{"audio/ogg;codecs=opus", true, "audio", "ogg", []string{"opus"}, true},
	{"audio/ogg;codecs=vorbis", true, "audio", "ogg", []string{"vorbis"}, false},
	{"audio/ogg;codecs=pcm", true, "audio", "ogg", []string{"pcm"}, false},
	{"video/webm;codecs=vp8,vp9", true, "video", "webm", []string{"vp8", "vp9"}, false},
	{"video/webm;codecs=opus,pcm", true, "video", "webm", []string{"opus", "pcm"}, false},
	{"video/mp4", true, "video", "mp4", nil, true},
	{"video/mp4;codecs=avc1.42E01E,opus", true, "video", "mp4", []string{"avc1.42E01E", "opus"}, true},
	{"video/mp4;codecs=vp09.00.10.08", true, "video", "mp4", []string{"vp09.00.10.08"}, true},
	{"video/mp4;codecs=av01.0.04M.08", true, "video", "mp4", []string{"av01.0.04M.08"}, true},
	{"video/mp4;codecs=vp8", true, "video", "mp4", []string{"vp8"}, false},
	{"audio/mp4;codecs=opus", true, "audio", "mp4", []string{"opus"}, true},
	{"audio/mp4;codecs=pcm", true, "audio", "mp4", []string{"pcm"}, false},
	{"audio/mp4;codecs=avc1", true, "audio", "mp4", []string{"avc1"}, false},
	{"video/webm;foo=bar;codecs=vp8", true, "video", "webm", []string{"vp8"}, true},
	{`video/webm;codecs="vp8\"`, false, "", "", nil, false},
	{"video/webm;codecs=", true, "video", "webm", nil, false},
	{"video/webm;codecs", false, "", "", nil, false},
	{"video", false, "", "", nil, false},
	{"/webm", false, "", "", nil, false},
	{"video/", false, "", "", nil, false},
	{"vi deo/webm", false, "", "", nil, false},
	{"video/webm;codecs=vp8,,opus", false, "", "", nil, false},
	{"video/webm;codecs=vp8;codecs=vp9", false, "", "", nil, false},
	{"", false, "", "", nil, true},
}

func TestParseMIME(t *testing.T) {
	for _, c := range mimeCases {
		m, err := parseMIME(c.in)
		if c.in == "video/webm;codecs=" {
			// An empty codecs value is not a list of codecs.
			if err == nil {
				t.Errorf("%q: no error", c.in)
			}
			continue
		}
		if (err == nil) != c.ok {
			t.Errorf("%q: err = %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if !c.ok {
			continue
		}
		if m.Type != c.typ || m.Subtype != c.sub || !reflect.DeepEqual(m.Codecs, c.codecs) {
			t.Errorf("%q: got %q/%q %q", c.in, m.Type, m.Subtype, m.Codecs)
		}
	}
}

func TestIsTypeSupported(t *testing.T) {
	for _, c := range mimeCases {
		if got := IsTypeSupported(c.in); got != c.support {
			t.Errorf("IsTypeSupported(%q) = %v, want %v", c.in, got, c.support)
		}
	}
	// The constructor defers codecs outside the synchronously exposed list.
	if !isTypeSupported("audio/ogg;codecs=vorbis", true) {
		t.Error("a newer codec is not deferred")
	}
	if isTypeSupported("audio/webm;codecs=vp8", true) {
		t.Error("vp8 in audio/webm is judged at once (it is in the exposed list)")
	}
}

func FuzzParseMIME(f *testing.F) {
	for _, c := range mimeCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseMIME(s)
		if err != nil {
			return
		}
		if m.Type == "" || m.Subtype == "" {
			t.Fatalf("%q parsed to an empty type: %+v", s, m)
		}
		for _, c := range m.Codecs {
			if c == "" {
				t.Fatalf("%q: empty codec", s)
			}
		}
		_ = IsTypeSupported(s)
	})
}
