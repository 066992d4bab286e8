package codec

import "time"

// PCM is the row of 16-bit little-endian integer PCM (RTP's L16 carries it
// big-endian; tracks carry it little-endian, as WAV and Matroska do).
var PCM = &Codec{
	Name:        "pcm",
	Kind:        Audio,
	MIMEName:    "pcm",
	RTPMimeType: "audio/PCM",
	rtpAliases:  []string{"audio/L16"},
	MatroskaID:  "A_PCM/INT/LIT",
	WebM:        true,
	BitDepth:    16,

	valid:     func(data []byte) bool { return len(data)%2 == 0 },
	keyFrame:  audioKeyFrame,
	configure: pcmConfigure,
	duration:  pcmDuration,
}

// pcmConfigure: the producer's channels (at least 1) and clock rate
// (48 kHz when it gives none).
func pcmConfigure(p Params, _ []byte) (Config, error) {
	var cfg Config
	cfg.Channels = uint8(max(1, min(int(p.Channels), 255)))
	cfg.SampleRate = p.ClockRate
	if cfg.SampleRate == 0 {
		cfg.SampleRate = 48000
	}
	return cfg, nil
}

// pcmDuration is the time the sample's 16-bit frames take.
func pcmDuration(data []byte, sampleRate uint32, channels uint8) time.Duration {
	bytesPerSec := int64(sampleRate) * int64(channels) * 2
	if bytesPerSec > 0 {
		return time.Duration(int64(len(data)) * int64(time.Second) / bytesPerSec)
	}
	return 0
}
