package webm

// Helpers for the Reader and Fix tests: the browser fixtures and the outside
// tools (ffmpeg framemd5, ffprobe packets, mkvinfo, mkvmerge) that check
// them.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixturesDir holds the real browser recordings (Chromium in browser/,
// Firefox in firefox/); WEBM_FIXTURES overrides it.
func fixturesDir() string {
	if d := os.Getenv("WEBM_FIXTURES"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "fixtures")
}

// fixture returns the path of a fixture file, skipping the test when the
// fixtures are not there.
func fixture(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(fixturesDir(), rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("fixture %s: %v", rel, err)
	}
	return p
}

// concatChunks concatenates a fixture directory's chunk-*.webm files into a
// temporary file, as `cat chunk-*` would.
func concatChunks(t testing.TB, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(fixturesDir(), dir, "chunk-*.webm"))
	if len(files) == 0 {
		t.Skipf("no chunks in %s", dir)
	}
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	p := filepath.Join(t.TempDir(), "concat.webm")
	if err := os.WriteFile(p, all, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// framemd5 returns the framemd5 lines of path: the packet lines and the
// #extradata and #tb lines. With decode unset the packets are copied
// (-c copy: the hash is of the stored bytes), else decoded.
func framemd5(t testing.TB, path string, decode bool) []string {
	t.Helper()
	args := []string{"-v", "error", "-i", path, "-map", "0"}
	if !decode {
		args = append(args, "-c", "copy")
	}
	args = append(args, "-f", "framemd5", "-")
	out, err := exec.Command(mediatest.RequireTool(t, "ffmpeg"), args...).Output()
	if err != nil {
		t.Fatalf("ffmpeg framemd5 %s: %v", filepath.Base(path), err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.HasPrefix(l, "#") || strings.HasPrefix(l, "#extradata") || strings.HasPrefix(l, "#tb") {
			lines = append(lines, l)
		}
	}
	return lines
}

func diffLines(t testing.TB, what string, want, got []string) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%s: %d lines, want %d", what, len(got), len(want))
	}
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			t.Errorf("%s: line %d:\n got %s\nwant %s", what, i, got[i], want[i])
			return
		}
	}
}

// decodeErrors decodes path with ffmpeg and returns its error output, with
// the log context addresses removed.
func decodeErrors(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command(mediatest.RequireTool(t, "ffmpeg"), "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Errorf("ffmpeg decode %s: %v\n%s", filepath.Base(path), err, out)
	}
	return regexp.MustCompile(` @ 0x[0-9a-f]+`).ReplaceAllString(string(out), "")
}

// probePacket is one packet as ffprobe sees it.
type probePacket struct {
	stream            int
	pts, dts, dur     string // in the stream's time base; "N/A" when unknown
	size, flags, hash string
}

// line is the packet's framemd5-like line, flags included.
func (k probePacket) line() string {
	return strings.Join([]string{strconv.Itoa(k.stream), k.pts, k.dts, k.dur, k.size, k.flags, k.hash}, ",")
}

type probeStreamInfo struct {
	codecType string
	timeBase  [2]int64
	packets   int
}

type probeInfo struct {
	packets  []probePacket // in file order
	streams  []probeStreamInfo
	duration string // the format duration, "N/A" when unknown
}

var probeCache sync.Map // path -> *probeInfo, for inputs that do not change

// probeFile runs ffprobe once for the packets (timestamps, size, flags and
// an MD5 of the data: a framemd5 in file order, key flags included), the
// streams (packets counted) and the format duration.
func probeFile(t testing.TB, path string) *probeInfo {
	t.Helper()
	out, err := exec.Command(mediatest.RequireTool(t, "ffprobe"), "-v", "quiet", "-count_packets", "-show_data_hash", "MD5",
		"-show_entries", "packet=stream_index,pts,dts,duration,size,flags,data_hash:format=duration:stream=index,codec_type,time_base,nb_read_packets",
		"-of", "json", path).Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("ffprobe %s: %v", filepath.Base(path), err)
	}
	var raw struct {
		Packets []map[string]any `json:"packets"`
		Streams []map[string]any `json:"streams"`
		Format  map[string]any   `json:"format"`
	}
	d := json.NewDecoder(bytes.NewReader(out))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil {
		t.Fatalf("ffprobe %s: %v", filepath.Base(path), err)
	}
	str := func(m map[string]any, k string) string {
		if v, ok := m[k]; ok {
			return fmt.Sprint(v)
		}
		return "N/A"
	}
	p := &probeInfo{duration: str(raw.Format, "duration")}
	for _, k := range raw.Packets {
		s, _ := strconv.Atoi(str(k, "stream_index"))
		p.packets = append(p.packets, probePacket{s, str(k, "pts"), str(k, "dts"), str(k, "duration"),
			str(k, "size"), str(k, "flags"), str(k, "data_hash")})
	}
	for _, m := range raw.Streams {
		var si probeStreamInfo
		si.codecType = str(m, "codec_type")
		si.packets, _ = strconv.Atoi(str(m, "nb_read_packets"))
		num, den, _ := strings.Cut(str(m, "time_base"), "/")
		si.timeBase[0], _ = strconv.ParseInt(num, 10, 64)
		si.timeBase[1], _ = strconv.ParseInt(den, 10, 64)
		p.streams = append(p.streams, si)
	}
	return p
}

// probeInput is probeFile cached by path.
func probeInput(t testing.TB, path string) *probeInfo {
	if p, ok := probeCache.Load(path); ok {
		return p.(*probeInfo)
	}
	p := probeFile(t, path)
	probeCache.Store(path, p)
	return p
}

func (p *probeInfo) lines() []string {
	out := make([]string, len(p.packets))
	for i, k := range p.packets {
		out[i] = k.line()
	}
	return out
}

func parseSeconds(s string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// lastPacketEnd is the latest pts + duration over all packets.
func (p *probeInfo) lastPacketEnd() time.Duration {
	var end time.Duration
	for _, k := range p.packets {
		pts, err := strconv.ParseInt(k.pts, 10, 64)
		if err != nil || k.stream >= len(p.streams) {
			continue
		}
		d, _ := strconv.ParseInt(k.dur, 10, 64)
		tb := p.streams[k.stream].timeBase
		if tb[1] == 0 {
			continue
		}
		end = max(end, time.Duration((pts+d)*tb[0]*int64(time.Second)/tb[1]))
	}
	return end
}

// mkvinfoAll runs mkvinfo -a and fails unless it exits 0 without errors.
func mkvinfoAll(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command(mediatest.RequireTool(t, "mkvinfo"), "-a", path).CombinedOutput()
	if err != nil {
		t.Fatalf("mkvinfo %s: %v\n%s", filepath.Base(path), err, out)
	}
	if bytes.Contains(out, []byte("Error")) {
		t.Errorf("mkvinfo %s reports an error", filepath.Base(path))
	}
	return string(out)
}

// run runs a tool and fails the test on error.
func run(t testing.TB, tool string, args ...string) {
	t.Helper()
	if out, err := exec.Command(mediatest.RequireTool(t, tool), args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
}

// readAll reads every frame of b with a Reader.
func readAll(t testing.TB, b []byte) (Header, []Frame, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return Header{}, nil, err
	}
	var frames []Frame
	for {
		f, err := r.ReadFrame()
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return r.Header(), frames, err
		}
		f.Data = bytes.Clone(f.Data)
		frames = append(frames, f)
	}
}
