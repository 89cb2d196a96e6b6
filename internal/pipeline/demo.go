package pipeline

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/internal/sample"
	"github.com/tipline/tipline/internal/tip"
)

// loadDemo submits the demo tips (internal/sample) as their channels would have, once at start
// into an empty index. A failure is logged and stops nothing: the demo is a convenience.
func (r *run) loadDemo(ctx context.Context) error {
	if err := submitDemo(ctx, r.submitter, r.cfg.Demo); err != nil {
		r.log.Error("demo tips not loaded", "err", err)
		return nil
	}
	r.log.Info("demo tips loaded", "tips", r.cfg.Demo)
	return nil
}

// submitDemo submits n demo tips.
func submitDemo(ctx context.Context, sub *ingest.Submitter, n int) error {
	ids := tip.NewIDs()
	for i, d := range sample.Demo(n, time.Now().UTC()) {
		s := ingest.Submission{ID: ids.New(d.At), ReceivedAt: d.At, Source: d.Source, SourceRef: d.Ref, Text: d.Text,
			Reporter: tip.Reporter{Anonymous: true}, OCR: d.OCR,
			Original: ingest.File{Name: "demo.txt", MediaType: "text/plain; charset=utf-8", Body: strings.NewReader(d.Text)}}
		if d.Office != "" {
			s.Office, s.Routing = d.Office, tip.Routing{Reason: tip.RouteForm, Detail: string(d.Office)}
		}
		if _, err := sub.Submit(ctx, s); err != nil {
			return fmt.Errorf("demo tip %d: %w", i, err)
		}
	}
	return nil
}
