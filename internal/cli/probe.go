package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/filesource"
	"github.com/gomediarecorder/mediarecorder/internal/codec"
	"github.com/gomediarecorder/mediarecorder/mp4"
	"github.com/gomediarecorder/mediarecorder/ogg"
	"github.com/gomediarecorder/mediarecorder/webm"
)

// probeResult is what `probe` prints.
type probeResult struct {
	File        string       `json:"file"`
	Container   string       `json:"container"`
	Size        int64        `json:"size"`
	Duration    *float64     `json:"duration"` // seconds of media; null when unknown
	Seekable    bool         `json:"seekable"`
	HasDuration *bool        `json:"hasDuration,omitempty"`
	HasCues     *bool        `json:"hasCues,omitempty"`
	Tracks      []probeTrack `json:"tracks"`
	Problems    []string     `json:"problems"`
}

type probeTrack struct {
	Number     uint64 `json:"number"`
	Type       string `json:"type"`
	Codec      string `json:"codec"`
	CodecID    string `json:"codecID,omitempty"`
	Width      uint32 `json:"width,omitempty"`
	Height     uint32 `json:"height,omitempty"`
	Channels   int    `json:"channels,omitempty"`
	SampleRate int    `json:"sampleRate,omitempty"`
	Frames     int    `json:"frames,omitempty"`
}

func probeCmd(fs *flag.FlagSet, stdout, stderr io.Writer) func() error {
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: mediarecorder probe FILE...\n\n"+
			"Prints what each FILE holds as JSON: container, tracks, duration, whether it is seekable,\n"+
			"and the problems found. One FILE: an object; several: an array of them, in order.\n"+
			"A FILE that cannot be read is named on stderr (exit status 1); the others are printed.\n")
		fs.PrintDefaults()
	}
	return func() error {
		if fs.NArg() == 0 {
			return usageError{"probe takes one or more FILEs"}
		}
		if fs.NArg() == 1 {
			res, err := probe(fs.Arg(0))
			if err != nil {
				return err
			}
			return printJSON(stdout, res)
		}
		results := []probeResult{}
		var failed []error
		for _, path := range fs.Args() {
			res, err := probe(path)
			if err != nil {
				failed = append(failed, err)
				continue
			}
			results = append(results, res)
		}
		if err := printJSON(stdout, results); err != nil {
			return err
		}
		for _, err := range failed[:max(0, len(failed)-1)] {
			fmt.Fprintf(stderr, "mediarecorder probe: %s\n", oneLine(err.Error()))
		}
		if len(failed) > 0 {
			return failed[len(failed)-1] // printed by run, exit status 1
		}
		return nil
	}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// codecName is a codec's short name ("vp8", "h264", "opus"): the codec
// table's row of name, or name in lower case when there is none.
func codecName(row *codec.Codec, name string) string {
	if row == nil {
		return strings.ToLower(name)
	}
	return row.Name
}

func probe(path string) (probeResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return probeResult{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return probeResult{}, err
	}
	if st.IsDir() {
		return probeResult{}, fmt.Errorf("%s: is a directory", path)
	}
	if st.Size() == 0 {
		return probeResult{}, fmt.Errorf("%s: empty file", path)
	}
	res := probeResult{File: path, Size: st.Size(), Problems: []string{}, Tracks: []probeTrack{}}
	head := make([]byte, 4)
	_, _ = io.ReadFull(f, head)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return res, err
	}
	switch {
	case string(head) == "\x1a\x45\xdf\xa3":
		return probeWebM(res, f)
	case string(head) == "OggS":
		return probeOgg(res, f)
	}
	if box := make([]byte, 4); func() bool { _, err := f.ReadAt(box, 4); return err == nil }() && string(box) == "ftyp" {
		return probeMP4(res, f)
	}
	return probeOther(res)
}

func probeWebM(res probeResult, f *os.File) (probeResult, error) {
	p, err := webm.Probe(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return res, fmt.Errorf("%s: %w", res.File, err)
	}
	res.Container = p.Header.DocType
	d := p.Duration.Seconds()
	res.Duration = &d
	res.Seekable = p.Seekable
	res.HasDuration, res.HasCues = &p.HasDuration, &p.HasCues
	for _, t := range p.Header.Tracks {
		pt := probeTrack{Number: t.Number, CodecID: t.CodecID, Codec: codecName(codec.ByMatroskaID(t.CodecID), t.CodecID), Frames: p.Frames[t.Number]}
		switch t.Type {
		case webm.TrackTypeVideo:
			pt.Type, pt.Width, pt.Height = "video", t.PixelWidth, t.PixelHeight
		case webm.TrackTypeAudio:
			pt.Type, pt.Channels, pt.SampleRate = "audio", int(t.Channels), int(t.SamplingFrequency)
		}
		res.Tracks = append(res.Tracks, pt)
	}
	res.Problems = append(res.Problems, p.Problems...)
	return res, nil
}

func probeMP4(res probeResult, f *os.File) (probeResult, error) {
	p, err := mp4.Probe(f)
	if err != nil {
		return res, fmt.Errorf("%s: %w", res.File, err)
	}
	res.Container = "mp4"
	if p.Duration > 0 {
		d := p.Duration.Seconds()
		res.Duration = &d
	}
	res.Seekable = p.Seekable
	hasDuration := p.DurationSource == "mvhd" || p.DurationSource == "mehd"
	res.HasDuration = &hasDuration
	for _, t := range p.Tracks {
		pt := probeTrack{Number: uint64(t.ID), CodecID: t.Codec, Codec: codecName(codec.ByMP4Entry(t.Codec), t.Codec), Frames: t.Samples}
		switch t.Type {
		case mp4.TrackTypeVideo:
			pt.Type, pt.Width, pt.Height = "video", uint32(t.Width), uint32(t.Height)
		case mp4.TrackTypeAudio:
			pt.Type, pt.Channels, pt.SampleRate = "audio", int(t.Channels), int(t.SampleRate)
		default:
			pt.Type = t.Handler
		}
		res.Tracks = append(res.Tracks, pt)
	}
	res.Problems = append(res.Problems, p.Problems...)
	return res, nil
}

// probeOgg reads an Ogg Opus file's pages: header, packets, last granule.
func probeOgg(res probeResult, f *os.File) (probeResult, error) {
	res.Container = "ogg"
	r := ogg.NewReader(bufio.NewReaderSize(f, 1<<20))
	var serial uint32
	var head opus.Head
	var haveHead, eos bool
	var lastGranule int64 = -1
	packets := 0
	for i := 0; ; i++ {
		pg, err := r.NextPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				res.Problems = append(res.Problems, fmt.Sprintf("truncated at byte %d", r.Offset()))
				break
			}
			if errors.Is(err, ogg.ErrBadCRC) {
				res.Problems = append(res.Problems, fmt.Sprintf("bad page checksum before byte %d", r.Offset()))
				continue
			}
			return res, fmt.Errorf("%s: %w", res.File, err)
		}
		if i == 0 {
			serial = pg.Serial
			h, err := opus.ParseHead(pg.Body)
			if err != nil {
				return res, fmt.Errorf("%s: not an Ogg Opus file: %w", res.File, err)
			}
			head, haveHead = h, true
			continue
		}
		if pg.Serial != serial {
			continue
		}
		for _, l := range pg.Segments {
			if l < 255 {
				packets++
			}
		}
		if pg.Granule >= 0 {
			lastGranule = pg.Granule
		}
		if pg.Flags&ogg.FlagEOS != 0 {
			eos = true
		}
	}
	if !haveHead {
		return res, fmt.Errorf("%s: no Opus stream", res.File)
	}
	res.Tracks = append(res.Tracks, probeTrack{Number: 1, Type: "audio", Codec: codec.Opus.Name,
		Channels: int(head.Channels), SampleRate: 48000, Frames: max(0, packets-1)}) // -1: OpusTags
	if lastGranule >= int64(head.PreSkip) {
		d := float64(lastGranule-int64(head.PreSkip)) / 48000
		res.Duration = &d
	}
	if !eos {
		res.Problems = append(res.Problems, "no end-of-stream page")
	}
	res.Seekable = eos && res.Duration != nil
	return res, nil
}

// probeOther describes the raw inputs record reads (IVF, H.264, WAV).
func probeOther(res probeResult) (probeResult, error) {
	src, err := filesource.Open(res.File, filesource.Options{})
	if err != nil {
		return res, err
	}
	defer src.Close()
	res.Container = string(src.Format())
	if d, ok := src.Duration(); ok {
		s := d.Seconds()
		res.Duration = &s
	}
	res.Seekable = src.Format() == "wav"
	for i, t := range src.Tracks() {
		c := t.Codec()
		pt := probeTrack{Number: uint64(i + 1), Type: string(t.Kind()), Codec: codecName(codec.ByRTPMimeType(c.MimeType), strings.TrimPrefix(strings.TrimPrefix(c.MimeType, "video/"), "audio/"))}
		if t.Kind() == "audio" {
			pt.Channels, pt.SampleRate = int(c.Channels), int(c.ClockRate)
		}
		res.Tracks = append(res.Tracks, pt)
	}
	sort.Slice(res.Tracks, func(i, j int) bool { return res.Tracks[i].Number < res.Tracks[j].Number })
	return res, nil
}
