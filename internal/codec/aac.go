package codec

// AAC is the row of AAC audio: known by name (probe output of MP4 files
// browsers make), not recorded nor played.
var AAC = &Codec{
	Name:         "aac",
	Kind:         Audio,
	mimePrefixes: []string{"mp4a."},
	MatroskaID:   "A_AAC",
	MP4Entry:     "mp4a",
}
