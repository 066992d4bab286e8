//go:build !libvpx

package mediarecorder_test

import (
	"errors"
	"strings"
	"testing"

	mr "github.com/gomediarecorder/mediarecorder"
)

// TestRawVideoWithoutEncoder: a build without the libvpx tag has no video
// encoder, and says which tag to build with.
func TestRawVideoWithoutEncoder(t *testing.T) {
	for _, mime := range []string{"", "video/webm", "video/webm;codecs=vp8,opus", "video/webm;codecs=vp9"} {
		r, err := mr.New(mr.NewStream(mr.NewVideoTrack()), mr.Options{MimeType: mime})
		if err != nil {
			t.Fatal(err)
		}
		err = r.Start(0)
		if !errors.Is(err, mr.ErrNotSupported) || !strings.Contains(err.Error(), "-tags libvpx") {
			t.Errorf("%q: Start = %v, want a NotSupportedError naming -tags libvpx", mime, err)
		}
		if r.State() != mr.StateInactive {
			t.Errorf("%q: state %s", mime, r.State())
		}
	}
}
