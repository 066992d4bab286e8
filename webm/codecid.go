package webm

// Matroska codec IDs (TrackEntry CodecID) of the codecs this module
// records and reads. The codec table (internal/codec) names them in its
// rows too; its tests check that the two agree.
const (
	CodecIDVP8    = "V_VP8"
	CodecIDVP9    = "V_VP9"
	CodecIDAV1    = "V_AV1"
	CodecIDH264   = "V_MPEG4/ISO/AVC"
	CodecIDOpus   = "A_OPUS"
	CodecIDPCM    = "A_PCM/INT/LIT" // little-endian integer PCM
	CodecIDVorbis = "A_VORBIS"      // read (probe) only
)
