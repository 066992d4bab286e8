package rtpsource

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

func writeSDP(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.sdp")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const sdpVP8Opus = `v=0
o=- 0 0 IN IP4 127.0.0.1
s=test
c=IN IP4 127.0.0.1
t=0 0
m=video %d RTP/AVP 96
a=rtpmap:96 VP8/90000
m=audio %d RTP/AVP 111
a=rtpmap:111 opus/48000/2
a=fmtp:111 sprop-stereo=1
`

// TestListenSDPRecord sends VP8 and Opus with two ffmpeg processes to the
// ports of a hand-written SDP and records the tracks ListenSDP makes.
func TestListenSDPRecord(t *testing.T) {
	ffmpeg := mediatest.RequireTool(t, "ffmpeg")
	ports := mediatest.FreeUDPPorts(t, 2)
	src, err := ListenSDP(writeSDP(t, fmt.Sprintf(sdpVP8Opus, ports[0], ports[1])), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tracks := src.Tracks()
	if len(tracks) != 2 || tracks[0].Codec().MimeType != "video/VP8" ||
		tracks[1].Codec() != (mediarecorder.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2, SDPFmtpLine: "sprop-stereo=1"}) {
		t.Fatalf("tracks: %v, %v", tracks[0].Codec(), tracks[1].Codec())
	}
	rec := startRecording(t, tracks[0], tracks[1])

	runErr := make(chan error, 1)
	// Run ends when the streams have been idle for 5 s, counting from its
	// start: long enough for the ffmpeg processes to start sending on a
	// loaded machine (with 1 s, Run sometimes ended before the first
	// packet, and the recording was empty).
	go func() { runErr <- src.Run(t.Context(), 5*time.Second) }()

	send := func(in string, pt, port int) *exec.Cmd {
		cmd := exec.CommandContext(t.Context(), ffmpeg, "-nostdin", "-hide_banner", "-v", "error",
			"-re", "-i", mediatest.Testdata(t, in), "-c", "copy",
			"-f", "rtp", "-payload_type", fmt.Sprint(pt), fmt.Sprintf("rtp://127.0.0.1:%d", port))
		var out strings.Builder
		cmd.Stderr = &out // stdout: the SDP
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if out.Len() > 0 {
				t.Logf("ffmpeg %s: %s", in, out.String())
			}
		})
		return cmd
	}
	cmds := []*exec.Cmd{
		send("vp8.ivf", 96, ports[0]),
		send("opus-stereo.ogg", 111, ports[1]),
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("ffmpeg: %v", err)
		}
	}
	select {
	case err := <-runErr:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not end when the streams went idle")
	}
	path := rec.file(t)
	mediatest.DecodeVFR(t, path) // a live recording: arrival times
	p := mediatest.FFprobe(t, path)
	t.Logf("ffprobe: %+v", p)
	if len(p.Streams) != 2 || p.Duration < 1.6 {
		t.Errorf("ffprobe: %+v", p)
	}
	// Each stream spans its 2 s clip. The file as a whole may be longer:
	// by how much later one ffmpeg process started sending than the other,
	// which is up to the machine's load.
	for _, sel := range []string{"v", "a"} {
		pts := mediatest.PacketPTS(t, path, sel) // ms
		if len(pts) == 0 {
			t.Errorf("stream %s: no packets", sel)
			continue
		}
		if span := slices.Max(pts) - slices.Min(pts); span < 1500 || span > 2300 {
			t.Errorf("stream %s: packets span %d ms, want the clip's 2 s", sel, span)
		}
	}
	for _, s := range p.Streams {
		if s.CodecType == "video" && (s.CodecName != "vp8" || s.NbReadFrames < 50) ||
			s.CodecType == "audio" && (s.CodecName != "opus" || s.NbReadFrames < 80) {
			t.Errorf("stream %+v", s)
		}
	}
	for _, tr := range tracks {
		t.Logf("%s: %+v", tr.Kind(), tr.Stats())
	}
}

// TestListenSDPFFmpeg checks that ListenSDP takes what ffmpeg's -sdp_file
// writes, for each codec it maps.
func TestListenSDPFFmpeg(t *testing.T) {
	ffmpeg := mediatest.RequireTool(t, "ffmpeg")
	ports := mediatest.FreeUDPPorts(t, 2)
	sdpPath := filepath.Join(t.TempDir(), "out.sdp")
	cmd := exec.CommandContext(t.Context(), ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-sdp_file", sdpPath, "-i", mediatest.Testdata(t, "vp8.ivf"), "-i", mediatest.Testdata(t, "opus-stereo.ogg"),
		"-map", "0:v", "-c", "copy", "-t", "0.1", "-f", "rtp", "-payload_type", "96", fmt.Sprintf("rtp://127.0.0.1:%d", ports[0]),
		"-map", "1:a", "-c", "copy", "-t", "0.1", "-f", "rtp", "-payload_type", "111", fmt.Sprintf("rtp://127.0.0.1:%d", ports[1]))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	src, err := ListenSDP(sdpPath, Options{})
	if err != nil {
		data, _ := os.ReadFile(sdpPath)
		t.Fatalf("ListenSDP: %v\n%s", err, data)
	}
	defer src.Close()
	var got []string
	for _, tr := range src.Tracks() {
		c := tr.Codec()
		got = append(got, fmt.Sprintf("%s/%d/%d", c.MimeType, c.ClockRate, c.Channels))
	}
	if want := "video/VP8/90000/0 audio/opus/48000/2"; strings.Join(got, " ") != want {
		t.Errorf("tracks %q, want %q", got, want)
	}
}

func TestListenSDPCodecs(t *testing.T) {
	ports := mediatest.FreeUDPPorts(t, 2)
	tests := []struct {
		name string
		sdp  string
		want mediarecorder.Codec // zero: ErrNoMedia
	}{
		{"vp9", "m=video %[1]d RTP/AVP 98\r\na=rtpmap:98 VP9/90000\r\n", mediarecorder.Codec{MimeType: "video/VP9", ClockRate: 90000}},
		{"av1", "m=video %[1]d RTP/AVP 45\na=rtpmap:45 AV1/90000\n", mediarecorder.Codec{MimeType: "video/AV1", ClockRate: 90000}},
		{"h264", "m=video %[1]d RTP/AVP 96\na=rtpmap:96 H264/90000\na=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==; profile-level-id=42C01E\n",
			mediarecorder.Codec{MimeType: "video/H264", ClockRate: 90000, SDPFmtpLine: "packetization-mode=1; sprop-parameter-sets=Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==; profile-level-id=42C01E"}},
		{"first supported format", "m=video %[1]d RTP/AVP 26 97\na=rtpmap:97 VP8/90000\n", mediarecorder.Codec{MimeType: "video/VP8", ClockRate: 90000}},
		{"a=rtcp", "m=audio %[1]d RTP/AVP 111\na=rtcp:%[2]d\na=rtpmap:111 OPUS/48000/2\n", mediarecorder.Codec{MimeType: "audio/OPUS", ClockRate: 48000, Channels: 2}},
		{"rtcp-mux", "m=video %[1]d RTP/AVPF 96\na=rtcp-mux\na=rtpmap:96 VP8/90000\n", mediarecorder.Codec{MimeType: "video/VP8", ClockRate: 90000}},
		{"unsupported", "m=video %[1]d RTP/AVP 96\na=rtpmap:96 H265/90000\nm=audio 0 RTP/AVP 111\na=rtpmap:111 opus/48000/2\n", mediarecorder.Codec{}},
		{"static payload type", "m=audio %[1]d RTP/AVP 0\n", mediarecorder.Codec{}},
		{"audio codec on video line", "m=video %[1]d RTP/AVP 111\na=rtpmap:111 opus/48000/2\n", mediarecorder.Codec{}},
		{"not RTP", "m=application %[1]d UDP/DTLS/SCTP webrtc-datachannel\n", mediarecorder.Codec{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
			path := writeSDP(t, head+fmt.Sprintf(tt.sdp, ports[0], ports[1]))
			src, err := ListenSDP(path, Options{})
			if tt.want == (mediarecorder.Codec{}) {
				if !errors.Is(err, ErrNoMedia) || !strings.Contains(err.Error(), path) {
					t.Fatalf("err = %v, want ErrNoMedia naming %s", err, path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if len(src.Tracks()) != 1 {
				t.Fatalf("%d tracks", len(src.Tracks()))
			}
			if got := src.Tracks()[0].Codec(); got != tt.want {
				t.Fatalf("codec %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestListenSDPErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.sdp")
	if _, err := ListenSDP(missing, Options{}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: err = %v", err)
	}
	bad := writeSDP(t, "not an sdp\n")
	if _, err := ListenSDP(bad, Options{}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad file: err = %v", err)
	}
	// A port already in use.
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := c.LocalAddr().(*net.UDPAddr).Port
	busy := writeSDP(t, fmt.Sprintf(sdpVP8Opus, mediatest.FreeUDPPorts(t, 1)[0], port))
	if _, err := ListenSDP(busy, Options{}); err == nil || !strings.Contains(err.Error(), busy) {
		t.Errorf("busy port: err = %v", err)
	}
}

func TestUDPSourceRunCancel(t *testing.T) {
	ports := mediatest.FreeUDPPorts(t, 2)
	src, err := ListenSDP(writeSDP(t, fmt.Sprintf(sdpVP8Opus, ports[0], ports[1])), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, 0) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not end on cancel")
	}
	for _, tr := range src.Tracks() {
		if tr.ReadyState() != mediarecorder.TrackEnded {
			t.Errorf("%s track not ended", tr.Kind())
		}
	}
	if err := src.Run(t.Context(), 0); !errors.Is(err, ErrSourceClosed) {
		t.Errorf("second Run: %v", err)
	}
}

func TestUDPSourceClose(t *testing.T) {
	ports := mediatest.FreeUDPPorts(t, 2)
	src, err := ListenSDP(writeSDP(t, fmt.Sprintf(sdpVP8Opus, ports[0], ports[1])), Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- src.Run(t.Context(), 0) }()
	time.Sleep(50 * time.Millisecond)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not end on Close")
	}
	if err := src.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func FuzzParseSDP(f *testing.F) {
	f.Add([]byte(fmt.Sprintf(sdpVP8Opus, 5004, 5006)))
	f.Add([]byte("v=0\no=- 0 0 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=video 5004 RTP/AVP 96\na=rtpmap:96 H264/90000\na=fmtp:96 packetization-mode=1\n"))
	f.Add([]byte("v=0\no=- 0 0 IN IP6 ::1\ns=-\nc=IN IP6 ::\nt=0 0\nm=audio 5004 RTP/AVPF 111 0\na=rtcp:5009 IN IP6 ::1\na=rtcp-mux\na=rtpmap:111 opus/48000\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		plans, err := parseSDP(data)
		if err != nil {
			return
		}
		for _, pl := range plans {
			if pl.port <= 0 || pl.port > 65535 || pl.rtcpPort <= 0 || pl.rtcpPort > 65535 || pl.pt > 127 {
				t.Fatalf("bad plan %+v", pl)
			}
			tr, err := NewTrack(pl.codec, Options{})
			if err != nil {
				t.Fatalf("plan %+v: NewTrack: %v", pl, err)
			}
			tr.Stop()
		}
	})
}

// TestSupported: the encoding names of an m= line that a Track takes, by
// the line's kind.
func TestSupported(t *testing.T) {
	for _, tc := range []struct {
		kind, name string
		want       bool
	}{
		{"audio", "opus", true},
		{"audio", "OPUS", true},
		{"video", "opus", false},
		{"video", "VP8", true},
		{"video", "vp9", true},
		{"video", "AV1", true},
		{"video", "H264", true},
		{"audio", "VP8", false},
		{"video", "H265", false},
		{"audio", "L16", false},
		{"audio", "PCMU", false},
		{"audio", "", false},
	} {
		if got := supported(tc.kind, tc.name); got != tc.want {
			t.Errorf("supported(%q, %q) = %v, want %v", tc.kind, tc.name, got, tc.want)
		}
	}
}
