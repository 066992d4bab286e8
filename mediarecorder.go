// Package mediarecorder is the W3C MediaRecorder API for Go
// (MediaStream Recording, https://w3c.github.io/mediacapture-record/).
//
// Give a Recorder a Stream of Tracks (from Go code with SampleTrack, or from
// RTP, pion WebRTC or files through the source packages), call Start, and
// receive the recording as Blobs in dataavailable events: WebM, Matroska or
// Ogg, holding the tracks' encoded media as it is (no transcoding). Raw
// tracks (AudioTrack: PCM; VideoTrack: I420, NV12 or image.Image frames) are
// encoded by each recorder, honouring its bitrate and key-frame options,
// with the encoders that encoder packages register (encode/opus in pure Go;
// encode/vpx, VP8 and VP9 through libvpx, with the build tag libvpx).
//
//	video := mediarecorder.NewSampleTrack(mediarecorder.Codec{MimeType: "video/VP8", ClockRate: 90000})
//	audio := mediarecorder.NewSampleTrack(mediarecorder.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2})
//	rec, _ := mediarecorder.New(mediarecorder.NewStream(video, audio), mediarecorder.Options{})
//	rec.OnDataAvailable(func(e mediarecorder.BlobEvent) { out.Write(e.Data.Bytes()) })
//	rec.Start(time.Second)
//	// ... video.WriteSample(...), audio.WriteSample(...)
//	rec.Stop()
//
// The state machine, the events and their order, and the errors
// (*DOMException) follow the spec's algorithms step by step. Methods are
// safe to call from any goroutine; events are delivered one at a time on
// the recorder's own goroutine, never from inside the call that caused
// them.
//
// Without a timeslice (Start(0)) and without RequestData, the single blob is
// a finished file: known sizes, Duration, Cues and SeekHead, so players can
// seek it. With a timeslice the blobs form a live stream: concatenated, they
// are one valid file, and only the first begins with the header.
package mediarecorder
