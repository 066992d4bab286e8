package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/internal/s3test"
	"github.com/gomediarecorder/mediarecorder/mp4"
	"github.com/gomediarecorder/mediarecorder/ogg"
	"github.com/gomediarecorder/mediarecorder/storage"
)

// cutTransport fails every request once dead (a node lost), and counts
// the response bytes read (a node taking over).
type cutTransport struct {
	dead atomic.Bool
	down atomic.Int64
}

func (c *cutTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.dead.Load() {
		return nil, errors.New("the node is gone")
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		resp.Body = &countedBody{resp.Body, &c.down}
	}
	return resp, err
}

type countedBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// A real WebM (Ogg) recording into SeaweedFS whose node is lost after
// parts 2 and 3 went up: another node finishes it in place, downloading
// the first part, the tail and the index only (not the parts between),
// and the object is a finished, seekable WebM (Duration, Cues) that
// ffmpeg decodes and seeks in cleanly, and mkvinfo reads (an Ogg stream
// ffmpeg decodes, whose last page ends it).
func TestTakeoverInPlace(t *testing.T) {
	if testing.Short() {
		t.Skip("records 17 MB into SeaweedFS; skipped in -short mode")
	}
	mediatest.RequireTool(t, "ffmpeg")
	mediatest.RequireTool(t, "mkvinfo")
	srv := s3test.Shared(t)
	ctx := context.Background()
	ps := int64(storage.MinPartSize)
	open := func(tr http.RoundTripper, flush time.Duration) *storage.S3 {
		o := srv.Options(t.TempDir())
		o.PartSize, o.Transport, o.FlushInterval = ps, tr, flush
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		st, err := storage.NewS3(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	for _, tc := range []struct {
		name  string
		ext   string
		flush time.Duration
	}{
		{"webm", ".webm", 50 * time.Millisecond},
		{"webm audio and video", ".webm", 50 * time.Millisecond},
		{"webm without index", ".webm", 0}, // no flush: the whole-object repair
		{"ogg", ".ogg", 50 * time.Millisecond},
		{"mp4 audio and video", ".mp4", 50 * time.Millisecond},
		{"mp4 without index", ".mp4", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var src source
			switch tc.name {
			case "ogg":
				src = source{"audio/ogg", []srcTrack{opusTrack(t)}}
			case "mp4 audio and video", "mp4 without index":
				src = source{"video/mp4", []srcTrack{vp9Track(t), opusTrack(t)}}
			case "webm audio and video":
				src = source{"video/webm", []srcTrack{vp8Track(t), opusTrack(t)}}
			default:
				src = source{"video/webm", []srcTrack{vp8Track(t)}}
			}
			key := fmt.Sprintf("inplace-%d%s", time.Now().UnixNano(), tc.ext)
			cut := &cutTransport{}
			st := open(cut, tc.flush)
			w, err := st.Create(ctx, key, storage.CreateOptions{ContentType: "video/webm"})
			if err != nil {
				t.Fatal(err)
			}
			sw := w.(*storage.S3Writer)
			stop := record(t, w, 3*ps+ps/3, src)
			// Once the samples stop: every part due stored, the segments
			// of their bytes deleted, a flush of everything after.
			waitFor(t, 2*time.Minute, "parts 2 and 3, and a flush after them", func() bool {
				if tc.flush == 0 {
					return sw.Stored() >= 3*ps && sw.Recoverable() > 0
				}
				size := sw.Size()
				return sw.Stored() == (size-storage.DefaultLag)/ps*ps && sw.Recoverable() == size && sw.Stats().Garbage == 0
			})
			recoverable := sw.Recoverable()
			cut.dead.Store(true) // the node and its disk are lost
			stop()
			actx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
			w.Abort(actx)
			cancel()

			ct := &cutTransport{}
			other := open(ct, 0)
			ups, err := other.Unfinished(ctx, key)
			if err != nil || len(ups) != 1 {
				t.Fatalf("unfinished %v, %v", ups, err)
			}
			to, err := other.Takeover(ctx, ups[0])
			if err != nil {
				t.Fatal(err)
			}
			stored := to.Stored()
			dur, size, err := finishInPlace(ctx, to, tc.ext)
			if tc.flush == 0 {
				if !errors.Is(err, errNotInPlace) {
					t.Fatalf("without an index: %v, want errNotInPlace", err)
				}
				return // the takeover repairs the whole object (TestCluster)
			}
			if err != nil {
				t.Fatal(err)
			}
			// Downloaded: the first part, the bytes after the stored parts,
			// the index and listings (128 KiB covers the index, the listing
			// of a few hundred segments and their headers); never the parts
			// between (here 2 or 3 parts: 10-15 MiB).
			bound := ps + (recoverable - stored) + 128<<10
			t.Logf("finished in place: %d bytes, %.3f s; downloaded %d bytes (bound %d: part %d, tail %d)",
				size, dur.Seconds(), ct.down.Load(), bound, ps, recoverable-stored)
			if ct.down.Load() > bound {
				t.Errorf("downloaded %d bytes of a %d-byte object, more than the head, tail and index (%d)", ct.down.Load(), size, bound)
			}
			if size < recoverable-256<<10 {
				t.Errorf("object of %d bytes, the store had %d at the last flush", size, recoverable)
			}
			switch tc.ext {
			case ".ogg":
				checkFinishedOgg(t, other, key, dur)
			case ".mp4":
				checkFinishedMP4(t, other, key, dur)
			default:
				checkFinishedWebM(t, other, key, dur)
			}
		})
	}
}

// source is what a test records: tracks of samples, looped.
type source struct {
	mime   string // the recording's
	tracks []srcTrack
}

// srcTrack is one track of a source: samples of one codec, each d long.
type srcTrack struct {
	codec   mr.Codec
	samples [][]byte
	d       time.Duration
}

// vp8Track is testdata/vp8.ivf.
func vp8Track(t *testing.T) srcTrack {
	return srcTrack{mr.Codec{MimeType: "video/VP8", ClockRate: 90000},
		mediatest.IVFFrames(t, mediatest.Testdata(t, "vp8.ivf")), 33 * time.Millisecond}
}

// vp9Track is testdata/vp9.ivf.
func vp9Track(t *testing.T) srcTrack {
	return srcTrack{mr.Codec{MimeType: "video/VP9", ClockRate: 90000},
		mediatest.IVFFrames(t, mediatest.Testdata(t, "vp9.ivf")), 33 * time.Millisecond}
}

// opusTrack is 20 s of 510 kb/s Opus made by ffmpeg (a high rate: fewer
// packets to fill the parts).
func opusTrack(t *testing.T) srcTrack {
	dir := t.TempDir()
	path := mediatest.FFmpeg(t, dir, "-f", "lavfi", "-i", "sine=frequency=440:duration=20", "-ac", "2",
		"-c:a", "libopus", "-b:a", "510k", "-vbr", "off", "-frame_duration", "20", "s.ogg")
	return srcTrack{mr.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2}, readOpus(t, path), 20 * time.Millisecond}
}

// record records loops of src's tracks into w, interleaved by time, until
// it holds at least size bytes; stop stops the recorder.
func record(t *testing.T, w storage.Writer, size int64, src source) (stop func()) {
	t.Helper()
	var tracks []mr.Track
	var sts []*mr.SampleTrack
	for _, st := range src.tracks {
		tr := mr.NewSampleTrack(st.codec)
		tracks, sts = append(tracks, tr), append(sts, tr)
	}
	r, err := mr.New(mr.NewStream(tracks...), mr.Options{MimeType: src.mime})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.StartFile(w, 0); err != nil {
		t.Fatal(err)
	}
	next := make([]int, len(sts)) // samples written per track
	for w.Size() < size {
		for range 300 {
			i := 0 // the track furthest behind
			for j := range sts {
				if time.Duration(next[j])*src.tracks[j].d < time.Duration(next[i])*src.tracks[i].d {
					i = j
				}
			}
			st := src.tracks[i]
			if err := sts[i].WriteSample(mr.Sample{Data: st.samples[next[i]%len(st.samples)], Duration: st.d}); err != nil {
				t.Fatal(err)
			}
			next[i]++
		}
		time.Sleep(time.Millisecond) // let the recorder keep up
	}
	return func() { _ = r.Stop() }
}

// checkFinishedOgg downloads key and checks it is a finished Ogg stream
// of duration dur: ffmpeg decodes it without a word, its pages are whole
// and the last one ends the stream.
func checkFinishedOgg(t *testing.T, st storage.Store, key string, dur time.Duration) {
	t.Helper()
	b, path := download(t, st, key, "finished.ogg")
	mediatest.Decode(t, path)
	r := ogg.NewReader(bytes.NewReader(b))
	var last ogg.Page
	for {
		p, err := r.NextPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("page at %d: %v", r.Offset(), err)
		}
		last = *p
	}
	if last.Flags&ogg.FlagEOS == 0 {
		t.Error("the last page does not end the stream")
	}
	// ffprobe counts the pre-skip in.
	if d := mediatest.FFprobe(t, path).Duration; d < dur.Seconds()-0.01 || d > dur.Seconds()+0.1 || d < 1 {
		t.Errorf("ffprobe duration %.3f s, want %.3f s", d, dur.Seconds())
	}
}

// download reads the object key whole into a temporary file named name,
// and returns its bytes and the file's path.
func download(t *testing.T, st storage.Store, key, name string) ([]byte, string) {
	t.Helper()
	o, err := st.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(o)
	o.Close()
	path := filepath.Join(t.TempDir(), name)
	if err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b, path
}

// checkFinishedMP4 downloads key and checks it is a finished MP4 of
// duration dur: mp4.Probe finds it seekable and whole, ffmpeg decodes it
// and seeks to its middle without a word, ffprobe finds its duration.
func checkFinishedMP4(t *testing.T, st storage.Store, key string, dur time.Duration) {
	t.Helper()
	b, path := download(t, st, key, "finished.mp4")
	if pr, err := mp4.Probe(bytes.NewReader(b)); err != nil || !pr.Seekable || len(pr.Problems) > 0 {
		t.Errorf("mp4.Probe: %+v %v", pr, err)
	}
	checkDecodeSeek(t, path, dur)
}

// checkDecodeSeek checks that ffmpeg decodes path and seeks to its middle
// without a word, and that ffprobe finds its duration dur.
func checkDecodeSeek(t *testing.T, path string, dur time.Duration) {
	t.Helper()
	mediatest.DecodeVFR(t, path)
	p := mediatest.FFprobe(t, path)
	if d := p.Duration; d < dur.Seconds()-0.1 || d > dur.Seconds()+0.1 || d < 1 {
		t.Errorf("ffprobe duration %.3f s, want %.3f s", d, dur.Seconds())
	}
	mid := fmt.Sprintf("%.3f", dur.Seconds()/2)
	ffmpeg := mediatest.RequireTool(t, "ffmpeg")
	out, err := exec.Command(ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-ss", mid, "-i", path,
		"-frames:v", "1", "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("ffmpeg seek to %s s: %v\n%s", mid, err, out)
	}
}

// checkFinishedWebM downloads key and checks it is a finished WebM of
// duration dur: ffmpeg decodes it and seeks to its middle without a word,
// mkvinfo and ffprobe find its Cues and Duration.
func checkFinishedWebM(t *testing.T, st storage.Store, key string, dur time.Duration) {
	t.Helper()
	_, path := download(t, st, key, "finished.webm")
	info := mediatest.MKVInfo(t, path)
	for _, want := range []string{"Cues", "Cue point", "Seek head", "Duration"} {
		if !strings.Contains(info, want) {
			t.Errorf("mkvinfo finds no %s", want)
		}
	}
	checkDecodeSeek(t, path, dur)
}
