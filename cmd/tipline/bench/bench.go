// Package bench measures tipline (tipline bench): ingest and end-to-end throughput and
// submit→searchable latency through the whole pipeline in this process, or instead e-mail
// ingestion from a real IMAP server, OCR of scanned letters against Tesseract by hand, and
// search on an index of synthetic tips. It is the bench command's package, apart from the
// commands of the shipped binary.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"
)

// Config is what a bench run measures and how. Zero values are not defaults: tipline bench's
// flags give them.
type Config struct {
	Kafka       []string      // brokers; empty: the embedded broker
	Tips        int           // tips of each throughput run
	Runs        int           // repetitions of the throughput phase (or of --ocr); the median is reported
	Concurrency int           // submitters at once in the throughput phase
	Rate        float64       // offered tips/s in the latency phase
	RateClients int           // clients sharing the latency phase's rate; 0: a request per tip
	Duration    time.Duration // length of the latency phase
	Size        int           // bytes of Chinese text per tip
	AttachKB    int           // a recording of this many KiB with each tip; 0: JSON tips
	Partitions  int           // partitions of the topics, as tipline serve --partitions
	DataDir     string        // data folder; empty: a temporary one, removed afterwards
	CPUProfile  string        // write a CPU profile of the run here
	MemProfile  string        // write an allocation profile of the run here

	IMAPAddr     string // measure e-mail from this IMAP server (no TLS) instead; its INBOX is emptied first
	IMAPUser     string
	IMAPPassword string
	Messages     int // messages of the e-mail throughput phase

	OCR        bool   // measure OCR of scanned letters instead
	OCRPages   int    // pages per OCR run
	OCRScans   string // clean, degraded or all
	OCRWorkers int    // OCR workers, and as many Tesseracts side by side by hand

	Search      bool // measure search instead, on an index filled directly
	SearchTips  int  // synthetic tips in that index
	Queries     int  // timed calls of each kind, after a warm-up
	SearchBatch int  // tips per index batch while building it
}

// Validate says what is wrong in c before anything runs.
func (c Config) Validate() error {
	if c.OCR && c.OCRScans != "all" && c.OCRScans != "clean" && c.OCRScans != "degraded" {
		return fmt.Errorf("--ocr-scans must be clean, degraded or all, not %q", c.OCRScans)
	}
	if c.Search && c.SearchTips < 1 {
		return errors.New("bench --search: --search-tips must be at least 1")
	}
	return nil
}

// Run measures what b says and writes the report to out.
func Run(ctx context.Context, b Config, out io.Writer) error {
	if err := b.Validate(); err != nil {
		return err
	}
	if b.CPUProfile != "" {
		f, err := os.Create(b.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if b.MemProfile != "" {
		defer func() {
			if f, err := os.Create(b.MemProfile); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	dir := b.DataDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "tipline-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	tr := &tracker{indexed: map[string]time.Time{}, texts: map[string]time.Time{}, changed: make(chan struct{}, 1)}
	switch {
	case b.IMAPAddr != "":
		return benchEmail(ctx, b, dir, tr, out)
	case b.OCR:
		return benchOCR(ctx, b, dir, tr, out)
	case b.Search:
		return benchSearch(ctx, b, dir, out)
	}
	return benchSubmit(ctx, b, dir, tr, out)
}

func withTimeout(ctx context.Context, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(ctx, d)
	context.AfterFunc(ctx, cancel)
	return ctx
}
