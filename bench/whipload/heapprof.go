//go:build linux

package main

import (
	"bufio"
	"fmt"
	"math"
	"strings"
)

// Heap categories of heapBreakdown.
const (
	heapRuntimeG = "runtime: descriptors of exited goroutines, kept for reuse (runtime.malg)"
	heapCatalog  = "server: finished recordings it keeps listed (Server.recs, bbolt)"
	heapBench    = "whipload's own count of the server's logs"
	heapOther    = "other"
)

// classify names the category of a heap record from its stack.
func classify(stack []string) string {
	for _, f := range stack {
		switch {
		case strings.Contains(f, "runtime.malg"):
			return heapRuntimeG
		case strings.Contains(f, "main.(*capture)"):
			return heapBench
		case strings.Contains(f, "server.(*Server).createRecording"), strings.Contains(f, "server.(*recording)"),
			strings.Contains(f, "server.(*Server).installHandlers"), strings.Contains(f, "go.etcd.io/bbolt"):
			return heapCatalog
		}
	}
	return heapOther
}

// heapBreakdown reads a heap profile in the legacy text form
// (/debug/pprof/heap?debug=1) and returns the live bytes by category,
// scaled up from the samples as pprof does.
func heapBreakdown(text string) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	rate := 0.0
	var objs, bytes float64
	var stack []string
	flush := func() {
		if objs > 0 && bytes > 0 && rate > 0 {
			avg := bytes / objs
			out[classify(stack)] += bytes / (1 - math.Exp(-avg/rate)) // runtime/pprof's scaleHeapSample
		}
		objs, bytes, stack = 0, 0, stack[:0]
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "heap profile:"):
			// heap profile: 1: 2 [3: 4] @ heap/131072   (2*MemProfileRate)
			i := strings.LastIndex(line, "heap/")
			var r2 float64
			if i < 0 {
				return nil, fmt.Errorf("heap profile header %q", line)
			}
			if _, err := fmt.Sscan(line[i+len("heap/"):], &r2); err != nil || r2 <= 0 {
				return nil, fmt.Errorf("heap profile header %q", line)
			}
			rate = r2 / 2
		case strings.HasPrefix(line, "# runtime.MemStats"):
			flush()
			return out, nil
		case strings.HasPrefix(line, "#"):
			stack = append(stack, line)
		case strings.Contains(line, " @ "):
			flush()
			if _, err := fmt.Sscanf(line, "%g: %g [", &objs, &bytes); err != nil {
				objs, bytes = 0, 0
			}
		}
	}
	flush()
	if rate == 0 {
		return nil, fmt.Errorf("not a heap profile")
	}
	return out, sc.Err()
}
