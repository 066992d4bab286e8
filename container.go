package mediarecorder

import "strings"

// ContainerFor returns the container a Recorder of stream with
// Options.MimeType typ would record into if started now: the MIME type
// essence its MimeType will have (e.g. "video/webm", "video/x-matroska" for
// H.264 with no type asked) and the usual file extension (".webm", ".mkv",
// ".ogg" or ".mp4"). It looks at the stream's live tracks, as Start does,
// and fails with the NotSupportedError Start would give when they cannot be
// recorded with typ. With no live track it answers for the type alone
// ("audio/webm" when typ is empty).
func ContainerFor(stream *Stream, typ string) (essence, ext string, err error) {
	if !isTypeSupported(typ, false) {
		return "", "", domErr(NameNotSupported, "unsupported MIME type "+quote(typ))
	}
	var m mimeType
	if typ != "" {
		m, _ = parseMIME(typ)
	}
	var live []Track
	if stream != nil {
		for _, t := range stream.Tracks() {
			if t.ReadyState() == TrackLive {
				live = append(live, t)
			}
		}
	}
	cfg, err := configure(m, live)
	if err != nil {
		return "", "", err
	}
	essence, _, _ = strings.Cut(cfg.fullType, ";")
	return essence, cfg.container.ext(), nil
}

// ext returns the container's usual file extension.
func (c container) ext() string {
	switch c {
	case containerMatroska:
		return ".mkv"
	case containerOgg:
		return ".ogg"
	case containerMP4:
		return ".mp4"
	}
	return ".webm"
}
