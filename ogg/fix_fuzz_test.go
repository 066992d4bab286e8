package ogg

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/opus"
)

// FuzzFix checks that Fix never panics or hangs, and that what it writes
// is whole pages with valid checksums, ends with an EOS page, and stays
// the same when fixed again.
func FuzzFix(f *testing.F) {
	b, err := os.ReadFile("testdata/sine-mono.opus")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)-100])
	var w bytes.Buffer
	ow, err := NewOpusWriter(&w, opus.DefaultHead(1, 48000), opus.Tags{}, OpusWriterOptions{Serial: 1})
	if err != nil {
		f.Fatal(err)
	}
	for i, n := range []int{10, 20, 70000, 30} {
		if err := ow.WritePacket(opusPacket(n), time.Duration(i)*20*time.Millisecond); err != nil {
			f.Fatal(err)
		}
	}
	ow.Flush()
	f.Add(w.Bytes()[:len(w.Bytes())-20])
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		rep, err := Fix(&out, bytes.NewReader(data))
		if err != nil {
			return
		}
		if rep.Size != int64(out.Len()) || rep.Kept > int64(len(data)) || rep.Duration < 0 {
			t.Fatalf("%+v for %d bytes in, %d out", rep, len(data), out.Len())
		}
		r := NewReader(bytes.NewReader(out.Bytes()))
		eos := map[uint32]bool{}
		for {
			p, err := r.NextPage()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("the output: %v", err)
			}
			if eos[p.Serial] {
				t.Fatalf("a page after the EOS of stream %d", p.Serial)
			}
			eos[p.Serial] = p.Flags&FlagEOS != 0
		}
		for s, e := range eos {
			if !e {
				t.Fatalf("stream %d has no EOS page", s)
			}
		}
		var again bytes.Buffer
		rep2, err := Fix(&again, bytes.NewReader(out.Bytes()))
		if err != nil || !bytes.Equal(again.Bytes(), out.Bytes()) || rep2.Truncated || rep2.Duration != rep.Duration {
			t.Fatalf("fixing again: %v %+v (first %+v)", err, rep2, rep)
		}
	})
}
