package codec

// Vorbis is the row of Vorbis audio: known by name (probe output, skipped
// tracks), not recorded nor played.
var Vorbis = &Codec{
	Name:        "vorbis",
	Kind:        Audio,
	mimeNames:   []string{"vorbis"},
	RTPMimeType: "audio/vorbis",
	MatroskaID:  "A_VORBIS",
}
