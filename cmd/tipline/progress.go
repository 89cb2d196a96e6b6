package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows how far a long operator command has come: a bar with the count, the rate and
// the time left on a terminal; a plain line every few seconds otherwise (logs, CI, cron).
type progress struct {
	what    string
	total   int
	done    int
	start   time.Time
	bar     *progressbar.ProgressBar
	out     io.Writer
	printed time.Time
}

func newProgress(what string, total int) *progress {
	p := &progress{what: what, total: total, start: time.Now(), out: os.Stderr}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionFullWidth(), progressbar.OptionClearOnFinish())
	}
	return p
}

// set records that done items of total are finished (total may change as it becomes known).
func (p *progress) set(done, total int) {
	p.done = done
	if total != p.total {
		p.total = total
		if p.bar != nil {
			p.bar.ChangeMax(total)
		}
	}
	if p.bar != nil {
		_ = p.bar.Set(done)
		return
	}
	if time.Since(p.printed) >= 5*time.Second {
		p.printed = time.Now()
		fmt.Fprintln(p.out, p.line())
	}
}

// line is the plain-text progress: count, share, rate and the time left at that rate.
func (p *progress) line() string {
	elapsed := time.Since(p.start)
	s := fmt.Sprintf("%s: %d", p.what, p.done)
	if p.total > 0 {
		s += fmt.Sprintf("/%d (%.0f%%)", p.total, 100*float64(p.done)/float64(p.total))
	}
	if p.done > 0 && elapsed > 0 {
		rate := float64(p.done) / elapsed.Seconds()
		s += fmt.Sprintf(", %.0f/s", rate)
		if p.total > p.done {
			s += fmt.Sprintf(", about %s left", (time.Duration(float64(p.total-p.done)/rate) * time.Second).Round(time.Second))
		}
	}
	return s
}

// finish ends the bar and prints the final line.
func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
	fmt.Fprintf(p.out, "%s in %s\n", p.line(), time.Since(p.start).Round(100*time.Millisecond))
}
