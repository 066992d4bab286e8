//go:build linux

package main

import (
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
)

var sink [][]byte

//go:noinline
func allocate(n, size int) {
	for range n {
		sink = append(sink, make([]byte, size))
	}
}

// TestHeapBreakdown parses a heap profile the runtime wrote, in the form
// /debug/pprof/heap?debug=1 serves, and finds the bytes allocate holds.
func TestHeapBreakdown(t *testing.T) {
	old := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	defer func() { runtime.MemProfileRate = old }()
	allocate(1000, 4096)
	runtime.GC()
	var b strings.Builder
	if err := pprof.Lookup("heap").WriteTo(&b, 1); err != nil {
		t.Fatal(err)
	}
	got, err := heapBreakdown(b.String())
	if err != nil {
		t.Fatal(err)
	}
	const want = 1000 * 4096
	if o := got[heapOther]; o < want || o > 2*want {
		t.Errorf("other: %.0f bytes, want about %d (all: %v)", o, want, got)
	}
	sink = nil
	if _, err := heapBreakdown("not a profile"); err == nil {
		t.Error("heapBreakdown accepted garbage")
	}
}

func TestSteps(t *testing.T) {
	d := 1.0 / 30
	pts := []float64{0, d, 2 * d, 3 * d, 5 * d, 6 * d, 6.2 * d, 7.2 * d}
	maxStep, odd := steps(pts, d)
	if odd != 2 || maxStep < 2*d-1e-9 || maxStep > 2*d+1e-9 {
		t.Errorf("steps: max %.4f odd %d; want max %.4f, 2 odd (a hole, then a short step)", maxStep, odd, 2*d)
	}
}
