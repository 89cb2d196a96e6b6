package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/pipeline"
	"github.com/tipline/tipline/internal/tip"
)

// tracker records when each tip became searchable.
type tracker struct {
	mu      sync.Mutex
	indexed map[string]time.Time
	texts   map[string]time.Time // e-mail tips by text, which carries the bench's marker
	changed chan struct{}
}

func (tr *tracker) observe(tips []*tip.Tip, at time.Time) {
	tr.mu.Lock()
	for _, t := range tips {
		if _, ok := tr.indexed[t.ID]; !ok {
			tr.indexed[t.ID] = at
			if t.Source == tip.SourceEmail {
				tr.texts[t.Text] = at
			}
		}
	}
	tr.mu.Unlock()
	select {
	case tr.changed <- struct{}{}:
	default:
	}
}

// waitAll waits until every id is searchable and returns when the last one became so.
func (tr *tracker) waitAll(ctx context.Context, ids []string) (time.Time, error) {
	for {
		tr.mu.Lock()
		var last time.Time
		missing := 0
		for _, id := range ids {
			at, ok := tr.indexed[id]
			if !ok {
				missing++
			} else if at.After(last) {
				last = at
			}
		}
		tr.mu.Unlock()
		if missing == 0 {
			return last, nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("%d tips not searchable: %w", missing, ctx.Err())
		case <-tr.changed:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// pipelineConfig is the pipeline a bench runs in this process, on fresh topics when it talks to
// a Kafka cluster so that earlier runs' tips do not count.
func (b Config) pipelineConfig(dir string) pipeline.Config {
	run := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	topics := bus.DefaultTopics()
	if len(b.Kafka) > 0 {
		topics = bus.Topics{OCR: run + ".ocr", Raw: run + ".raw", Classified: run + ".classified", DLQ: run + ".dlq"}
	}
	return pipeline.Config{DataDir: dir, Kafka: b.Kafka, PublicAddr: "127.0.0.1:0", AnalystAddr: "127.0.0.1:0",
		OpsAddr: "127.0.0.1:0", Topics: topics, Partitions: b.Partitions, ReplicationFactor: 1, GroupPrefix: run,
		ShutdownGrace: 30 * time.Second,
		// Every submitter is 127.0.0.1 here: the per-address limits would measure themselves.
		Public: pipeline.PublicConfig{SubmitEvery: time.Nanosecond, SubmitBurst: 1 << 30, ReceiptEvery: time.Nanosecond, ReceiptBurst: 1 << 30, UploadMBHour: -1}}
}

// startBenchPipeline runs the pipeline in this process until stop is called; tr sees every tip
// once it is searchable.
func startBenchPipeline(ctx context.Context, cfg pipeline.Config, tr *tracker) (pipeline.URLs, func() error, error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	started := make(chan pipeline.URLs, 1)
	p, err := pipeline.New(cfg, log, pipeline.Hooks{Started: func(u pipeline.URLs) { started <- u }, OnIndexed: tr.observe})
	if err != nil {
		return pipeline.URLs{}, nil, err
	}
	pipeCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(pipeCtx) }()
	select {
	case u := <-started:
		var once sync.Once
		var err error
		return u, func() error {
			once.Do(func() {
				cancel()
				err = <-done
			})
			return err
		}, nil
	case err := <-done:
		cancel()
		return pipeline.URLs{}, nil, err
	}
}
