//go:build linux

package main

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Ready is what the server process writes to its -ready file once it
// listens.
type Ready struct {
	URL        string `json:"url"`   // the recording server, e.g. http://127.0.0.1:PORT
	Stats      string `json:"stats"` // the side listener: /debug/stats, /debug/pprof
	Dir        string `json:"dir"`   // the recordings directory
	AutoRecord bool   `json:"autoRecord"`
	PID        int    `json:"pid"`
}

// Proc is a sample of one process's resources.
type Proc struct {
	Time        time.Time `json:"time"`
	GC          bool      `json:"gc"` // runtime.GC ran (twice) just before the heap figures
	Goroutines  int       `json:"goroutines"`
	FDs         int       `json:"fds"`
	HeapInuse   uint64    `json:"heapInuse"`
	HeapAlloc   uint64    `json:"heapAlloc"`
	HeapObjects uint64    `json:"heapObjects"`
	HeapSys     uint64    `json:"heapSys"`
	RSS         uint64    `json:"rss"`
	CPU         float64   `json:"cpu"` // user + system seconds since the process started
	NumGC       uint32    `json:"numGC"`
}

// sampleProc samples the calling process; with gc it collects garbage
// twice first (the second run empties sync.Pool victim caches), so that
// the heap figures are live data.
func sampleProc(gc bool) Proc {
	if gc {
		runtime.GC()
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p := Proc{
		Time: time.Now(), GC: gc,
		Goroutines: runtime.NumGoroutine(),
		FDs:        countFDs(),
		HeapInuse:  ms.HeapInuse, HeapAlloc: ms.HeapAlloc, HeapObjects: ms.HeapObjects, HeapSys: ms.HeapSys,
		RSS:   rss(),
		CPU:   cpuSeconds(),
		NumGC: ms.NumGC,
	}
	return p
}

// countFDs counts the open file descriptors (the directory read itself
// holds one, in every sample alike).
func countFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// rss returns VmRSS in bytes, 0 when unknown.
func rss() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuSeconds returns the user + system CPU time of the process.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// KindStats sums the rtpsource track statistics the server logs when a
// session ends ("whip: track ended"), for one kind.
type KindStats struct {
	Tracks           int `json:"tracks"`
	Packets          int `json:"packets"`
	Frames           int `json:"frames"`
	Dropped          int `json:"dropped"`
	Lost             int `json:"lost"`
	KeyFrameRequests int `json:"keyFrameRequests"`
}

func (k *KindStats) add(o KindStats) {
	k.Tracks += o.Tracks
	k.Packets += o.Packets
	k.Frames += o.Frames
	k.Dropped += o.Dropped
	k.Lost += o.Lost
	k.KeyFrameRequests += o.KeyFrameRequests
}

func (k KindStats) sub(o KindStats) KindStats {
	return KindStats{Tracks: k.Tracks - o.Tracks, Packets: k.Packets - o.Packets, Frames: k.Frames - o.Frames,
		Dropped: k.Dropped - o.Dropped, Lost: k.Lost - o.Lost, KeyFrameRequests: k.KeyFrameRequests - o.KeyFrameRequests}
}

// since returns what l counted after o was taken (the counters only; the
// per-session and per-recording details and the warnings stay l's).
func (l LogStats) since(o LogStats) LogStats {
	l.Sessions -= o.Sessions
	l.SessionsEnded -= o.SessionsEnded
	l.Video = l.Video.sub(o.Video)
	l.Audio = l.Audio.sub(o.Audio)
	l.RecordingsStarted -= o.RecordingsStarted
	l.RecordingsStopped -= o.RecordingsStopped
	l.RecDropped -= o.RecDropped
	l.RecSkipped -= o.RecSkipped
	l.RecKeyRequests -= o.RecKeyRequests
	l.Warnings -= o.Warnings
	cs := map[string]int{}
	for k, v := range l.ConnStates {
		if d := v - o.ConnStates[k]; d != 0 {
			cs[k] = d
		}
	}
	l.ConnStates = cs
	return l
}

// RecLog is what the server logged about one recording.
type RecLog struct {
	Session          string  `json:"session"`
	File             string  `json:"file"`
	Stopped          bool    `json:"stopped"`
	Dropped          uint64  `json:"dropped"`
	Skipped          uint64  `json:"skipped"`
	KeyFrameRequests uint64  `json:"keyFrameRequests"`
	Size             int64   `json:"size"`
	Duration         float64 `json:"duration"`
}

// LogStats is what the server process learnt from its own server's logs.
type LogStats struct {
	Sessions          int            `json:"sessions"` // "whip: session"
	SessionsEnded     int            `json:"sessionsEnded"`
	Video             KindStats      `json:"video"`
	Audio             KindStats      `json:"audio"`
	RecordingsStarted int            `json:"recordingsStarted"`
	RecordingsStopped int            `json:"recordingsStopped"`
	RecDropped        uint64         `json:"recDropped"`
	RecSkipped        uint64         `json:"recSkipped"`
	RecKeyRequests    uint64         `json:"recKeyFrameRequests"`
	ConnStates        map[string]int `json:"connStates"` // PeerConnection states seen, by name
	Warnings          int            `json:"warnings"`   // records at Warn or above
	LastWarnings      []string       `json:"lastWarnings,omitempty"`

	// With ?detail=1 only.
	PerSession   map[string]map[string]KindStats `json:"perSession,omitempty"` // session -> kind -> stats
	PerRecording map[string]RecLog               `json:"perRecording,omitempty"`
}

// ServerStats is the body of /debug/stats.
type ServerStats struct {
	Proc Proc     `json:"proc"`
	Log  LogStats `json:"log"`
}
