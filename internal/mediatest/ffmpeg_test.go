package mediatest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFFmpegHelpers makes a small VP8 IVF file and an MP4 file with FFmpeg
// and reads them back with IVFFrames, FFprobeLines and MP4Box.
func TestFFmpegHelpers(t *testing.T) {
	dir := t.TempDir()
	ivf := FFmpeg(t, dir, "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=30", "-frames:v", "3",
		"-c:v", "libvpx", "-g", "2", "out.ivf")
	if ivf != filepath.Join(dir, "out.ivf") {
		t.Errorf("FFmpeg returned %q, want the output in %s", ivf, dir)
	}
	frames := IVFFrames(t, ivf)
	flags := FFprobeLines(t, ivf, "-show_packets", "-show_entries", "packet=flags", "-of", "csv=p=0")
	if len(frames) != 3 || len(flags) != 3 {
		t.Fatalf("%d IVF frames, ffprobe %d packets %q; want 3", len(frames), len(flags), flags)
	}
	// Key frames at 0 and 2: bit 0 of a VP8 frame tag is 0 on key frames.
	for i, f := range frames {
		if key := f[0]&1 == 0; key != strings.HasPrefix(flags[i], "K") {
			t.Errorf("frame %d: VP8 key %v, ffprobe flags %q", i, key, flags[i])
		}
	}
	if dims := FFprobeLines(t, ivf, "-show_entries", "stream=width,height", "-of", "csv=p=0:s=x"); len(dims) != 1 || dims[0] != "64x48" {
		t.Errorf("dimensions %q, want [64x48]", dims)
	}
	if none := FFprobeLines(t, ivf, "-show_entries", "stream=nothing_such", "-of", "csv=p=0"); none != nil {
		t.Errorf("no output gave %q, want nil", none)
	}

	h264 := FFmpeg(t, dir, "-i", Testdata(t, "h264.h264"), "-c", "copy", "out.mp4")
	if avcc := MP4Box(t, h264, "avcC"); len(avcc) < 7 || avcc[0] != 1 {
		t.Errorf("avcC %x, want configurationVersion 1", avcc)
	}
}

func TestFFmpegHelpersFail(t *testing.T) {
	RequireTool(t, "ffmpeg")
	RequireTool(t, "ffprobe")
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.ivf")
	if err := os.WriteFile(junk, []byte("this is not media"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, fn := range map[string]func(testing.TB){
		"FFmpeg bad input":    func(tb testing.TB) { FFmpeg(tb, dir, "-i", junk, "out.ivf") },
		"FFmpeg no arguments": func(tb testing.TB) { FFmpeg(tb, dir) },
		"FFprobeLines junk":   func(tb testing.TB) { FFprobeLines(tb, junk, "-show_packets") },
		"IVFFrames junk":      func(tb testing.TB) { IVFFrames(tb, junk) },
		"IVFFrames missing":   func(tb testing.TB) { IVFFrames(tb, filepath.Join(dir, "none.ivf")) },
	} {
		if r := RunTB(t, fn); len(r.Fatals) != 1 {
			t.Errorf("%s: fatals %q, want one", name, r.Fatals)
		}
	}
}
