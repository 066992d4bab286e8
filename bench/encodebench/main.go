//go:build linux && libvpx

// Command encodebench is the encoding benchmark's Go half (bench/encode.sh
// drives it): it records raw media with our encoders, records the same
// media with Chromium's own MediaRecorder, and does the arithmetic that
// ffmpeg's filters do not (aligning a recording with its source).
//
// Modes:
//
//	encodebench ours   -y4m F [-wav F] -mime TYPE -vbps B -abps B [-cbr] [-cpu-used N] [-vbr] -out F
//	encodebench chrome -y4m F -wav F -secs S -vbps B -abps B -out F [-baseline]
//	encodebench align  -ref SRC.yuv -dist DEC.yuv -out MATCH.yuv -w W -h H
//	encodebench pcm    -ref SRC.s16 -dist DEC.s16 -ch C
//
// ours prints {"cpu_s", "wall_s"}: this process's CPU (user+system,
// getrusage) while it records. chrome prints {"cpu_s", "wall_s"}: the CPU
// of every Chromium process while the page records (with -baseline, while
// it only captures, so that the difference is the MediaRecorder's). align
// writes the source frame that each decoded frame shows. pcm prints
// the delay (in samples) and the PSNR of the decoded PCM against the source.
package main

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chromedp/chromedp"
	mr "github.com/gomediarecorder/mediarecorder"
	_ "github.com/gomediarecorder/mediarecorder/encode/opus"
	"github.com/gomediarecorder/mediarecorder/encode/vpx"
	"github.com/gomediarecorder/mediarecorder/filesource"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: encodebench ours|chrome|align|pcm [flags]")
		os.Exit(2)
	}
	mode, args := os.Args[1], os.Args[2:]
	fs := flag.NewFlagSet("encodebench "+mode, flag.ExitOnError)
	var err error
	switch mode {
	case "ours":
		err = ours(fs, args)
	case "chrome":
		err = chrome(fs, args)
	case "align":
		err = align(fs, args)
	case "pcm":
		err = pcm(fs, args)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "encodebench "+mode+":", err)
		os.Exit(1)
	}
}

func printJSON(v any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

// selfCPU returns this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ours(fs *flag.FlagSet, args []string) error {
	y4m := fs.String("y4m", "", "Y4M input")
	wav := fs.String("wav", "", "WAV input")
	mime := fs.String("mime", "video/webm;codecs=vp8,opus", "MIME type")
	vbps := fs.Uint64("vbps", 1_000_000, "videoBitsPerSecond")
	abps := fs.Uint64("abps", 128_000, "audioBitsPerSecond")
	cbr := fs.Bool("cbr", false, `audioBitrateMode "constant"`)
	out := fs.String("out", "", "output file")
	cpuUsed := fs.Int("cpu-used", vpx.CPUUsedVP8, "libvpx cpu-used (VP8 and VP9)")
	vbr := fs.Bool("vbr", false, "libvpx VBR instead of CBR")
	_ = fs.Parse(args)
	vpx.CPUUsedVP8, vpx.CPUUsedVP9, vpx.VBR = *cpuUsed, *cpuUsed, *vbr
	var files []*filesource.File
	var tracks []mr.Track
	for _, in := range []string{*y4m, *wav} {
		if in == "" {
			continue
		}
		f, err := filesource.Open(in, filesource.Options{RawAudio: true})
		if err != nil {
			return err
		}
		defer f.Close()
		files = append(files, f)
		tracks = append(tracks, f.AllTracks()...)
	}
	mode := mr.BitrateVariable
	if *cbr {
		mode = mr.BitrateConstant
	}
	rec, err := mr.New(mr.NewStream(tracks...), mr.Options{MimeType: *mime, VideoBitsPerSecond: *vbps, AudioBitsPerSecond: *abps, AudioBitrateMode: mode})
	if err != nil {
		return err
	}
	w, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer w.Close()
	done := make(chan struct{})
	var recErr error
	rec.OnError(func(err error) { recErr = err })
	rec.OnStop(func() { close(done) })
	cpu0, t0 := selfCPU(), time.Now()
	if err := rec.StartFile(w, 0); err != nil {
		return err
	}
	if err := filesource.Play(context.Background(), files, nil); err != nil {
		return err
	}
	<-done
	if recErr != nil {
		return recErr
	}
	printJSON(map[string]float64{"cpu_s": (selfCPU() - cpu0).Seconds(), "wall_s": time.Since(t0).Seconds()})
	return nil
}

// procTreeCPU returns the CPU time of pid and all its descendants.
func procTreeCPU(root int) time.Duration {
	parents := map[int]int{}
	ticks := map[int]int64{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		parents[pid], ticks[pid] = ppid, ut+st
	}
	var sum int64
	for pid, t := range ticks {
		for p := pid; p > 1; p = parents[p] {
			if p == root {
				sum += t
				break
			}
		}
	}
	return time.Duration(sum) * time.Second / 100 // USER_HZ
}

const page = `<!doctype html><title>encodebench</title><p>MediaRecorder benchmark</p>`

func chrome(fs *flag.FlagSet, args []string) error {
	y4m := fs.String("y4m", "", "Y4M file for the fake camera")
	wav := fs.String("wav", "", "WAV file for the fake microphone")
	secs := fs.Float64("secs", 20, "seconds to record")
	vbps := fs.Uint64("vbps", 1_000_000, "videoBitsPerSecond")
	abps := fs.Uint64("abps", 128_000, "audioBitsPerSecond")
	out := fs.String("out", "", "output file")
	baseline := fs.Bool("baseline", false, "capture only, do not record (the CPU baseline)")
	exe := fs.String("chromium", "/usr/bin/chromium", "Chromium")
	_ = fs.Parse(args)
	y, _ := filepath.Abs(*y4m)
	a, _ := filepath.Abs(*wav)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, page) })}
	go srv.Serve(ln)
	defer srv.Close()

	dir, err := os.MkdirTemp("", "encodebench-chrome")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(*exe), chromedp.UserDataDir(dir),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-background-timer-throttling", true), chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("use-fake-device-for-media-stream", true), chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", y), chromedp.Flag("use-file-for-fake-audio-capture", a),
		chromedp.Flag("mute-audio", true),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, time.Duration(*secs*float64(time.Second))+60*time.Second)
	defer cancelT()
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+ln.Addr().String()+"/")); err != nil {
		return err
	}
	pid := chromedp.FromContext(ctx).Browser.Process().Pid
	// Open the devices first, then measure from the moment recording starts.
	setup := `(async () => {
		window.s = await navigator.mediaDevices.getUserMedia({video: true, audio: true});
		const v = window.s.getVideoTracks()[0].getSettings();
		return v.width + "x" + v.height + "@" + v.frameRate;
	})()`
	settings, err := chromedp.Run(ctx, chromedp.Evaluate[string](setup, chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "chromium camera:", settings)
	js := fmt.Sprintf(`(async () => {
		const s = window.s, secs = %f;
		if (%t) { await new Promise(r => setTimeout(r, secs * 1000)); return ""; }
		const r = new MediaRecorder(s, {mimeType: "video/webm;codecs=vp8,opus", videoBitsPerSecond: %d, audioBitsPerSecond: %d});
		const chunks = [];
		r.ondataavailable = e => chunks.push(e.data);
		const stopped = new Promise(res => r.onstop = res);
		r.start(1000);
		await new Promise(res => setTimeout(res, secs * 1000));
		r.stop();
		await stopped;
		const buf = new Uint8Array(await new Blob(chunks).arrayBuffer());
		let bin = "";
		for (let i = 0; i < buf.length; i += 0x8000) bin += String.fromCharCode.apply(null, buf.subarray(i, i + 0x8000));
		return btoa(bin);
	})()`, *secs, *baseline, *vbps, *abps)
	cpu0, t0 := procTreeCPU(pid), time.Now()
	b64, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	cpu, wall := procTreeCPU(pid)-cpu0, time.Since(t0)
	if !*baseline {
		data, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, data, 0o644); err != nil {
			return err
		}
	}
	printJSON(map[string]float64{"cpu_s": cpu.Seconds(), "wall_s": wall.Seconds()})
	return nil
}

// align writes, for each frame of the decoded recording, the source frame
// it shows (the least squared error of the Y plane: first over the whole
// first maxOff frames, then near the previous match) into out, so that
// ssim and psnr compare each frame with its own source. It prints the
// first match and how many frames did not follow the previous one.
func align(fs *flag.FlagSet, args []string) error {
	ref := fs.String("ref", "", "source, raw I420")
	dist := fs.String("dist", "", "decoded recording, raw I420")
	out := fs.String("out", "", "the matching source frames, raw I420")
	w := fs.Int("w", 640, "width")
	h := fs.Int("h", 480, "height")
	maxOff := fs.Int("max", 300, "largest first offset tried, in frames")
	_ = fs.Parse(args)
	size := *w*(*h) + 2*((*w+1)/2)*((*h+1)/2)
	rf, err := os.Open(*ref)
	if err != nil {
		return err
	}
	defer rf.Close()
	st, err := rf.Stat()
	if err != nil {
		return err
	}
	nref := int(st.Size()) / size
	df, err := os.Open(*dist)
	if err != nil {
		return err
	}
	defer df.Close()
	of, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer of.Close()
	cache := map[int][]byte{}
	frame := func(f *os.File, i int) []byte {
		if b, ok := cache[i]; ok && f == rf {
			return b
		}
		b := make([]byte, size)
		if _, err := f.ReadAt(b, int64(i)*int64(size)); err != nil {
			return nil
		}
		if f == rf {
			if len(cache) > 400 {
				clear(cache)
			}
			cache[i] = b
		}
		return b
	}
	sse := func(a, b []byte) float64 {
		var sum float64
		for j := range *w * *h {
			e := float64(a[j]) - float64(b[j])
			sum += e * e
		}
		return sum
	}
	prev, first, jumps := -1, 0, 0
	for i := 0; ; i++ {
		d := frame(df, i)
		if d == nil {
			break
		}
		lo, hi := 0, min(nref-1, *maxOff)
		if prev >= 0 {
			lo, hi = max(0, prev-2), min(nref-1, prev+6)
		}
		best, bestE := lo, math.Inf(1)
		for j := lo; j <= hi; j++ {
			if e := sse(d, frame(rf, j)); e < bestE {
				best, bestE = j, e
			}
		}
		if prev < 0 {
			first = best
		} else if best != prev+1 {
			jumps++
		}
		prev = best
		if _, err := of.Write(frame(rf, best)); err != nil {
			return err
		}
	}
	fmt.Println(first, jumps)
	return nil
}

func readS16(path string) ([]int16, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s, nil
}

func pcm(fs *flag.FlagSet, args []string) error {
	ref := fs.String("ref", "", "source, s16le")
	dist := fs.String("dist", "", "decoded, s16le")
	ch := fs.Int("ch", 2, "channels")
	maxLag := fs.Int("max", 2000, "largest delay tried, in samples")
	_ = fs.Parse(args)
	r, err := readS16(*ref)
	if err != nil {
		return err
	}
	d, err := readS16(*dist)
	if err != nil {
		return err
	}
	// The delay: the best match over a second of audio from 0.5 s on.
	mse := func(lag, from, n int) float64 {
		var sum float64
		var k int
		for i := from; i < from+n; i++ {
			j := i + lag*(*ch)
			if j < 0 || j >= len(d) || i >= len(r) {
				continue
			}
			e := float64(d[j]) - float64(r[i])
			sum += e * e
			k++
		}
		if k == 0 {
			return math.Inf(1)
		}
		return sum / float64(k)
	}
	best, bestMSE := 0, math.Inf(1)
	for lag := -*maxLag; lag <= *maxLag; lag++ {
		if m := mse(lag, 24000*(*ch), 48000*(*ch)); m < bestMSE {
			best, bestMSE = lag, m
		}
	}
	all := mse(best, 0, len(r))
	psnr := 10 * math.Log10(32767.0*32767.0/all)
	printJSON(map[string]float64{"delay_samples": float64(best), "psnr_db": psnr})
	return nil
}
