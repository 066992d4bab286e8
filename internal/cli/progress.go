package cli

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress shows a progress bar on a terminal for work longer than a few
// seconds of media (or bytes); elsewhere it stays quiet.
type progress struct {
	bar *progressbar.ProgressBar
}

// newProgress returns a bar counting to total (media time in ms or bytes),
// or a silent one when w is not a terminal or total is small.
func newProgress(w io.Writer, total int64, min int64, desc string, bytes bool) *progress {
	if !isTerminal(w) || total < min {
		return &progress{}
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	}
	if bytes {
		opts = append(opts, progressbar.OptionShowBytes(true))
	}
	return &progress{bar: progressbar.NewOptions64(total, opts...)}
}

func (p *progress) set(v int64) {
	if p.bar != nil {
		_ = p.bar.Set64(v)
	}
}

// describe sets the text before the bar (the speed, say).
func (p *progress) describe(s string) {
	if p.bar != nil {
		p.bar.Describe(s)
	}
}

func (p *progress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
