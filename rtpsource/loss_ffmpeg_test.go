package rtpsource

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/codecs/vp8"
	"github.com/gomediarecorder/mediarecorder/codecs/vp9"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// Two temporal layers (libvpx's layering mode 2: odd frames reference the
// base layer and are stored nowhere), in error-resilient mode so that
// they keep no probability update either: what a sender with temporal
// scalability emits.
const tsLayers = "ts_number_layers=2:ts_target_bitrate=150,250:ts_rate_decimator=2,1:ts_periodicity=2:ts_layer_id=0,1:ts_layering_mode=2"

// lossClip encodes 60 frames of 320x240 with ffmpeg: key frames at 0 and
// 30. It returns the clip (frames in decoding order) and which frames are
// discardable (nothing references them).
func lossClip(t *testing.T, name string) (clip, []bool) {
	t.Helper()
	ffmpeg := mediatest.RequireTool(t, "ffmpeg")
	dir := t.TempDir()
	src := []string{"-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-frames:v", "60", "-pix_fmt", "yuv420p"}
	var args []string
	var out string
	switch name {
	case "vp8", "vp8-plain":
		out = filepath.Join(dir, "v.ivf")
		args = []string{"-c:v", "libvpx", "-b:v", "250k", "-deadline", "realtime", "-cpu-used", "8", "-g", "30", "-keyint_min", "30"}
		if name == "vp8" {
			args = append(args, "-error-resilient", "default", "-ts-parameters", tsLayers)
		}
	case "vp9":
		out = filepath.Join(dir, "v.ivf")
		args = []string{"-c:v", "libvpx-vp9", "-b:v", "250k", "-deadline", "realtime", "-cpu-used", "8", "-g", "30", "-keyint_min", "30",
			"-error-resilient", "default", "-ts-parameters", tsLayers}
	case "h264":
		// Two non-reference B-frames between references (no B-pyramid).
		out = filepath.Join(dir, "v.h264")
		args = []string{"-c:v", "libx264", "-preset", "veryfast", "-b:v", "250k", "-bf", "2",
			"-x264-params", "b-pyramid=none:keyint=30:min-keyint=30:scenecut=0:b-adapt=0"}
	}
	cmd := exec.CommandContext(t.Context(), ffmpeg, append(append(src, args...), out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	var c clip
	var disc []bool
	switch name {
	case "vp8", "vp8-plain":
		c = clip{name: name, codec: mediarecorder.Codec{MimeType: "video/VP8", ClockRate: 90000},
			frames: mediatest.IVFFrames(t, out), pay: func() rtp.Payloader { return &codecs.VP8Payloader{EnablePictureID: true} }}
		for _, f := range c.frames {
			// Discardable but for the loop filter deltas, which every
			// frame sets in error-resilient mode.
			u, ok, err := vp8.ParseUpdates(f)
			disc = append(disc, err == nil && ok && discardableBut(u))
		}
	case "vp9":
		c = clip{name: name, codec: mediarecorder.Codec{MimeType: "video/VP9", ClockRate: 90000},
			frames: mediatest.IVFFrames(t, out), pay: func() rtp.Payloader { return &codecs.VP9Payloader{} }}
		for _, f := range c.frames {
			flags, err := vp9.RefreshFrameFlags(f)
			disc = append(disc, err == nil && flags == 0)
		}
	case "h264":
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		r := h264.NewAccessUnitReader(bytes.NewReader(b))
		for {
			au, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			c.frames = append(c.frames, append([]byte(nil), au...))
			nonRef := true
			for rest := au; ; {
				var n []byte
				n, rest = h264.NextNALU(rest)
				if n == nil {
					break
				}
				if typ := h264.NALUType(n); (typ == 1 || typ == 5) && h264.NALRefIDC(n) != 0 {
					nonRef = false
				}
			}
			disc = append(disc, nonRef)
		}
		c.name, c.codec = name, mediarecorder.Codec{MimeType: "video/H264", ClockRate: 90000}
		c.pay = func() rtp.Payloader { return &codecs.H264Payloader{} }
	}
	for range c.frames {
		c.ticks = append(c.ticks, 3000)
	}
	if len(c.frames) != 60 {
		t.Fatalf("%s: %d frames, want 60", name, len(c.frames))
	}
	return c, disc
}

// frameMD5s decodes the file at path and returns the MD5 of each decoded
// picture (ffmpeg -f framemd5), failing the test if ffmpeg prints an error.
func frameMD5s(t *testing.T, path string) []string {
	t.Helper()
	ffmpeg := mediatest.RequireTool(t, "ffmpeg")
	var stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), ffmpeg, "-nostdin", "-v", "error", "-i", path, "-fps_mode", "passthrough", "-f", "framemd5", "-")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Errorf("ffmpeg decode of %s: %v\n%s", path, err, stderr.String())
	}
	var sums []string
	for line := range strings.SplitSeq(string(out), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, ",")
		sums = append(sums, strings.TrimSpace(f[len(f)-1]))
	}
	return sums
}

// TestRecordLossNonReference loses chosen packets of ffmpeg-encoded
// streams with discardable frames (VP8 and VP9 temporal layers in
// error-resilient mode, H.264 non-reference B-frames), records what
// survives, and checks that (a) the track keeps the frames the rule says:
// a lost discardable frame costs only itself when the track can tell it
// is one, any other loss drops frames up to the key frame at 30; (b)
// ffmpeg decodes the recording without an error; (c) every decoded
// picture is one of the pictures of the undamaged stream (nothing was
// decoded against a missing reference).
func TestRecordLossNonReference(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes with ffmpeg")
	}
	// How each chosen frame loses packets.
	type loss int
	const (
		second loss = iota // its second packet (or its only one)
		head               // its first packet
		whole              // all its packets
	)
	type tcase struct {
		name  string
		clip  string
		lose  map[int]loss
		known func(disc []bool, frame int, how loss) bool // the track can tell the frame is discardable
	}
	// VP8 and VP9 (pion's payloaders set no N bit): the frame header in
	// the first packet tells; a frame lost whole or without its first
	// packet is a picture ID the track cannot account for.
	header := func(disc []bool, i int, how loss) bool { return disc[i] && how == second }
	// H.264: frame_num tells whatever is lost.
	frameNum := func(disc []bool, i int, _ loss) bool { return disc[i] }
	lossy := map[int]loss{1: second, 3: second, 5: second, 9: head, 13: whole, 16: second, 31: second, 37: second, 45: whole, 47: head}
	tests := []tcase{
		{name: "vp8-layers", clip: "vp8", lose: lossy, known: header},
		{name: "vp8-plain", clip: "vp8-plain", lose: lossy, known: header},
		{name: "vp9-layers", clip: "vp9", lose: lossy, known: header},
		// Decoding order I P B B P B B ..., I at 30: a lost P (16) drops
		// up to 30; lost B-frames cost only themselves.
		{name: "h264-bframes", clip: "h264", known: frameNum,
			lose: map[int]loss{2: second, 5: head, 9: whole, 16: second, 33: whole, 38: head, 41: second, 50: second, 54: whole, 56: second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, disc := lossClip(t, tc.clip)
			// The undamaged stream's pictures.
			ref := recordPackets(t, c, packetizeMTU(c, 300))
			want := map[string]int{}
			for _, s := range frameMD5s(t, ref) {
				want[s]++
			}
			if len(want) == 0 {
				t.Fatal("the undamaged recording decodes to nothing")
			}
			// What the rule keeps. The encoder runs in real time: how many
			// packets a frame takes varies from run to run, and losing the
			// only packet of a frame is losing it whole.
			npk := map[int]int{}
			for _, s := range packetizeMTU(c, 300) {
				npk[s.frame]++
			}
			keep, waitKey, nonRef := 0, false, 0
			for i, f := range c.frames {
				isKey := (c.codec.MimeType == "video/H264" && h264.IsKeyFrame(f)) ||
					(c.codec.MimeType == "video/VP8" && vp8.IsKeyFrame(f)) ||
					(c.codec.MimeType == "video/VP9" && vp9.IsKeyFrame(f))
				if isKey {
					waitKey = false
				}
				how, lost := tc.lose[i]
				if npk[i] == 1 {
					how = whole
				}
				switch {
				case lost && tc.known(disc, i, how):
					if !waitKey {
						nonRef++
					}
				case lost:
					waitKey = true
				case !waitKey:
					keep++
				}
			}
			if (nonRef == 0) != (tc.clip == "vp8-plain") {
				t.Fatalf("%d chosen losses of discardable frames: the encoder did not make what the test expects: discardable %v", nonRef, disc)
			}
			pkts := packetizeMTU(c, 300)
			var kept []sent
			first := map[int]int{} // frame -> index of its first packet in pkts
			for i, s := range pkts {
				if _, ok := first[s.frame]; !ok {
					first[s.frame] = i
				}
			}
			for i, s := range pkts {
				how, ok := tc.lose[s.frame]
				if ok {
					n := i - first[s.frame]
					multi := i+1 < len(pkts) && pkts[i+1].frame == s.frame || n > 0
					if how == whole || (how == head && n == 0) || (how == second && (n == 1 || !multi)) {
						continue
					}
				}
				kept = append(kept, s)
			}
			tr := newTrack(t, c, Options{})
			rec := startRecording(t, tr)
			feed(t, tr, kept, time.Now())
			tr.Stop()
			path := rec.file(t)
			st := tr.Stats()
			if st.Frames != keep {
				t.Errorf("%d frames published, the rule keeps %d; stats %+v; discardable %v", st.Frames, keep, st, disc)
			}
			if st.NonReferenceLost != nonRef {
				t.Errorf("%d lost frames counted non-reference, want %d", st.NonReferenceLost, nonRef)
			}
			got := frameMD5s(t, path)
			if d := os.Getenv("LOSS_DEBUG"); d != "" {
				b, _ := os.ReadFile(path)
				os.WriteFile(filepath.Join(d, tc.name+"-damaged"+filepath.Ext(path)), b, 0o644)
				b, _ = os.ReadFile(ref)
				os.WriteFile(filepath.Join(d, tc.name+"-ref"+filepath.Ext(path)), b, 0o644)
			}
			if len(got) != keep {
				t.Errorf("%d pictures decoded, want %d", len(got), keep)
			}
			for i, s := range got {
				if want[s] == 0 {
					t.Errorf("decoded picture %d (md5 %s) is not a picture of the undamaged stream", i, s)
				}
			}
		})
	}
}

// packetizeMTU packetizes all of c in packets of at most mtu bytes.
func packetizeMTU(c clip, mtu uint16) []sent {
	pz := rtp.NewPacketizer(mtu, 96, 0x1234, c.pay(), rtp.NewFixedSequencer(1000), c.codec.ClockRate)
	var out []sent
	var tick uint64
	for i, f := range c.frames {
		at := time.Duration(tick * uint64(time.Second) / uint64(c.codec.ClockRate))
		for _, p := range pz.Packetize(f, c.ticks[i]) {
			p.Timestamp = 5000 + uint32(tick)
			out = append(out, sent{p: p, frame: i, at: at})
		}
		tick += uint64(c.ticks[i])
	}
	return out
}

// recordPackets records pkts through a Track into a file and
// returns its path.
func recordPackets(t *testing.T, c clip, pkts []sent) string {
	t.Helper()
	tr := newTrack(t, c, Options{})
	rec := startRecording(t, tr)
	feed(t, tr, pkts, time.Now())
	tr.Stop()
	return rec.file(t)
}
