package webm

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// playableCodecs are the codec IDs a fixed file may name, with their track
// type: what ffmpeg has a decoder for among what browsers and our writer
// use. (Kept apart from fixtrack.go's list on purpose.)
var playableCodecs = map[string]TrackType{
	"V_VP8": TrackTypeVideo, "V_VP9": TrackTypeVideo, "V_AV1": TrackTypeVideo, "V_MPEG4/ISO/AVC": TrackTypeVideo,
	"V_MPEGH/ISO/HEVC": TrackTypeVideo, "A_OPUS": TrackTypeAudio, "A_VORBIS": TrackTypeAudio,
	"A_PCM/INT/LIT": TrackTypeAudio, "A_PCM/INT/BIG": TrackTypeAudio, "A_PCM/FLOAT/IEEE": TrackTypeAudio,
	"A_AAC": TrackTypeAudio, "A_FLAC": TrackTypeAudio,
}

// checkPlayable is the strict reading of a file Fix wrote: every element
// fits its parent (parseFile), the frames read, there is at least one, and
// every track entry names a known codec of its type, video a picture size,
// Opus an OpusHead that agrees on the channels, H.264 an avcC or none.
func checkPlayable(b []byte) error {
	if _, err := parseFile(b); err != nil {
		return fmt.Errorf("strict parse: %w", err)
	}
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return err
	}
	frames := map[uint64]int{}
	for {
		f, err := r.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("frame %d: %w", len(frames), err)
		}
		frames[f.Track]++
	}
	h := r.Header()
	if len(h.Tracks) == 0 {
		return fmt.Errorf("no tracks")
	}
	for _, t := range h.Tracks {
		typ, ok := playableCodecs[t.CodecID]
		switch {
		case frames[t.Number] == 0:
			return fmt.Errorf("track %d (%s): no frames", t.Number, t.CodecID)
		case !ok:
			return fmt.Errorf("track %d: CodecID %q", t.Number, t.CodecID)
		case typ != t.Type:
			return fmt.Errorf("track %d: %s with TrackType %d", t.Number, t.CodecID, t.Type)
		case typ == TrackTypeVideo && (t.PixelWidth == 0 || t.PixelHeight == 0):
			return fmt.Errorf("track %d: picture size %dx%d", t.Number, t.PixelWidth, t.PixelHeight)
		case t.CodecID == "A_OPUS" && (len(t.CodecPrivate) < 19 || string(t.CodecPrivate[:8]) != "OpusHead" ||
			t.CodecPrivate[9] != t.Channels || t.Channels == 0):
			return fmt.Errorf("track %d: OpusHead %x with %d channels", t.Number, t.CodecPrivate, t.Channels)
		case t.CodecID == "V_MPEG4/ISO/AVC" && len(t.CodecPrivate) > 0 && (len(t.CodecPrivate) < 7 || t.CodecPrivate[0] != 1):
			return fmt.Errorf("track %d: avcC %x", t.Number, t.CodecPrivate)
		}
	}
	return nil
}

// fixSeeds adds the fuzz seeds: the small browser blobs of testdata, the
// starts of the fixtures, and damaged copies of each (header elements
// broken as real damage broke them).
func fixSeeds(f *testing.F, size int) {
	for _, name := range fuzzSeedFiles {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		b = b[:min(len(b), size)]
		f.Add(b)
		tracks := bytes.Index(b, []byte{0x16, 0x54, 0xAE, 0x6B})
		for _, pat := range [][]byte{{0x86}, {0x63, 0xA2}, {0xB0}} {
			if tracks < 0 {
				break
			}
			if i := bytes.Index(b[tracks:], pat); i >= 0 && tracks+i+len(pat)+2 < len(b) {
				c := bytes.Clone(b)
				c[tracks+i+len(pat)+1] ^= 0x5A // the body's first byte
				f.Add(c)
				c = bytes.Clone(b)
				c[tracks+i+len(pat)] ^= 0x08 // the size
				f.Add(c)
			}
		}
	}
}

// TestFixMutations runs damaged copies of the fuzz seeds (1 to 4 bytes
// flipped, in the header for every other copy) through Fix: each one fails
// or gives a file the strict reading accepts. (With Fix's first track
// checks, 40 of 18,000 such copies still gave an Opus track whose Channels
// disagreed with its OpusHead; testdata/fuzz holds one.)
func TestFixMutations(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 300
	if testing.Short() {
		n = 30
	}
	fixed, failed := 0, 0
	for _, name := range fuzzSeedFiles {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		b = b[:min(len(b), 16<<10)]
		lim := len(b)
		if i := bytes.Index(b, clusterMagic); i > 0 {
			lim = i
		}
		for k := 0; k < n; k++ {
			c := bytes.Clone(b)
			end := len(c)
			if k%2 == 0 {
				end = lim
			}
			for j := 1 + r.IntN(4); j > 0; j-- {
				c[r.IntN(end)] ^= byte(1 + r.IntN(255))
			}
			m := &memFile{}
			if _, err := Fix(m, bytes.NewReader(c), FixOptions{}); err != nil {
				failed++
				continue
			}
			fixed++
			if err := checkPlayable(m.b); err != nil {
				t.Errorf("%s, copy %d: Fix succeeded, but: %v", filepath.Base(name), k, err)
			}
		}
	}
	t.Logf("%d copies fixed, %d refused", fixed, failed)
}

// FuzzFixPlayable: for every input, Fix fails or writes a file that the
// strict reading (checkPlayable) accepts. Pure Go, fast.
func FuzzFixPlayable(f *testing.F) {
	fixSeeds(f, 16<<10)
	f.Fuzz(func(t *testing.T, b []byte) {
		m := &memFile{}
		if _, err := Fix(m, bytes.NewReader(b), FixOptions{}); err != nil {
			return
		}
		if err := checkPlayable(m.b); err != nil {
			t.Fatalf("Fix succeeded, but: %v", err)
		}
	})
}

// FuzzFixFFmpeg is the differential target: for every input, Fix fails, or
// both the strict reading and ffmpeg (opening the file and decoding every
// stream, exit status 0) accept what it wrote. It runs ffmpeg per input:
// skipped without ffmpeg and under -short.
func FuzzFixFFmpeg(f *testing.F) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil || testing.Short() {
		f.Skip("needs ffmpeg (and no -short)")
	}
	fixSeeds(f, 8<<10)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		m := &memFile{}
		if _, err := Fix(m, bytes.NewReader(b), FixOptions{}); err != nil {
			return
		}
		if err := checkPlayable(m.b); err != nil {
			t.Fatalf("Fix succeeded, but: %v", err)
		}
		out, err := os.CreateTemp(dir, "fixed-*.webm")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(out.Name())
		if _, err := out.Write(m.b); err != nil {
			t.Fatal(err)
		}
		out.Close()
		msg, err := exec.Command(ffmpeg, "-nostdin", "-hide_banner", "-v", "error",
			"-i", out.Name(), "-map", "0", "-f", "null", "-").CombinedOutput()
		if err != nil {
			t.Fatalf("Fix succeeded, but ffmpeg rejects %s: %v\n%s", filepath.Base(out.Name()), err, msg)
		}
	})
}
