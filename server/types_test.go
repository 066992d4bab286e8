package server

import (
	"slices"
	"testing"
)

func TestTypesFor(t *testing.T) {
	cases := []struct {
		name   string
		tracks []trackView
		want   []string
	}{
		{"none", nil, []string{""}},
		{"opus", []trackView{{"audio", "audio/opus"}},
			[]string{"", "video/webm;codecs=opus", "video/x-matroska;codecs=opus", "video/mp4;codecs=opus",
				"audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4;codecs=opus", "audio/x-matroska;codecs=opus"}},
		{"vp8+opus", []trackView{{"audio", "audio/opus"}, {"video", "video/VP8"}},
			[]string{"", "video/webm;codecs=vp8,opus", "video/x-matroska;codecs=vp8,opus"}},
		{"h264+opus", []trackView{{"audio", "audio/opus"}, {"video", "video/H264"}},
			[]string{"", "video/x-matroska;codecs=avc1,opus", "video/mp4;codecs=avc1,opus"}},
		{"unknown codec", []trackView{{"video", "video/H265"}}, []string{""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := typesFor(c.tracks); !slices.Equal(got, c.want) {
				t.Errorf("typesFor = %q, want %q", got, c.want)
			}
		})
	}
}
