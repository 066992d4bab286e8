package opus

import (
	"bytes"
	"errors"
	"testing"
)

// ffmpegTags is the OpusTags packet ffmpeg 5.1 wrote in the file of
// ffmpegStereoHead.
var ffmpegTags = []byte("OpusTags\x0d\x00\x00\x00Lavf59.27.100\x01\x00\x00\x00\x1d\x00\x00\x00encoder=Lavc59.37.100 libopus")

var tagsTests = []struct {
	name string
	tags Tags
	enc  []byte
}{
	{"ffmpeg", Tags{Vendor: "Lavf59.27.100", Comments: []string{"encoder=Lavc59.37.100 libopus"}}, ffmpegTags},
	{"empty", Tags{}, []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00")},
	{"two comments", Tags{Vendor: "v", Comments: []string{"TITLE=a", ""}},
		[]byte("OpusTags\x01\x00\x00\x00v\x02\x00\x00\x00\x07\x00\x00\x00TITLE=a\x00\x00\x00\x00")},
}

func TestTagsMarshal(t *testing.T) {
	for _, tt := range tagsTests {
		t.Run(tt.name, func(t *testing.T) { testMarshal(t, tt.tags, tt.enc) })
	}
}

func TestParseTags(t *testing.T) {
	for _, tt := range tagsTests {
		t.Run(tt.name, func(t *testing.T) { testParse(t, ParseTags, tt.enc, tt.tags) })
	}
}

func TestParseTagsErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"magic", []byte("OpusHead\x00\x00\x00\x00\x00\x00\x00\x00")},
		{"vendor overrun", []byte("OpusTags\x09\x00\x00\x00abcd\x00\x00\x00\x00")},
		{"huge vendor", []byte("OpusTags\xff\xff\xff\xff\x00\x00\x00\x00")},
		{"no count", []byte("OpusTags\x04\x00\x00\x00abcd")},
		{"huge count", []byte("OpusTags\x00\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00")},
		{"comment overrun", []byte("OpusTags\x00\x00\x00\x00\x01\x00\x00\x00\x05\x00\x00\x00abc")},
		{"missing comment", []byte("OpusTags\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00")},
	}
	for _, tt := range tests {
		if got, err := ParseTags(tt.b); !errors.Is(err, ErrInvalidTags) {
			t.Errorf("%s: ParseTags = %#v, %v", tt.name, got, err)
		}
	}
}

func TestTagsGet(t *testing.T) {
	tags := Tags{Comments: []string{"no equals", "Title=One", "TITLE=Two", "ARTIST="}}
	if v, ok := tags.Get("title"); !ok || v != "One" {
		t.Errorf("Get(title) = %q, %v", v, ok)
	}
	if v, ok := tags.Get("ARTIST"); !ok || v != "" {
		t.Errorf("Get(ARTIST) = %q, %v", v, ok)
	}
	if _, ok := tags.Get("no equals"); ok {
		t.Error("Get(no equals) found a comment")
	}
}

func FuzzParseTags(f *testing.F) {
	for _, tt := range tagsTests {
		f.Add(tt.enc)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tags, err := ParseTags(b)
		if err != nil {
			return
		}
		enc, err := tags.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, b[:len(enc)]) {
			t.Fatalf("round trip\n got %q\nwant %q", enc, b[:len(enc)])
		}
	})
}
