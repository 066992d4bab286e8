package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// TestRecordY4M: record -o out.webm in.y4m in.wav encodes, VP8 and Opus,
// when built with -tags libvpx; without it, it names the tag.
func TestRecordY4M(t *testing.T) {
	if testing.Short() {
		t.Skip("makes and checks files with ffmpeg")
	}
	dir := t.TempDir()
	y := mediatest.FFmpeg(t, dir, "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "-t", "2", "-pix_fmt", "yuv420p", "in.y4m")
	w := mediatest.FFmpeg(t, dir, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "2", "in.wav")
	out := filepath.Join(dir, "out.webm")
	code, _, stderr := runCLI("record", "-o", out, y, w)
	if !hasVPX {
		if code == 0 || !strings.Contains(stderr, "-tags libvpx") {
			t.Fatalf("without libvpx: exit %d, stderr %q; want a failure naming -tags libvpx", code, stderr)
		}
		return
	}
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	mediatest.Decode(t, out)
	p := mediatest.FFprobe(t, out)
	if len(p.Streams) != 2 || p.Streams[0].CodecName != "vp8" || p.Streams[0].NbReadFrames != 60 || p.Streams[1].CodecName != "opus" {
		t.Errorf("streams %+v", p.Streams)
	}
}
