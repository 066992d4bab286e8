package mediarecorder

import (
	"errors"
	"image"
	"sync"
	"testing"
	"time"
)

// fakeEncoders registers encoders for "av1" and "opus" that remember how
// they were configured and emit nothing, restoring the registry at the end.
type fakeEncoders struct {
	mu    sync.Mutex
	video []VideoEncoderConfig
	audio []AudioEncoderConfig
}

type nopVideo struct{}

func (nopVideo) Encode(*VideoFrame, time.Duration, bool) ([]TimedSample, error) { return nil, nil }
func (nopVideo) Close() error                                                   { return nil }

type nopAudio struct{}

func (nopAudio) SampleRate() int                  { return 48000 }
func (nopAudio) FrameSize() int                   { return 960 }
func (nopAudio) Encode([]float32) ([]byte, error) { return nil, errNotConfigurable }
func (nopAudio) Close() error                     { return nil }

func registerFakes(t *testing.T) *fakeEncoders {
	f := &fakeEncoders{}
	oldV, oldA := videoEncoderFor(codecAV1), audioEncoderFor(codecOpus)
	RegisterVideoEncoder("av1", func(c VideoEncoderConfig) (VideoEncoder, error) {
		f.mu.Lock()
		f.video = append(f.video, c)
		f.mu.Unlock()
		return nopVideo{}, nil
	})
	RegisterAudioEncoder("opus", func(c AudioEncoderConfig) (AudioEncoder, error) {
		f.mu.Lock()
		f.audio = append(f.audio, c)
		f.mu.Unlock()
		return nopAudio{}, nil
	})
	t.Cleanup(func() {
		encoders.Lock()
		defer encoders.Unlock()
		delete(encoders.video, "av1")
		delete(encoders.audio, "opus")
		if oldV != nil {
			encoders.video["av1"] = oldV
		}
		if oldA != nil {
			encoders.audio["opus"] = oldA
		}
	})
	return f
}

// TestRawBitrateConfig: each recording configures new encoders with the
// bitrates the options give for the kinds it records (BitsPerSecond split
// 20:1), and the bitrate mode.
func TestRawBitrateConfig(t *testing.T) {
	fakes := registerFakes(t)
	video := NewVideoTrack()
	audio, err := NewAudioTrack(48000, 2)
	must(t, err)
	s := NewStream(video, audio)
	r := mustNew(t, s, Options{MimeType: "video/x-matroska;codecs=av1,opus", BitsPerSecond: 2_100_000, AudioBitrateMode: BitrateConstant})
	l := watch(r)
	frame := VideoFrame{Format: PixelI420, Width: 16, Height: 16, Planes: [3][]byte{make([]byte, 256), make([]byte, 64), make([]byte, 64)}}
	record := func() {
		must(t, r.Start(0))
		must(t, video.WriteFrame(frame))
		must(t, audio.WriteInt16(make([]int16, 2*480)))
		must(t, r.Stop())
		l.waitStop(t)
	}
	record()
	// The second recording: a new encoder, configured again.
	record()
	fakes.mu.Lock()
	defer fakes.mu.Unlock()
	if len(fakes.video) != 2 || len(fakes.audio) != 2 {
		t.Fatalf("encoders made: video %v audio %v, want two of each", fakes.video, fakes.audio)
	}
	for i := range 2 {
		if v := fakes.video[i]; v.BitsPerSecond != 2_000_000 || v.Width != 16 || v.Height != 16 || v.Codec != "av1" {
			t.Errorf("video config %+v", v)
		}
		if a := fakes.audio[i]; a.BitsPerSecond != 100_000 || a.BitrateMode != BitrateConstant || a.Channels != 2 || a.SampleRate != 48000 {
			t.Errorf("audio config %+v", a)
		}
	}
	fakes.mu.Unlock()
	// An encoder error ends the recording with an UnknownError.
	must(t, r.Start(0))
	must(t, audio.WriteInt16(make([]int16, 2*960))) // a whole frame: encoded, and the encoder fails
	l.waitStop(t)
	fakes.mu.Lock()
	l.mu.Lock()
	errs := append([]error(nil), l.errs...)
	l.mu.Unlock()
	if len(errs) != 1 {
		t.Fatalf("errors %v, want one", errs)
	}
	if d, ok := errs[0].(*DOMException); !ok || d.Name != NameUnknown {
		t.Errorf("error %v, want an UnknownError", errs[0])
	}
	if r.State() != StateInactive {
		t.Errorf("state %s", r.State())
	}
}

// TestRawVideoOnlyBitrate: without audio, BitsPerSecond all goes to video.
func TestRawVideoOnlyBitrate(t *testing.T) {
	fakes := registerFakes(t)
	video := NewVideoTrack()
	r := mustNew(t, NewStream(video), Options{MimeType: "video/x-matroska;codecs=av1", BitsPerSecond: 700_000})
	l := watch(r)
	must(t, r.Start(0))
	must(t, video.WriteImage(image.NewRGBA(image.Rect(0, 0, 2, 2)), Now()))
	must(t, video.WriteFrame(VideoFrame{Format: PixelI420, Width: 2, Height: 2, Planes: [3][]byte{make([]byte, 4), {0}, {0}}}))
	if err := video.WriteImage(image.NewRGBA(image.Rect(0, 0, 4, 2)), Now()); !errors.Is(err, ErrBadFrame) {
		t.Errorf("an image of another size: %v", err)
	}
	must(t, r.Stop())
	l.waitStop(t)
	fakes.mu.Lock()
	defer fakes.mu.Unlock()
	if len(fakes.video) != 1 || fakes.video[0].BitsPerSecond != 700_000 || fakes.video[0].Width != 2 {
		t.Errorf("video configs %+v, want one at 700000", fakes.video)
	}
}

// TestRawStartStopWhileWriting: recordings start, pause, resume and stop
// while another goroutine writes: no race, no deadlock, and no recording
// shares an encoder.
func TestRawStartStopWhileWriting(t *testing.T) {
	fakes := registerFakes(t)
	video := NewVideoTrack()
	r := mustNew(t, NewStream(video), Options{MimeType: "video/x-matroska;codecs=av1"})
	l := watch(r)
	done := make(chan struct{})
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		frame := VideoFrame{Format: PixelI420, Width: 4, Height: 4, Planes: [3][]byte{make([]byte, 16), make([]byte, 4), make([]byte, 4)}}
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := video.WriteFrame(frame); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	const runs = 10
	for range runs {
		must(t, r.Start(0))
		time.Sleep(5 * time.Millisecond)
		must(t, r.Pause())
		must(t, r.Resume())
		time.Sleep(5 * time.Millisecond)
		must(t, r.Stop())
		l.waitStop(t)
	}
	close(done)
	<-wrote
	fakes.mu.Lock()
	defer fakes.mu.Unlock()
	// One encoder per recording that saw a frame (a starved writer may
	// miss a recording), never more.
	if len(fakes.video) == 0 || len(fakes.video) > runs {
		t.Errorf("%d encoders made for %d recordings", len(fakes.video), runs)
	}
}
