package main

import (
	"context"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tipline/tipline/internal/pipeline"
)

func ocrCommand() *ffcli.Command {
	fs := newFlags("ocr")
	var sf stageFlags
	cfg := pipeline.Config{OCRRequired: true} // OCR is all this process does: no Tesseract, not ready
	sf.register(fs)
	fs.IntVar(&cfg.OCRWorkers, "ocr-workers", 0, "Tesseract processes at once (0: one per CPU)")
	fs.StringVar(&cfg.GroupPrefix, "group-prefix", "tipline", "consumer group names are <prefix>-ocr")
	fs.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", 2*time.Minute, "how long the pages being read may take to finish after SIGTERM")
	return command(fs, withEnv, about{usage: "tipline ocr --kafka HOST:PORT [flags]",
		short: "run OCR workers on their own: read scans and screenshots, pass the tips on to classification"},
		func(ctx context.Context, _ []string) error {
			// The scans are files in the archive of the process that took them in (the same
			// --data-dir, or a shared mount of it); the OCR stage only reads them.
			return sf.runStage(ctx, "ocr", pipeline.RoleOCR, cfg)
		})
}
