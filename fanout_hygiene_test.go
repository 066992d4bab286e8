package mediarecorder

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestNoExportedTypeEmbedsFanout fails when an exported struct type anywhere
// in the module embeds Fanout: that would export End and Publish, and a
// caller's End would silently stop the track while it still says "live".
func TestNoExportedTypeEmbedsFanout(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || (strings.HasPrefix(n, ".") && n != ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok || !ts.Name.IsExported() {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			for _, fld := range st.Fields.List {
				if len(fld.Names) != 0 {
					continue
				}
				typ := fld.Type
				if s, ok := typ.(*ast.StarExpr); ok {
					typ = s.X
				}
				name := ""
				switch x := typ.(type) {
				case *ast.Ident:
					name = x.Name
				case *ast.SelectorExpr:
					name = x.Sel.Name
				}
				if name == "Fanout" {
					t.Errorf("%s: exported type %s embeds Fanout", fset.Position(fld.Pos()), ts.Name.Name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSampleTrackCannotBeEndedBehindItsBack: before the fix SampleTrack
// embedded Fanout, so st.End() stopped every recorder's samples while
// ReadyState still said "live" and WriteSample still returned nil.
func TestSampleTrackCannotBeEndedBehindItsBack(t *testing.T) {
	typ := reflect.TypeOf(&SampleTrack{})
	for _, m := range []string{"End", "Publish", "Subscribers"} {
		if _, ok := typ.MethodByName(m); ok {
			t.Errorf("*SampleTrack has method %s: callers could bypass the track", m)
		}
	}
	for _, m := range []string{"Subscribe", "WaitRoom", "Stop", "WriteSample"} {
		if _, ok := typ.MethodByName(m); !ok {
			t.Errorf("*SampleTrack lacks method %s", m)
		}
	}

	// Subscribe and WaitRoom still work through the forwarding methods.
	st := NewSampleTrack(Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2})
	var got []TimedSample
	ended := false
	unsub := st.Subscribe(sinkFuncs{
		write: func(s TimedSample) { got = append(got, s) },
		ended: func() { ended = true },
	})
	st.WaitRoom()
	if err := st.WriteSample(Sample{Data: []byte{0xfc, 1, 2}, Duration: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("sink got %d samples, want 1", len(got))
	}
	st.Stop()
	if !ended || st.ReadyState() != TrackEnded {
		t.Fatalf("after Stop: sink told %v, readyState %q", ended, st.ReadyState())
	}
	unsub()
}

type sinkFuncs struct {
	write func(TimedSample)
	ended func()
}

func (s sinkFuncs) WriteSample(ts TimedSample) { s.write(ts) }
func (s sinkFuncs) TrackEnded()                { s.ended() }
