package mediarecorder

// Default target bitrates, as Chromium and Firefox use.
const (
	DefaultVideoBitsPerSecond = 2_500_000
	DefaultAudioBitsPerSecond = 128_000

	minVideoBitsPerSecond = 10_000
	minAudioBitsPerSecond = 500
)

// splitBitrate divides total between the kinds present by Firefox's rule:
// video gets 20 parts and audio 1, video at least 10 kb/s and audio at least
// 500 b/s; a kind that is absent gets 0.
func splitBitrate(total uint64, hasVideo, hasAudio bool) (video, audio uint64) {
	switch {
	case hasVideo && hasAudio:
		audio = total / 21
		video = total - audio
	case hasVideo:
		video = total
	case hasAudio:
		audio = total
	}
	if hasVideo && video < minVideoBitsPerSecond {
		video = minVideoBitsPerSecond
	}
	if hasAudio && audio < minAudioBitsPerSecond {
		audio = minAudioBitsPerSecond
	}
	return video, audio
}
