//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fileCheck is what ffmpeg and ffprobe say about one recorded file.
type fileCheck struct {
	Path         string
	Err          error  // ffprobe failed
	Decode       string // what `ffmpeg -v error -i F -enc_time_base -1 -f null -` printed (must be nothing), but DTSLines
	DecodeErr    error
	DTSLines     int // "non monotonically increasing dts to muxer" lines (see dtsWarning)
	Codecs       []string
	Width        int
	Height       int
	Duration     float64
	VideoPackets int
	AudioPackets int
	MaxVideoGap  float64 // seconds between consecutive video packets, largest
	MaxAudioGap  float64
	VideoJumps   int // steps between consecutive video timestamps outside 0.5-1.5 frame durations
	AudioJumps   int
}

// dtsWarning is what ffmpeg's null muxer prints when, having guessed the
// frame rate of a stream with millisecond timestamps as 30000/1001
// instead of 30, it rounds two consecutive frames to the same tick of
// 1001/30000 s (without -enc_time_base -1). The file's timestamps are
// increasing (ffprobe shows it); the line is counted apart from real
// decoding errors.
const dtsWarning = "non monotonically increasing dts to muxer"

type probeJSON struct {
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
	Streams []struct {
		Index     int    `json:"index"`
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
	} `json:"streams"`
	Packets []struct {
		StreamIndex int    `json:"stream_index"`
		PTSTime     string `json:"pts_time"`
	} `json:"packets"`
}

// checkFile decodes path with ffmpeg on the file's time base, as
// mediatest.DecodeVFR does (it must print nothing), and lists its packets
// with ffprobe, to count frames and find holes in the timeline.
func checkFile(ctx context.Context, path string, frameDur, packetDur time.Duration, decode bool) fileCheck {
	fc := fileCheck{Path: path}
	if decode {
		// As mediatest.DecodeVFR: on the file's own time base, so that
		// the null output does not round timestamps to a guessed rate.
		out, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-i", path,
			"-enc_time_base", "-1", "-f", "null", "-").CombinedOutput()
		fc.DecodeErr = err
		var other []string
		for l := range strings.Lines(strings.TrimSpace(string(out))) {
			if strings.Contains(l, dtsWarning) {
				fc.DTSLines++
			} else if strings.TrimSpace(l) != "" {
				other = append(other, strings.TrimSpace(l))
			}
		}
		fc.Decode = strings.Join(other, "\n")
	}
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error",
		"-show_entries", "format=duration:stream=index,codec_type,codec_name,width,height:packet=stream_index,pts_time",
		"-of", "json", path).Output()
	if err != nil {
		fc.Err = fmt.Errorf("ffprobe: %w", err)
		return fc
	}
	var pj probeJSON
	if err := json.Unmarshal(out, &pj); err != nil {
		fc.Err = fmt.Errorf("ffprobe output: %w", err)
		return fc
	}
	fc.Duration, _ = strconv.ParseFloat(pj.Format.Duration, 64)
	kind := map[int]string{}
	for _, s := range pj.Streams {
		kind[s.Index] = s.CodecType
		fc.Codecs = append(fc.Codecs, s.CodecName)
		if s.CodecType == "video" {
			fc.Width, fc.Height = s.Width, s.Height
		}
	}
	var vpts, apts []float64
	for _, p := range pj.Packets {
		t, err := strconv.ParseFloat(p.PTSTime, 64)
		if err != nil {
			continue
		}
		switch kind[p.StreamIndex] {
		case "video":
			vpts = append(vpts, t)
		case "audio":
			apts = append(apts, t)
		}
	}
	fc.VideoPackets, fc.AudioPackets = len(vpts), len(apts)
	fc.MaxVideoGap, fc.VideoJumps = steps(vpts, frameDur.Seconds())
	fc.MaxAudioGap, fc.AudioJumps = steps(apts, packetDur.Seconds())
	return fc
}

// steps returns the largest step between consecutive timestamps (in
// decoding order) and how many steps are not about d: shorter than d/2 or
// longer than 1.5 d. Missing frames make long steps; so does a timeline
// that jumps forward and back (then a short step follows): the frame
// counts tell the two apart.
func steps(pts []float64, d float64) (maxStep float64, odd int) {
	for i := 1; i < len(pts); i++ {
		g := pts[i] - pts[i-1]
		maxStep = max(maxStep, g)
		if g > 1.5*d || g < 0.5*d {
			odd++
		}
	}
	return maxStep, odd
}

// checkFiles runs checkFile over paths, jobs at a time.
func checkFiles(ctx context.Context, paths []string, frameDur, packetDur time.Duration, decode bool, jobs int, progress func(done int)) []fileCheck {
	out := make([]fileCheck, len(paths))
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range max(jobs, 1) {
		wg.Go(func() {
			for i := range work {
				out[i] = checkFile(ctx, paths[i], frameDur, packetDur, decode)
				mu.Lock()
				done++
				if progress != nil {
					progress(done)
				}
				mu.Unlock()
			}
		})
	}
	for i := range paths {
		work <- i
	}
	close(work)
	wg.Wait()
	return out
}
