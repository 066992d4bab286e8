package ogg

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/opus"
)

// silence20ms is a 20 ms CELT fullband packet (TOC 0xf8).
var silence20ms = []byte{0xf8, 0xff, 0xfe}

// opusPacket returns a 20 ms CELT packet of n bytes (n >= 1).
func opusPacket(n int) []byte {
	p := pattern(n, 0)
	p[0] = 0xf8
	return p
}

// inputStream is an Ogg Opus file read back into its parts.
type inputStream struct {
	head     opus.Head
	headRaw  []byte
	tags     opus.Tags
	packets  [][]byte
	samples  []int64 // samples at the end of each packet, pre-skip included
	granules []int64 // granule per packet from PacketReader
	final    int64   // granule of the last page
}

func readOpusStream(t *testing.T, b []byte) inputStream {
	t.Helper()
	var s inputStream
	r := NewPacketReader(bytes.NewReader(b))
	var total int64
	for i := 0; ; i++ {
		pkt, g, err := r.NextPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		switch i {
		case 0:
			s.headRaw = bytes.Clone(pkt)
			if s.head, err = opus.ParseHead(pkt); err != nil {
				t.Fatal(err)
			}
		case 1:
			if s.tags, err = opus.ParseTags(pkt); err != nil {
				t.Fatal(err)
			}
		default:
			n, err := opus.PacketSamples(pkt)
			if err != nil {
				t.Fatalf("packet %d: %v", i, err)
			}
			total += int64(n)
			s.packets = append(s.packets, bytes.Clone(pkt))
			s.samples = append(s.samples, total)
			s.granules = append(s.granules, g)
			if g >= 0 {
				s.final = g
			}
		}
	}
	return s
}

// checkOpusPages checks the page structure RFC 7845 asks for.
func checkOpusPages(t *testing.T, out []byte, head opus.Head, maxPage time.Duration) []rawPage {
	t.Helper()
	pages := splitPages(t, out)
	if len(pages) < 3 {
		t.Fatalf("%d pages", len(pages))
	}
	hb, _ := head.MarshalBinary()
	p0, p1 := pages[0], pages[1]
	if p0.flags != FlagBOS || p0.granule != 0 || p0.seq != 0 || !bytes.Equal(p0.segs, []byte{byte(len(hb))}) || !bytes.Equal(p0.body, hb) {
		t.Errorf("page 0: flags %d granule %d seq %d segs %v", p0.flags, p0.granule, p0.seq, p0.segs)
	}
	if p1.flags != 0 || p1.granule != 0 || p1.seq != 1 || p1.segs[len(p1.segs)-1] == 255 || string(p1.body[:8]) != "OpusTags" {
		t.Errorf("page 1: flags %d granule %d seq %d", p1.flags, p1.granule, p1.seq)
	}
	prev := int64(0)
	for i, p := range pages {
		if p.serial != p0.serial || p.seq != uint32(i) {
			t.Errorf("page %d: serial %d seq %d", i, p.serial, p.seq)
		}
		var wantFlags uint8
		if i == 0 {
			wantFlags = FlagBOS
		} else if i == len(pages)-1 {
			wantFlags = FlagEOS
		} else {
			wantFlags = 0
		}
		if p.flags&^FlagContinued != wantFlags {
			t.Errorf("page %d: flags %d", i, p.flags)
		}
		if i >= 2 {
			ends := false
			for _, v := range p.segs {
				ends = ends || v < 255
			}
			if ends && p.granule < prev || !ends && p.granule != -1 && len(p.segs) > 0 {
				t.Errorf("page %d: granule %d after %d (a packet ends here: %v)", i, p.granule, prev, ends)
			}
			if ends {
				prev = p.granule
			}
			if len(p.segs) == 0 && !(i == 2 && len(pages) == 3) {
				t.Errorf("page %d: no segments", i)
			}
		}
	}
	// Audio per page: by the packets' TOCs.
	if maxPage > 0 {
		for i, p := range pages[2:] {
			if p.flags&FlagContinued != 0 {
				continue
			}
			var d time.Duration
			off, n, count := 0, 0, 0
			for _, v := range p.segs {
				n += int(v)
				if v < 255 {
					pd, err := opus.PacketDuration(p.body[off : off+n])
					if err != nil {
						t.Fatalf("page %d: %v", i+2, err)
					}
					d += pd
					count++
					off += n
					n = 0
				}
			}
			if d > maxPage && count > 1 {
				t.Errorf("page %d holds %v of audio", i+2, d)
			}
		}
	}
	return pages
}

func TestOpusWriterFFmpegRoundTrip(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	mediatest.RequireTool(t, "ffprobe")
	tests := []struct {
		channels int
		frame    string
		rate     int
	}{
		{1, "20", 48000},
		{2, "20", 48000},
		{2, "60", 16000},
		{1, "60", 48000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dch_%sms_%d", tt.channels, tt.frame, tt.rate), func(t *testing.T) {
			in := ffmpegOpus(t, tt.channels, tt.frame, tt.rate)
			inPath := writeTemp(t, "in.opus", in)
			s := readOpusStream(t, in)

			// The head as ffprobe sees it: its extradata is the OpusHead.
			probe, _ := run(t, "ffprobe", "-v", "error", "-show_streams", "-show_data", inPath)
			if !strings.Contains(probe, fmt.Sprintf("channels=%d\n", tt.channels)) || !strings.Contains(probe, "sample_rate=48000\n") {
				t.Fatalf("ffprobe:\n%s", probe)
			}
			if got := extradata(t, probe); !bytes.Equal(got, s.headRaw) {
				t.Fatalf("ffprobe extradata % x, OpusHead packet % x", got, s.headRaw)
			}
			// The little-endian fields, checked by hand.
			if s.head.Channels != uint8(tt.channels) || s.head.PreSkip != 312 || s.head.InputSampleRate != uint32(tt.rate) ||
				s.headRaw[10] != 0x38 || s.headRaw[11] != 0x01 || s.head.MappingFamily != 0 || s.head.OutputGain != 0 {
				t.Fatalf("head %+v", s.head)
			}
			frame, _ := strconv.Atoi(tt.frame)
			for i, p := range s.packets {
				if d, _ := opus.PacketDuration(p); d != time.Duration(frame)*time.Millisecond {
					t.Fatalf("packet %d lasts %v", i, d)
				}
			}

			var out bytes.Buffer
			w, err := NewOpusWriter(&out, s.head, s.tags, OpusWriterOptions{Serial: 1234})
			if err != nil {
				t.Fatal(err)
			}
			preSkip := int64(s.head.PreSkip)
			start := int64(0)
			for i, p := range s.packets {
				pts := opus.SamplesToDuration(start - preSkip)
				if err := w.WritePacket(p, pts); err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
				start = s.samples[i]
			}
			end := opus.SamplesToDuration(s.final - preSkip)
			if err := w.CloseAt(end); err != nil {
				t.Fatal(err)
			}
			if w.Duration() != end {
				t.Errorf("Duration = %v, want %v", w.Duration(), end)
			}

			pages := checkOpusPages(t, out.Bytes(), s.head, DefaultMaxPageDuration)
			if last := pages[len(pages)-1]; last.granule != s.final {
				t.Errorf("EOS granule %d, want %d", last.granule, s.final)
			}
			back := readOpusStream(t, out.Bytes())
			if len(back.packets) != len(s.packets) {
				t.Fatalf("%d packets back, want %d", len(back.packets), len(s.packets))
			}
			for i := range s.packets {
				if !bytes.Equal(back.packets[i], s.packets[i]) {
					t.Fatalf("packet %d differs", i)
				}
				if g := back.granules[i]; g != -1 && i < len(s.packets)-1 && g != s.samples[i] {
					t.Fatalf("packet %d: granule %d, want %d", i, g, s.samples[i])
				}
			}

			outPath := writeTemp(t, "out.ogg", out.Bytes())
			if _, stderr := run(t, "ffmpeg", "-v", "error", "-i", outPath, "-f", "null", "-"); stderr != "" {
				t.Errorf("ffmpeg decoding our file:\n%s", stderr)
			}
			dIn, dOut := probeDuration(t, inPath), probeDuration(t, outPath)
			if math.Abs(dIn-dOut) > 0.030 {
				t.Errorf("ffprobe durations: in %.4f s, out %.4f s", dIn, dOut)
			}
			for _, f := range []string{"md5", "framemd5"} {
				a, _ := run(t, "ffmpeg", "-v", "error", "-i", inPath, "-f", f, "-")
				b, _ := run(t, "ffmpeg", "-v", "error", "-i", outPath, "-f", f, "-")
				if a != b || a == "" {
					t.Errorf("decoded %s differs:\n in %.300s\nout %.300s", f, a, b)
				}
			}
		})
	}
}

// extradata decodes the extradata hex dump in ffprobe -show_data output.
func extradata(t *testing.T, probe string) []byte {
	t.Helper()
	_, rest, ok := strings.Cut(probe, "extradata=\n")
	if !ok {
		t.Fatalf("no extradata in\n%s", probe)
	}
	var b []byte
	for _, line := range strings.Split(rest, "\n") {
		if line == "" {
			break
		}
		_, hx, _ := strings.Cut(line, ": ")
		if len(hx) > 40 {
			hx = hx[:40]
		}
		raw, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(hx), " ", ""))
		if err != nil {
			t.Fatalf("extradata line %q: %v", line, err)
		}
		b = append(b, raw...)
	}
	return b
}

func probeDuration(t *testing.T, path string) float64 {
	t.Helper()
	o, _ := run(t, "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path)
	d, err := strconv.ParseFloat(strings.TrimSpace(o), 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q: %v", o, err)
	}
	return d
}

// TestOpusWriterLive writes a stream the way a recorder does (first packet
// at pts 0, then a gap) and checks that ffmpeg plays it.
func TestOpusWriterLive(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	s := readOpusStream(t, ffmpegOpus(t, 2, "20", 48000))
	var out bytes.Buffer
	w, err := NewOpusWriter(&out, s.head, opus.Tags{Vendor: "mediarecorder"}, OpusWriterOptions{MaxPageDuration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range s.packets {
		pts := time.Duration(i) * 20 * time.Millisecond
		if i%10 == 9 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.WritePacket(p, pts); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkOpusPages(t, out.Bytes(), s.head, 200*time.Millisecond)
	p := writeTemp(t, "live.ogg", out.Bytes())
	if _, stderr := run(t, "ffmpeg", "-v", "error", "-i", p, "-f", "null", "-"); stderr != "" {
		t.Errorf("ffmpeg:\n%s", stderr)
	}
	want := float64(len(s.packets)*960+312) / 48000
	if d := probeDuration(t, p); math.Abs(d-want) > 0.030 {
		t.Errorf("ffprobe duration %.4f, want %.4f", d, want)
	}
}

func TestOpusWriterGranules(t *testing.T) {
	head := opus.DefaultHead(1, 48000)
	tests := []struct {
		name  string
		pts   []time.Duration
		want  []int64 // end granule of each packet
		trim  time.Duration
		final int64
	}{
		{"from zero", []time.Duration{0, 20 * time.Millisecond, 40 * time.Millisecond}, []int64{312 + 960, 312 + 1920, 312 + 2880}, -1, 312 + 2880},
		{"encoder timeline", []time.Duration{-6500 * time.Microsecond, 13500 * time.Microsecond}, []int64{960, 1920}, -1, 1920},
		{"before the pre-skip", []time.Duration{-time.Second, 0}, []int64{960, 1920}, -1, 1920},
		{"backwards", []time.Duration{0, 0, 10 * time.Millisecond}, []int64{1272, 2232, 3192}, -1, 3192},
		{"gap", []time.Duration{0, time.Second}, []int64{1272, 312 + 48000 + 960}, -1, 312 + 48000 + 960},
		{"rounding", []time.Duration{time.Second / 96000 * 3}, []int64{312 + 1 + 960}, -1, 312 + 1 + 960},
		{"trimmed", []time.Duration{0, 20 * time.Millisecond}, []int64{1272, 2232}, 30 * time.Millisecond, 312 + 1440},
		{"trim past the end", []time.Duration{0, 20 * time.Millisecond}, []int64{1272, 2232}, time.Hour, 2232},
		{"trim into an earlier packet", []time.Duration{0, 20 * time.Millisecond}, []int64{1272, 2232}, 0, 1273},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			w, err := NewOpusWriter(&out, head, opus.Tags{}, OpusWriterOptions{MaxPageDuration: time.Nanosecond})
			if err != nil {
				t.Fatal(err)
			}
			for _, pts := range tt.pts {
				if err := w.WritePacket(silence20ms, pts); err != nil {
					t.Fatal(err)
				}
			}
			if tt.trim >= 0 {
				err = w.CloseAt(tt.trim)
			} else {
				err = w.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			pages := splitPages(t, out.Bytes())[2:]
			if len(pages) != len(tt.want) {
				t.Fatalf("%d audio pages, want one per packet", len(pages))
			}
			for i, p := range pages[:len(pages)-1] {
				if p.granule != tt.want[i] {
					t.Errorf("page %d: granule %d, want %d", i, p.granule, tt.want[i])
				}
			}
			if g := pages[len(pages)-1].granule; g != tt.final {
				t.Errorf("EOS granule %d, want %d", g, tt.final)
			}
			if d := w.Duration(); d != opus.SamplesToDuration(tt.final-312) {
				t.Errorf("Duration %v, want %v", d, opus.SamplesToDuration(tt.final-312))
			}
		})
	}
}

func TestOpusWriterPaging(t *testing.T) {
	head := opus.DefaultHead(2, 48000)
	tests := []struct {
		name    string
		sizes   []int
		maxPage time.Duration
		pages   []int // packets ending on each audio page
	}{
		{"one second", repeat(100, 120), 0, []int{50, 50, 20}},
		{"200 ms", repeat(100, 25), 200 * time.Millisecond, []int{10, 10, 5}},
		{"255 lacing values", repeat(300, 200), 0, []int{50, 50, 50, 50}},
		{"lacing limit", repeat(600, 100), 10 * time.Second, []int{85, 15}},
		{"one page per packet", repeat(10, 3), time.Nanosecond, []int{1, 1, 1}},
		{"large packets", []int{100, 255*255 + 1, 100, 255 * 255, 255*255*2 - 1, 3}, 0, []int{1, 0, 2, 0, 1, 0, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			cw := &countWriter{w: &out}
			w, err := NewOpusWriter(cw, head, opus.Tags{Vendor: "v"}, OpusWriterOptions{MaxPageDuration: tt.maxPage, Serial: 5})
			if err != nil {
				t.Fatal(err)
			}
			var pkts [][]byte
			for i, n := range tt.sizes {
				p := opusPacket(n)
				if n > 1 {
					p[1] = byte(i)
				}
				pkts = append(pkts, p)
				if err := w.WritePacket(p, time.Duration(i)*20*time.Millisecond); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			pages := checkOpusPages(t, out.Bytes(), head, tt.maxPage)
			if cw.writes != len(pages) {
				t.Errorf("%d Write calls for %d pages", cw.writes, len(pages))
			}
			var ends []int
			end := int64(312)
			ended := 0
			for _, p := range pages[2:] {
				n := 0
				for _, v := range p.segs {
					if v < 255 {
						n++
					}
				}
				ended += n
				ends = append(ends, n)
				end = 312 + int64(ended)*960
				if n > 0 && p.granule != end {
					t.Errorf("page %d: granule %d, want %d", p.seq, p.granule, end)
				}
			}
			if fmt.Sprint(ends) != fmt.Sprint(tt.pages) {
				t.Errorf("packets per page %v, want %v", ends, tt.pages)
			}
			back := readOpusStream(t, out.Bytes())
			if len(back.packets) != len(pkts) {
				t.Fatalf("read back %d packets, want %d", len(back.packets), len(pkts))
			}
			for i := range pkts {
				if !bytes.Equal(back.packets[i], pkts[i]) {
					t.Fatalf("packet %d differs", i)
				}
			}
		})
	}
}

func repeat(size, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = size
	}
	return s
}

// countWriter counts Write calls.
type countWriter struct {
	w      io.Writer
	writes int
}

func (c *countWriter) Write(b []byte) (int, error) {
	c.writes++
	return c.w.Write(b)
}

func TestOpusWriterFlush(t *testing.T) {
	var out bytes.Buffer
	w, err := NewOpusWriter(&out, opus.DefaultHead(1, 48000), opus.Tags{}, OpusWriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	headers := out.Len()
	// Nothing to flush with zero or one pending packet.
	if err := w.Flush(); err != nil || out.Len() != headers {
		t.Fatalf("Flush with no packets wrote %d bytes, %v", out.Len()-headers, err)
	}
	w.WritePacket(opusPacket(10), 0)
	if err := w.Flush(); err != nil || out.Len() != headers {
		t.Fatalf("Flush with one packet wrote %d bytes, %v", out.Len()-headers, err)
	}
	w.WritePacket(opusPacket(11), 20*time.Millisecond)
	w.WritePacket(opusPacket(12), 40*time.Millisecond)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	pages := splitPages(t, out.Bytes()) // whole pages only
	if len(pages) != 3 || !bytes.Equal(pages[2].segs, []byte{10, 11}) || pages[2].granule != 312+1920 || pages[2].flags != 0 {
		t.Fatalf("after Flush: %d pages, last %+v", len(pages), pages[len(pages)-1])
	}
	n := out.Len()
	if err := w.Flush(); err != nil || out.Len() != n {
		t.Fatalf("second Flush wrote %d bytes, %v", out.Len()-n, err)
	}
	// A packet spanning pages: only its tail is pending, nothing to flush.
	w.WritePacket(opusPacket(255*255+10), 60*time.Millisecond)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	pages = splitPages(t, out.Bytes())
	last := pages[len(pages)-1]
	if len(pages) != 5 || last.granule != -1 || len(last.segs) != 255 {
		t.Fatalf("after a large packet: %d pages, last granule %d with %d segments", len(pages), last.granule, len(last.segs))
	}
	w.WritePacket(opusPacket(13), 80*time.Millisecond)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	pages = splitPages(t, out.Bytes())
	last = pages[len(pages)-1]
	if len(pages) != 6 || last.flags != FlagContinued || last.granule != 312+4*960 || !bytes.Equal(last.segs, []byte{10}) {
		t.Fatalf("flushing a page that starts with a continued packet: %d pages, last %+v", len(pages), last)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pages = checkOpusPages(t, out.Bytes(), opus.DefaultHead(1, 48000), 0)
	last = pages[len(pages)-1]
	if last.flags != FlagEOS || !bytes.Equal(last.segs, []byte{13}) || last.granule != 312+5*960 {
		t.Fatalf("EOS page %+v", last)
	}
	// Flush and Close after Close.
	n = out.Len()
	if err := w.Flush(); err != nil || out.Len() != n {
		t.Fatalf("Flush after Close: %v", err)
	}
	if err := w.Close(); err != nil || out.Len() != n {
		t.Fatalf("second Close: %v", err)
	}
	if err := w.WritePacket(silence20ms, time.Hour); err != ErrClosed {
		t.Fatalf("WritePacket after Close = %v", err)
	}
}

func TestOpusWriterEmpty(t *testing.T) {
	var out bytes.Buffer
	head := opus.DefaultHead(2, 44100)
	w, err := NewOpusWriter(&out, head, opus.Tags{Vendor: "x", Comments: []string{"A=b"}}, OpusWriterOptions{Serial: 77})
	if err != nil {
		t.Fatal(err)
	}
	if w.Serial() != 77 || w.Duration() != 0 {
		t.Fatalf("Serial %d, Duration %v", w.Serial(), w.Duration())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pages := checkOpusPages(t, out.Bytes(), head, 0)
	if len(pages) != 3 {
		t.Fatalf("%d pages", len(pages))
	}
	// checkOpusPages wants segments on audio pages; the empty EOS page is
	// the exception.
	last := pages[2]
	if last.flags != FlagEOS || last.granule != 312 || len(last.segs) != 0 || last.serial != 77 {
		t.Fatalf("EOS page %+v", last)
	}
	// ffmpeg 5.1 cannot open a stream without audio packets, not even the
	// one it writes itself for an empty input, so it cannot check this one.
}

func TestOpusWriterLargeTags(t *testing.T) {
	tags := opus.Tags{Vendor: "big", Comments: []string{"METADATA_BLOCK_PICTURE=" + strings.Repeat("x", 150000)}}
	var out bytes.Buffer
	w, err := NewOpusWriter(&out, opus.DefaultHead(1, 48000), tags, OpusWriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.WritePacket(silence20ms, 0)
	w.Close()
	pages := splitPages(t, out.Bytes())
	if len(pages) != 5 {
		t.Fatalf("%d pages", len(pages))
	}
	for i, p := range pages[1:4] {
		wantFlags := byte(0)
		if i > 0 {
			wantFlags = FlagContinued
		}
		if p.granule != 0 || p.flags != wantFlags {
			t.Errorf("tags page %d: granule %d flags %d", i, p.granule, p.flags)
		}
	}
	s := readOpusStream(t, out.Bytes())
	if len(s.packets) != 1 || s.tags.Comments[0] != tags.Comments[0] {
		t.Fatal("tags or packets lost")
	}
}

func TestOpusWriterErrors(t *testing.T) {
	if _, err := NewOpusWriter(io.Discard, opus.Head{}, opus.Tags{}, OpusWriterOptions{}); !errors.Is(err, opus.ErrInvalidHead) {
		t.Errorf("zero head: %v", err)
	}
	fw := &failWriter{after: 1}
	if _, err := NewOpusWriter(fw, opus.DefaultHead(1, 0), opus.Tags{}, OpusWriterOptions{}); err != errFail {
		t.Errorf("failing writer: %v", err)
	}

	var out bytes.Buffer
	w, err := NewOpusWriter(&out, opus.DefaultHead(1, 48000), opus.Tags{}, OpusWriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := out.Len()
	for _, p := range [][]byte{nil, {}, {0x1b}, {0x83, 0}, {0x83, 49}, {0x1b, 3}} {
		if err := w.WritePacket(p, 0); !errors.Is(err, opus.ErrInvalidPacket) || !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("WritePacket(% x) = %v", p, err)
		}
	}
	if w.Duration() != 0 {
		t.Errorf("Duration after garbage %v", w.Duration())
	}
	if err := w.WritePacket(silence20ms, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pages := splitPages(t, out.Bytes()[n:])
	if len(pages) != 1 || !bytes.Equal(pages[0].body, silence20ms) {
		t.Fatalf("garbage reached the stream: %+v", pages)
	}

	// Write errors are sticky.
	fw = &failWriter{after: 2}
	w, err = NewOpusWriter(fw, opus.DefaultHead(1, 48000), opus.Tags{}, OpusWriterOptions{MaxPageDuration: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	w.WritePacket(silence20ms, 0)
	if err := w.WritePacket(silence20ms, 0); err != errFail {
		t.Fatalf("WritePacket = %v", err)
	}
	for _, err := range []error{w.WritePacket(silence20ms, 0), w.Flush(), w.Close(), w.Close()} {
		if err != errFail {
			t.Fatalf("sticky error: %v", err)
		}
	}
}

var errFail = errors.New("write failed")

type failWriter struct{ after int }

func (f *failWriter) Write(b []byte) (int, error) {
	if f.after == 0 {
		return 0, errFail
	}
	f.after--
	return len(b), nil
}

func TestOpusWriterRandomSerial(t *testing.T) {
	seen := map[uint32]bool{}
	for range 4 {
		w, err := NewOpusWriter(io.Discard, opus.DefaultHead(1, 48000), opus.Tags{}, OpusWriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		seen[w.Serial()] = true
	}
	if len(seen) < 2 {
		t.Errorf("serials not random: %v", seen)
	}
}

func TestOpusWriterAllocs(t *testing.T) {
	w, err := NewOpusWriter(io.Discard, opus.DefaultHead(2, 48000), opus.Tags{}, OpusWriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pkt := opusPacket(100)
	var pts time.Duration
	allocs := testing.AllocsPerRun(2000, func() {
		if err := w.WritePacket(pkt, pts); err != nil {
			t.Fatal(err)
		}
		pts += 20 * time.Millisecond
	})
	if allocs != 0 {
		t.Errorf("WritePacket allocates %.2f times per call", allocs)
	}
	allocs = testing.AllocsPerRun(100, func() {
		w.WritePacket(pkt, pts)
		pts += 20 * time.Millisecond
		w.WritePacket(pkt, pts)
		pts += 20 * time.Millisecond
		w.Flush()
	})
	if allocs != 0 {
		t.Errorf("Flush allocates %.2f times per call", allocs)
	}
}

func BenchmarkOpusWriterWritePacket(b *testing.B) {
	w, err := NewOpusWriter(io.Discard, opus.DefaultHead(2, 48000), opus.Tags{}, OpusWriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	pkt := opusPacket(100)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	var pts time.Duration
	for b.Loop() {
		if err := w.WritePacket(pkt, pts); err != nil {
			b.Fatal(err)
		}
		pts += 20 * time.Millisecond
	}
}
