package ogg

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// crashedOpus writes packets (one every 20 ms) with an OpusWriter that is
// never closed, as a recording killed mid-way leaves them, and returns the
// bytes and the end of each page.
func crashedOpus(t *testing.T, head opus.Head, packets [][]byte, maxPage time.Duration) ([]byte, []int) {
	t.Helper()
	var b bytes.Buffer
	w, err := NewOpusWriter(&b, head, opus.Tags{Vendor: "test"}, OpusWriterOptions{Serial: 7, MaxPageDuration: maxPage})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range packets {
		if err := w.WritePacket(p, time.Duration(i)*20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var ends []int
	end := 0
	for _, p := range splitPages(t, b.Bytes()) {
		end += len(p.raw)
		ends = append(ends, end)
	}
	return b.Bytes(), ends
}

// fixOgg runs Fix on in.
func fixOgg(t *testing.T, in []byte) ([]byte, FixReport) {
	t.Helper()
	var out bytes.Buffer
	rep, err := Fix(&out, bytes.NewReader(in))
	if err != nil {
		t.Fatalf("Fix of %d bytes: %v", len(in), err)
	}
	if rep.Size != int64(out.Len()) {
		t.Errorf("Size %d, wrote %d", rep.Size, out.Len())
	}
	return out.Bytes(), rep
}

// checkFixedOgg checks a fixed stream against the packets it came from:
// the packets kept are whole and a prefix of them, the last page is the
// only EOS page and carries the final granule, which gives the duration.
func checkFixedOgg(t *testing.T, what string, fixed []byte, rep FixReport, packets [][]byte, preSkip int64) int {
	t.Helper()
	pages := splitPages(t, fixed)
	for i, p := range pages {
		if (p.flags&FlagEOS != 0) != (i == len(pages)-1) {
			t.Errorf("%s: page %d of %d has flags %x", what, i, len(pages), p.flags)
		}
	}
	s := readOpusStream(t, fixed)
	if len(s.packets) > len(packets) {
		t.Fatalf("%s: %d packets of %d", what, len(s.packets), len(packets))
	}
	for i, p := range s.packets {
		if !bytes.Equal(p, packets[i]) {
			t.Fatalf("%s: packet %d differs", what, i)
		}
	}
	final := pages[len(pages)-1].granule
	if want := preSkip + int64(len(s.packets))*960; final != want && len(s.packets) > 0 {
		t.Errorf("%s: final granule %d, want %d", what, final, want)
	}
	if want := time.Duration(len(s.packets)) * 20 * time.Millisecond; rep.Duration != want {
		t.Errorf("%s: duration %v, want %v", what, rep.Duration, want)
	}
	again, rep2 := fixOgg(t, fixed)
	if !bytes.Equal(again, fixed) || rep2.Truncated || rep2.Duration != rep.Duration {
		t.Errorf("%s: fixing again changed the stream: %+v", what, rep2)
	}
	return len(s.packets)
}

// TestFixTruncatedOgg cuts an Ogg Opus recording that was never closed at
// every page boundary and inside pages, and fixes it: the output keeps
// every packet that was whole, unchanged, ends with an EOS page whose
// granule is the final one, and decodes without a complaint.
func TestFixTruncatedOgg(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	src := readOpusStream(t, ffmpegOpus(t, 2, "20", 48000))
	head := src.head
	data, ends := crashedOpus(t, head, src.packets, 200*time.Millisecond)
	if len(ends) < 8 {
		t.Fatalf("%d pages", len(ends))
	}
	var cuts []int
	for i, e := range ends[1:] {
		cuts = append(cuts, e, e-1, (ends[i]+e)/2)
	}
	for k, cut := range cuts {
		fixed, rep := fixOgg(t, data[:cut])
		whole := 0
		for whole < len(ends) && ends[whole] <= cut {
			whole++
		}
		if rep.Kept != int64(ends[whole-1]) || rep.Truncated != (cut != ends[whole-1]) {
			t.Errorf("cut at %d: %+v", cut, rep)
		}
		n := checkFixedOgg(t, "cut", fixed, rep, src.packets, int64(head.PreSkip))
		if whole > 2 && n == 0 {
			t.Errorf("cut at %d: no packet kept", cut)
		}
		if k%4 == 0 && n > 0 {
			path := writeTemp(t, "fixed.opus", fixed)
			if out := mediatest.Decode(t, path); out != "" {
				t.Errorf("cut at %d: ffmpeg: %s", cut, out)
			}
			// ffprobe counts the pre-skip in.
			if d := probeDuration(t, path); d < rep.Duration.Seconds()-0.001 || d > rep.Duration.Seconds()+float64(head.PreSkip)/48000+0.001 {
				t.Errorf("cut at %d: ffprobe %.3f s, Fix %v", cut, d, rep.Duration)
			}
		}
	}
}

// TestFixOggSpanning: a packet that spans pages and is cut off is dropped
// whole, with the pages that hold only parts of it.
func TestFixOggSpanning(t *testing.T) {
	head := opus.DefaultHead(1, 48000)
	packets := [][]byte{opusPacket(100), opusPacket(200), opusPacket(150000), opusPacket(300)}
	data, ends := crashedOpus(t, head, packets, time.Second)
	// done[i]: the packets that end on the audio pages up to page i.
	var done []int
	n := 0
	for i, p := range splitPages(t, data) {
		for _, v := range p.segs {
			if v < 255 && i >= 2 {
				n++
			}
		}
		done = append(done, n)
	}
	if len(ends) < 5 || done[2] != 2 || done[len(done)-2] != 2 {
		t.Fatalf("pages %v, packets done %v: the third packet should span pages", ends, done)
	}
	for i := 2; i < len(ends); i++ {
		for _, cut := range []int{ends[i], ends[i] + 10} {
			if cut > len(data) {
				continue
			}
			fixed, rep := fixOgg(t, data[:cut])
			if n := checkFixedOgg(t, "spanning", fixed, rep, packets, int64(head.PreSkip)); n != done[i] {
				t.Errorf("cut at %d: %d packets, want %d (%+v)", cut, n, done[i], rep)
			}
		}
	}
}

// TestFixOggErrors: input that does not start with a whole page.
func TestFixOggErrors(t *testing.T) {
	data, ends := crashedOpus(t, opus.DefaultHead(1, 48000), [][]byte{opusPacket(10)}, time.Second)
	bad := bytes.Clone(data)
	bad[30] ^= 1
	for _, in := range [][]byte{nil, []byte("RIFF....WAVE"), data[:ends[0]-1], bad} {
		if _, err := Fix(&bytes.Buffer{}, bytes.NewReader(in)); !errors.Is(err, ErrNotOgg) {
			t.Errorf("%q: %v", in[:min(len(in), 8)], err)
		}
	}
}
