// Package filesource plays media files into mediarecorder Tracks: IVF
// (VP8, VP9, AV1), Ogg Opus, H.264 Annex B elementary streams, WAV (16-bit
// PCM), WebM/Matroska (VP8, VP9, AV1, H.264, Opus, PCM) and Y4M (raw
// 4:2:0 video, which recorders encode).
//
// Open detects a file's format from its first bytes (falling back to its
// extension), reads its headers and returns one mediarecorder.SampleTrack
// per playable stream. Play then feeds the samples of one or more files, in
// timestamp order from a single goroutine, so that tracks of different
// files start together and stay in sync:
//
//	video, err := filesource.Open("talk.ivf", filesource.Options{})
//	...
//	audio, err := filesource.Open("talk.ogg", filesource.Options{})
//	...
//	stream := mediarecorder.NewStream(video.Tracks()[0], audio.Tracks()[0])
//	rec, err := mediarecorder.New(stream, mediarecorder.Options{})
//	...
//	rec.Start(0)
//	err = filesource.Play(ctx, []*filesource.File{video, audio}, nil)
//
// The recorder stops by itself once every track has ended.
//
// Samples are handed over as the recorder expects them: VP8/VP9 frames,
// AV1 temporal units, H.264 access units in Annex B form (Matroska's
// length-prefixed NAL units are converted, and the SPS/PPS of the avcC
// record are put in front of the first access unit), Opus packets and
// 16-bit little-endian interleaved PCM.
//
// Bad input never panics: every failure to open or read a file is an
// *Error naming the file and, where it is known, the byte offset; a
// truncated file is played up to the cut, then Play reports it.
package filesource

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gomediarecorder/mediarecorder"
)

// Errors wrapped by the *Error values that Open and Play return.
var (
	// ErrUnknownFormat means neither the content nor the extension of a
	// file tells a format this package reads.
	ErrUnknownFormat = errors.New("filesource: unknown file format")
	// ErrEmptyFile means the file holds no bytes.
	ErrEmptyFile = errors.New("filesource: empty file")
	// ErrInvalidFile means a header or structure of the file is malformed.
	ErrInvalidFile = errors.New("filesource: invalid file")
	// ErrUnsupportedCodec means the file's codec or sample format cannot be
	// recorded (a WAV that is not 16-bit PCM, an Ogg without Opus, a WebM
	// track of another codec when no other track is left, ...).
	ErrUnsupportedCodec = errors.New("filesource: unsupported codec")
	// ErrTruncated means the file ends inside a frame, page or element.
	// Errors wrapping it also wrap io.ErrUnexpectedEOF.
	ErrTruncated = errors.New("filesource: truncated file")
	// ErrClosed means the file was closed before or while it was played.
	ErrClosed = errors.New("filesource: file closed")
	// ErrPlayed means a File was given to Play a second time (a File plays
	// once; open it again to replay it).
	ErrPlayed = errors.New("filesource: file already played")
)

// Error is the error of one file: its path, the byte offset of the
// problem when known, and the cause.
type Error struct {
	Path   string
	Offset int64 // byte offset in the file, -1 when unknown
	Err    error
}

// Error returns "filesource: PATH[: at byte N]: cause".
func (e *Error) Error() string {
	msg := "<nil>"
	if e.Err != nil {
		msg = strings.TrimPrefix(e.Err.Error(), "filesource: ")
	}
	if e.Offset >= 0 {
		return fmt.Sprintf("filesource: %s: at byte %d: %s", e.Path, e.Offset, msg)
	}
	return fmt.Sprintf("filesource: %s: %s", e.Path, msg)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Format names a container or stream format.
type Format string

// The formats Open reads.
const (
	FormatIVF      Format = "ivf"
	FormatOgg      Format = "ogg"
	FormatH264     Format = "h264" // H.264 Annex B elementary stream
	FormatWAV      Format = "wav"
	FormatWebM     Format = "webm"
	FormatMatroska Format = "matroska"
)

// Options tune how a file is read and played.
type Options struct {
	// Realtime paces samples in real time: each is written when its media
	// time has come (and the tracks end when the media does). Otherwise
	// samples go as fast as the recorders take them, none dropped.
	Realtime bool
	// FrameRate is the frame rate of an H.264 Annex B stream whose SPS
	// has no VUI timing information (default 30, also for values not in
	// (0, 1000]); ignored when it has.
	FrameRate float64
	// PCMSampleDuration is how much audio each WAV sample carries
	// (default 20 ms; kept between 1 ms and 1 s).
	PCMSampleDuration time.Duration
	// RawAudio opens a WAV file as a raw mediarecorder.AudioTrack, which
	// recorders encode (to Opus by default), instead of a PCM SampleTrack
	// recorded as it is. It needs 8 to 192 kHz and 1 or 2 channels.
	RawAudio bool
}

// readBufSize is the size of the buffered reads from files.
const readBufSize = 256 << 10

// headLen is how many bytes format detection looks at.
const headLen = 4096

// sample is one sample a source produces. data is valid until the
// source's next call.
type sample struct {
	track    int // index into File.tracks
	pts, dur time.Duration
	data     []byte
}

// source reads the samples of one file in file order.
type source interface {
	// next returns the next sample, io.EOF at the end, or an error (an
	// offset error or a plain one) once the samples before it are out.
	next() (sample, error)
}

// offsetError is a reader error at a known byte offset.
type offsetError struct {
	off int64
	err error
}

func (e *offsetError) Error() string { return fmt.Sprintf("at byte %d: %v", e.off, e.err) }
func (e *offsetError) Unwrap() error { return e.err }

// errAt returns err at offset off.
func errAt(off int64, err error) error { return &offsetError{off: off, err: err} }

// truncatedAt returns the error for a file that ends at off inside what
// begins at start (what: "frame 12", "page", ...).
func truncatedAt(start int64, what string) error {
	return errAt(start, fmt.Errorf("%w: %s cut short: %w", ErrTruncated, what, io.ErrUnexpectedEOF))
}

// File is an opened media file: its format, its tracks (not started) and
// the reader that Play drives.
type File struct {
	path   string
	format Format
	opt    Options
	f      *os.File
	size   int64

	tracks []*mediarecorder.SampleTrack
	raw    []mediarecorder.Track // raw tracks (Y4M, WAV with RawAudio) instead of tracks
	pcm    []int16
	src    source
	dur    time.Duration
	hasDur bool

	mu     sync.Mutex
	closed bool
	played bool
	pre    *prefetcher // the file read ahead, if it is
}

// Open opens the file at path, detects its format from its content (the
// magic bytes "DKIF", "OggS", EBML 1A45DFA3 and its DocType, "RIFF....WAVE",
// an Annex B start code), falling back to the extension (.ivf .ogg .opus
// .h264 .264 .wav .webm .mkv), reads its headers and returns its tracks,
// ready but not started: Play feeds them.
func Open(path string, opt Options) (*File, error) {
	if !(opt.FrameRate > 0 && opt.FrameRate <= 1000) { // NaN too
		opt.FrameRate = 30
	}
	switch {
	case opt.PCMSampleDuration <= 0:
		opt.PCMSampleDuration = 20 * time.Millisecond
	case opt.PCMSampleDuration < time.Millisecond:
		opt.PCMSampleDuration = time.Millisecond
	case opt.PCMSampleDuration > time.Second:
		opt.PCMSampleDuration = time.Second
	}
	osf, err := os.Open(path)
	if err != nil {
		return nil, &Error{Path: path, Offset: -1, Err: err}
	}
	f := &File{path: path, opt: opt, f: osf}
	if err := f.open(); err != nil {
		if f.pre != nil {
			f.pre.close()
		}
		osf.Close()
		return nil, f.wrap(err)
	}
	return f, nil
}

// open detects the format and builds the source and the tracks.
func (f *File) open() error {
	fi, err := f.f.Stat()
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("%w: a directory", ErrUnknownFormat)
	}
	f.size = fi.Size()
	head := make([]byte, headLen)
	n, err := io.ReadFull(f.f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return err
	}
	head = head[:n]
	if n == 0 {
		return ErrEmptyFile
	}
	format, err := detect(head, f.path)
	if err != nil {
		return err
	}
	f.format = format
	if _, err := f.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	var info *openInfo
	switch format {
	case FormatIVF:
		// The bulk of a remux's reading: a large file is read ahead on a
		// goroutine of its own, and its frames are handed out as views of
		// the chunks read, without a copy.
		if f.size >= minPrefetchSize {
			f.pre = newPrefetcher(f.f)
			info, err = openIVF(&prefetched{p: f.pre})
		} else {
			info, err = openIVF(f.f)
		}
	case FormatOgg:
		info, err = openOgg(f.f, f.size)
	case FormatH264:
		info, err = openAnnexB(f.f, f.opt.FrameRate)
	case FormatWAV:
		info, err = openWAV(f.f, f.size, f.opt.PCMSampleDuration)
	case FormatWebM, FormatMatroska:
		info, err = openWebM(f.f)
	case FormatY4M:
		info, err = openY4M(f.f, f.size)
	default:
		err = ErrUnknownFormat
	}
	if err != nil {
		return err
	}
	f.src, f.dur, f.hasDur = info.src, info.dur, info.hasDur
	if format == FormatWAV && f.opt.RawAudio {
		c := info.codecs[0]
		t, err := mediarecorder.NewAudioTrack(int(c.ClockRate), int(c.Channels))
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUnsupportedCodec, err)
		}
		info.raw, info.codecs = []mediarecorder.Track{t}, nil
	}
	f.raw = info.raw
	for _, c := range info.codecs {
		f.tracks = append(f.tracks, mediarecorder.NewSampleTrack(c))
	}
	return nil
}

// openInfo is what a format's opener found.
type openInfo struct {
	src    source
	codecs []mediarecorder.Codec // one per track, indexed by sample.track
	raw    []mediarecorder.Track // or raw tracks, indexed by sample.track
	dur    time.Duration
	hasDur bool
}

// wrap turns a reader error into an *Error naming the file.
func (f *File) wrap(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	var oe *offsetError
	if errors.As(err, &oe) {
		return &Error{Path: f.path, Offset: oe.off, Err: oe.err}
	}
	return &Error{Path: f.path, Offset: -1, Err: err}
}

// Path returns the path given to Open.
func (f *File) Path() string { return f.path }

// Format returns the detected format.
func (f *File) Format() Format { return f.format }

// Tracks returns the file's tracks, one per playable stream, in the
// order of the file's streams. A file of raw media (Y4M, WAV opened with
// RawAudio) has none: see AllTracks.
func (f *File) Tracks() []*mediarecorder.SampleTrack {
	return append([]*mediarecorder.SampleTrack(nil), f.tracks...)
}

// AllTracks returns the file's tracks of every kind: the SampleTracks of
// Tracks, or the raw tracks (a *mediarecorder.VideoTrack for Y4M, a
// *mediarecorder.AudioTrack for WAV opened with RawAudio) that recorders
// encode.
func (f *File) AllTracks() []mediarecorder.Track {
	if f.raw != nil {
		return append([]mediarecorder.Track(nil), f.raw...)
	}
	out := make([]mediarecorder.Track, len(f.tracks))
	for i, t := range f.tracks {
		out[i] = t
	}
	return out
}

// Duration returns the media time at which the file ends (timestamps start
// at or near 0), when the headers tell it cheaply: the IVF header's length
// field, the WAV data size, the WebM/Matroska Duration element, the last
// granule position of an Ogg stream (read from its last 64 KiB).
func (f *File) Duration() (time.Duration, bool) { return f.dur, f.hasDur }

// Close closes the file and stops the tracks that have not ended. Call it
// once Play has returned (or instead of Play).
func (f *File) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	f.mu.Unlock()
	f.stopTracks()
	if f.pre != nil {
		f.pre.close()
	}
	return f.f.Close()
}

func (f *File) stopTracks() {
	for _, t := range f.tracks {
		t.Stop()
	}
	for _, t := range f.raw {
		if s, ok := t.(interface{ Stop() }); ok {
			s.Stop()
		}
	}
}

// detect returns the format of a file from its first bytes head, or from
// the extension of name when the content is not recognised.
func detect(head []byte, name string) (Format, error) {
	switch {
	case len(head) >= 4 && string(head[:4]) == "DKIF":
		return FormatIVF, nil
	case len(head) >= 4 && string(head[:4]) == "OggS":
		return FormatOgg, nil
	case len(head) >= len(y4mMagic) && string(head[:len(y4mMagic)]) == y4mMagic:
		return FormatY4M, nil
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WAVE":
		return FormatWAV, nil
	case len(head) >= 4 && head[0] == 0x1a && head[1] == 0x45 && head[2] == 0xdf && head[3] == 0xa3:
		switch docType(head) {
		case "webm":
			return FormatWebM, nil
		case "matroska":
			return FormatMatroska, nil
		case "":
			// The DocType is beyond head or missing: trust the extension.
			if byExtension(name) == FormatWebM {
				return FormatWebM, nil
			}
			return FormatMatroska, nil
		default:
			return "", fmt.Errorf("%w: EBML DocType %q", ErrUnknownFormat, docType(head))
		}
	case isAnnexB(head):
		return FormatH264, nil
	}
	if f := byExtension(name); f != "" {
		return f, nil
	}
	return "", ErrUnknownFormat
}

// byExtension returns the format that name's extension suggests, or "".
func byExtension(name string) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".ivf":
		return FormatIVF
	case ".ogg", ".opus", ".oga":
		return FormatOgg
	case ".h264", ".264":
		return FormatH264
	case ".wav":
		return FormatWAV
	case ".webm":
		return FormatWebM
	case ".mkv", ".mka":
		return FormatMatroska
	case ".y4m":
		return FormatY4M
	}
	return ""
}

// isAnnexB reports whether b starts with an H.264 start code (after at
// most a few zero bytes) followed by a plausible NAL unit header.
func isAnnexB(b []byte) bool {
	i := 0
	for i < len(b) && i < 8 && b[i] == 0 {
		i++
	}
	if i < 2 || i >= len(b)-1 || b[i] != 1 {
		return false
	}
	h := b[i+1]
	if h&0x80 != 0 {
		return false
	}
	switch h & 0x1f {
	case 1, 5, 6, 7, 8, 9:
		return true
	}
	return false
}

// docType returns the DocType of the EBML header at the start of b, or ""
// when b does not hold it.
func docType(b []byte) string {
	id, n := readVintRaw(b)
	if n == 0 || id != 0x1a45dfa3 {
		return ""
	}
	b = b[n:]
	size, n := readVint(b)
	if n == 0 {
		return ""
	}
	b = b[n:]
	if size < uint64(len(b)) {
		b = b[:size]
	}
	for len(b) > 0 {
		id, n := readVintRaw(b)
		if n == 0 {
			return ""
		}
		b = b[n:]
		size, n := readVint(b)
		if n == 0 || size > uint64(len(b)-n) {
			return ""
		}
		b = b[n:]
		if id == 0x4282 {
			return strings.TrimRight(string(b[:size]), "\x00")
		}
		b = b[size:]
	}
	return ""
}

// readVintRaw reads an EBML element ID (length marker kept). n is 0 when
// b does not hold a valid one.
func readVintRaw(b []byte) (v uint64, n int) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0
	}
	l := 1
	for m := byte(0x80); b[0]&m == 0; m >>= 1 {
		l++
	}
	if l > 4 || len(b) < l {
		return 0, 0
	}
	for i := range l {
		v = v<<8 | uint64(b[i])
	}
	return v, l
}

// readVint reads an EBML size (length marker removed). n is 0 when b does
// not hold one; an unknown size reads as the maximum uint64.
func readVint(b []byte) (v uint64, n int) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0
	}
	l := 1
	for m := byte(0x80); b[0]&m == 0; m >>= 1 {
		l++
	}
	if len(b) < l {
		return 0, 0
	}
	v = uint64(b[0] & (0xff >> l))
	all := v == 0xff>>l
	for i := 1; i < l; i++ {
		v = v<<8 | uint64(b[i])
		all = all && b[i] == 0xff
	}
	if all {
		return ^uint64(0), l
	}
	return v, l
}
