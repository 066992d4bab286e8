package h264

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// TestFFmpeg encodes H.264 streams with libx264 and checks access units,
// key frames and the SPS against ffprobe, and the avcC record against the
// one ffmpeg writes into MP4.
func TestFFmpeg(t *testing.T) {
	for _, tt := range []struct {
		name    string
		size    string
		rate    string
		frames  int
		args    []string
		profile string // ffprobe's name
		chroma  uint32
		depth   uint8
		pixFmt  string
	}{
		{"baseline-1080p", "1920x1080", "30", 3, []string{"-profile:v", "baseline", "-preset", "ultrafast", "-g", "2"},
			"Constrained Baseline", 1, 8, "yuv420p"},
		{"main-interlaced", "636x356", "25", 6, []string{"-profile:v", "main", "-flags", "+ildct+ilme", "-g", "3", "-bf", "1"},
			"Main", 1, 8, "yuv420p"},
		{"high-slices-aud", "636x358", "30000/1001", 8, []string{"-profile:v", "high", "-g", "4", "-bf", "2", "-x264-params", "aud=1:slices=4"},
			"High", 1, 8, "yuv420p"},
		{"high-repeat-headers", "320x240", "60", 6, []string{"-profile:v", "high", "-g", "2", "-x264-params", "repeat-headers=1"},
			"High", 1, 8, "yuv420p"},
		{"high10", "176x144", "25", 4, []string{"-pix_fmt", "yuv420p10le", "-g", "2"}, "High 10", 1, 10, "yuv420p10le"},
		{"high422-10", "64x48", "30", 4, []string{"-pix_fmt", "yuv422p10le", "-g", "2"}, "High 4:2:2", 2, 10, "yuv422p10le"},
		{"high444", "100x50", "30", 4, []string{"-pix_fmt", "yuv444p", "-g", "2"}, "High 4:4:4 Predictive", 3, 8, "yuv444p"},
		// ffmpeg decodes 4:0:0 as 4:2:0 with grey chroma; x264 marks it
		// full range, hence yuvj.
		{"gray", "66x34", "30", 4, []string{"-pix_fmt", "gray", "-g", "2"}, "High", 0, 8, "yuvj420p"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := []string{"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=" + tt.rate,
				"-vf", "scale=" + strings.Replace(tt.size, "x", ":", 1), "-frames:v", strconv.Itoa(tt.frames),
				"-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "300k"}
			args = append(args, tt.args...)
			path := mediatest.FFmpeg(t, dir, append(args, "-f", "h264", "out.h264")...)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			flags := mediatest.FFprobeLines(t, path, "-show_packets", "-show_entries", "packet=flags", "-of", "csv=p=0")
			info := mediatest.FFprobeLines(t, path, "-show_entries", "stream=width,height,profile,level,pix_fmt,r_frame_rate,sample_aspect_ratio", "-of", "default=nw=1")
			probe := map[string]string{}
			for _, l := range info {
				k, v, _ := strings.Cut(l, "=")
				probe[k] = v
			}

			r := NewAccessUnitReader(bytes.NewReader(data))
			var spsNALU, ppsNALU []byte
			n := 0
			for ; ; n++ {
				au, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if n >= len(flags) {
					t.Fatalf("more access units than ffprobe's %d packets", len(flags))
				}
				if got, want := IsKeyFrame(au), strings.HasPrefix(flags[n], "K"); got != want {
					t.Errorf("AU %d: IsKeyFrame %v, ffprobe flags %q", n, got, flags[n])
				}
				for b := au; ; {
					var nalu []byte
					if nalu, b = NextNALU(b); nalu == nil {
						break
					}
					switch NALUType(nalu) {
					case NALUTypeSPS:
						spsNALU = bytes.Clone(nalu)
					case NALUTypePPS:
						ppsNALU = bytes.Clone(nalu)
					}
				}
			}
			if n != len(flags) || n != tt.frames {
				t.Errorf("%d access units, ffprobe %d packets, %d frames encoded", n, len(flags), tt.frames)
			}
			sps, err := ParseSPS(spsNALU)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%dx%d", sps.Width, sps.Height); got != probe["width"]+"x"+probe["height"] || got != tt.size {
				t.Errorf("size %s, ffprobe %sx%s", got, probe["width"], probe["height"])
			}
			if probe["profile"] != tt.profile || strconv.Itoa(int(sps.LevelIDC)) != probe["level"] {
				t.Errorf("profile %d level %d, ffprobe %s level %s", sps.ProfileIDC, sps.LevelIDC, probe["profile"], probe["level"])
			}
			if sps.ChromaFormatIDC != tt.chroma || sps.BitDepthLuma != tt.depth || sps.BitDepthChroma != tt.depth || probe["pix_fmt"] != tt.pixFmt {
				t.Errorf("chroma %d depth %d/%d, ffprobe pix_fmt %s", sps.ChromaFormatIDC, sps.BitDepthLuma, sps.BitDepthChroma, probe["pix_fmt"])
			}
			if interlaced := strings.Contains(tt.name, "interlaced"); sps.FrameMBSOnly == interlaced {
				t.Errorf("FrameMBSOnly %v", sps.FrameMBSOnly)
			}
			rate, ok := sps.FrameRate()
			num, den, _ := strings.Cut(probe["r_frame_rate"], "/")
			fn, _ := strconv.ParseFloat(num, 64)
			fd, _ := strconv.ParseFloat(den, 64)
			if !ok || math.Abs(rate-fn/fd) > 1e-9 {
				t.Errorf("frame rate %v %v, ffprobe %s", rate, ok, probe["r_frame_rate"])
			}
			if sps.SarWidth != 0 {
				g := gcd(int(sps.SarWidth), int(sps.SarHeight))
				if got := fmt.Sprintf("%d:%d", int(sps.SarWidth)/g, int(sps.SarHeight)/g); got != probe["sample_aspect_ratio"] {
					t.Errorf("SAR %s, ffprobe %s", got, probe["sample_aspect_ratio"])
				}
			}

			rec, err := AVCDecoderConfigurationRecord([][]byte{spsNALU}, [][]byte{ppsNALU})
			if err != nil {
				t.Fatal(err)
			}
			mp4 := mediatest.FFmpeg(t, dir, "-i", path, "-c", "copy", "out.mp4")
			avcc := mediatest.MP4Box(t, mp4, "avcC")
			if !bytes.Equal(rec, avcc) {
				t.Errorf("avcC\n got %x\nwant %x (ffmpeg)", rec, avcc)
			}
		})
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
