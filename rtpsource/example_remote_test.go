package rtpsource_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/rtpsource"
	"github.com/gomediarecorder/mediarecorder/webm"
)

// ExampleFromRemote records a pion remote track. Two PeerConnections talk
// over loopback in this process: one sends the VP8 frames of an IVF file,
// the other records what it receives into memory.
func ExampleFromRemote() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The receiver registers rtpsource's interceptors: NACKs every 20 ms.
	m := &webrtc.MediaEngine{}
	ir := &interceptor.Registry{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		panic(err)
	}
	if err := rtpsource.RegisterInterceptors(m, ir); err != nil {
		panic(err)
	}
	var se webrtc.SettingEngine // loopback only, for the example
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return strings.HasPrefix(name, "lo") }) // lo, lo0
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	sender, _ := api.NewPeerConnection(webrtc.Configuration{})
	receiver, _ := api.NewPeerConnection(webrtc.Configuration{})
	defer sender.Close()
	defer receiver.Close()

	// The receiving side: every remote track becomes a mediarecorder.Track.
	tracks := make(chan *rtpsource.Track, 1)
	receiver.OnTrack(func(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		tr, err := rtpsource.FromRemote(ctx, remote, recv, receiver, rtpsource.Options{})
		if err != nil {
			panic(err)
		}
		tracks <- tr
	})

	// The sending side: a VP8 track, then offer and answer.
	local, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "pion")
	if _, err := sender.AddTrack(local); err != nil {
		panic(err)
	}
	connect(sender, receiver)

	// Send the first key frame until the receiver has its track and is
	// recording (pion reports a track when its first packet arrives), then
	// the whole file: two seconds of VP8, in real time.
	frames := readIVF("../testdata/vp8.ivf")
	started, sent := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sent)
		write := func(f []byte) {
			if err := local.WriteSample(media.Sample{Data: f, Duration: time.Second / 30}); err != nil {
				panic(err)
			}
			time.Sleep(time.Second / 30)
		}
		for ctx.Err() == nil {
			select {
			case <-started:
				for _, f := range frames {
					write(f)
				}
				return
			default:
				write(frames[0])
			}
		}
	}()
	var track *rtpsource.Track
	select {
	case track = <-tracks:
	case <-ctx.Done():
		panic("no remote track")
	}

	// Record it into memory: New, Start, then Stop and Wait.
	rec, err := mediarecorder.New(mediarecorder.NewStream(track), mediarecorder.Options{})
	if err != nil {
		panic(err)
	}
	var out bytes.Buffer
	var typ string
	rec.OnDataAvailable(func(e mediarecorder.BlobEvent) { typ = e.Data.Type(); out.Write(e.Data.Bytes()) })
	rec.OnStart(func() { close(started) })
	if err := rec.Start(0); err != nil {
		panic(err)
	}
	<-sent
	time.Sleep(200 * time.Millisecond) // the last packets in flight
	if err := rec.Stop(); err != nil {
		panic(err)
	}
	if err := rec.Wait(ctx); err != nil {
		panic(err)
	}

	p, err := webm.Probe(&out)
	if err != nil {
		panic(err)
	}
	fmt.Println(typ)
	fmt.Println("codec:", p.Header.Tracks[0].CodecID)
	fmt.Println("seekable:", p.Seekable, "problems:", len(p.Problems))
	fmt.Println("duration:", rec.Duration().Round(time.Second))
	// Output:
	// video/webm;codecs=vp8
	// codec: V_VP8
	// seekable: true problems: 0
	// duration: 2s
}

// connect runs the offer/answer exchange, every ICE candidate gathered first.
func connect(offerer, answerer *webrtc.PeerConnection) {
	offer, err := offerer.CreateOffer(nil)
	if err != nil {
		panic(err)
	}
	gathered := webrtc.GatheringCompletePromise(offerer)
	if err := offerer.SetLocalDescription(offer); err != nil {
		panic(err)
	}
	<-gathered
	if err := answerer.SetRemoteDescription(*offerer.LocalDescription()); err != nil {
		panic(err)
	}
	answer, err := answerer.CreateAnswer(nil)
	if err != nil {
		panic(err)
	}
	gathered = webrtc.GatheringCompletePromise(answerer)
	if err := answerer.SetLocalDescription(answer); err != nil {
		panic(err)
	}
	<-gathered
	if err := offerer.SetRemoteDescription(*answerer.LocalDescription()); err != nil {
		panic(err)
	}
}

// readIVF returns the frames of an IVF file.
func readIVF(path string) [][]byte {
	f, err := os.Open(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		panic(err)
	}
	var frames [][]byte
	for {
		frame, _, err := r.ParseNextFrame()
		if err == io.EOF {
			return frames
		}
		if err != nil {
			panic(err)
		}
		frames = append(frames, frame)
	}
}
