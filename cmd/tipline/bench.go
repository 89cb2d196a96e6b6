package main

import (
	"context"
	"os"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tipline/tipline/cmd/tipline/bench"
)

// benchCommand is tipline bench: the flags of cmd/tipline/bench's Config.
func benchCommand() *ffcli.Command {
	fs := newFlags("bench")
	var b bench.Config
	var kafka string
	fs.StringVar(&kafka, "kafka", "", "comma-separated Kafka brokers; empty runs on the embedded broker")
	fs.IntVar(&b.Tips, "tips", 5000, "tips submitted as fast as possible for the throughput phase")
	fs.IntVar(&b.Concurrency, "concurrency", 128, "concurrent submitters in the throughput phase")
	fs.IntVar(&b.Runs, "runs", 3, "repetitions of the throughput phase; the median is reported")
	fs.Float64Var(&b.Rate, "rate", 100, "offered rate (tips/s) in the latency phase")
	fs.DurationVar(&b.Duration, "duration", 20*time.Second, "length of the latency phase")
	fs.IntVar(&b.RateClients, "rate-clients", 0, "clients that share the latency phase's --rate, each sending its next tip on schedule or, when late, as soon as its last one was answered (latency counted from the scheduled time); 0: a new request for every tip")
	fs.IntVar(&b.Size, "size", 1024, "bytes of Chinese text per tip")
	fs.IntVar(&b.AttachKB, "attachment-kb", 0, "attach a recording of this many KiB to each tip (multipart), unique per tip; 0: JSON tips without files")
	fs.IntVar(&b.Partitions, "partitions", 0, "partitions of the topics, as tipline serve --partitions")
	fs.StringVar(&b.DataDir, "data-dir", "", "data folder (default: a temporary folder, removed afterwards)")
	fs.StringVar(&b.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	fs.StringVar(&b.MemProfile, "memprofile", "", "write an allocation profile of the run to this file")
	fs.StringVar(&b.IMAPAddr, "imap-addr", "", "IMAP server (host:port, no TLS) to measure e-mail ingestion instead; its INBOX is emptied first")
	fs.StringVar(&b.IMAPUser, "imap-user", "", "IMAP user for --imap-addr (password: TIPLINE_IMAP_PASSWORD)")
	fs.IntVar(&b.Messages, "messages", 500, "messages delivered for the e-mail throughput phase")
	fs.BoolVar(&b.OCR, "ocr", false, "measure OCR of scanned letters instead: seconds per page, error rate, pages/min, overhead over Tesseract by hand")
	fs.IntVar(&b.OCRPages, "ocr-pages", 24, "pages per run for --ocr: the sample letters in turn, each in the next variant of --ocr-scans")
	fs.StringVar(&b.OCRScans, "ocr-scans", "all", "variants for --ocr: clean (PNG, TIFF), degraded (skewed, speckled, low-quality JPEG, phone photo) or all")
	fs.IntVar(&b.OCRWorkers, "ocr-workers", 2, "OCR workers for --ocr, and as many Tesseracts side by side by hand")
	fs.BoolVar(&b.Search, "search", false, "measure search instead, on an index filled directly (no Kafka, no pipeline): two-term searches with facets and highlights, the same by a district's analyst, related tips; index size and heap")
	fs.IntVar(&b.SearchTips, "search-tips", 1000000, "synthetic tips in the index for --search; an index in --data-dir with at least as many is reused")
	fs.IntVar(&b.Queries, "queries", 2000, "timed calls of each kind for --search, after a warm-up")
	fs.IntVar(&b.SearchBatch, "search-batch", 1000, "tips per index batch while --search builds its index")
	return command(fs, withEnv, about{usage: "tipline bench [flags]",
		short: "measure ingest and end-to-end throughput, and submit→searchable latency at a fixed rate",
		long: "Runs the whole pipeline in this process (as tipline serve does) and submits tips through\n" +
			"its HTTP API. Phase 1 submits --tips tips with --concurrency submitters and reports tips/s\n" +
			"acknowledged (201) and tips/s searchable. Phase 2 offers --rate tips/s for --duration and\n" +
			"reports the percentiles of the time from sending a tip to its being searchable.\n" +
			"--ocr, --imap-addr and --search measure OCR, e-mail ingestion and search instead."},
		func(ctx context.Context, _ []string) error {
			b.Kafka = splitList(kafka)
			b.IMAPPassword = os.Getenv("TIPLINE_IMAP_PASSWORD")
			return bench.Run(ctx, b, os.Stdout)
		})
}
