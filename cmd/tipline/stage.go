package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/pipeline"
)

// stageFlags are what every stage run on its own needs (tipline ingest email, tipline ingest
// letters, tipline ocr): each runs one role of tipline serve --roles, against a cluster.
type stageFlags struct {
	dataDir, kafka, opsAddr string
	topics                  bus.Topics
	log                     logFlags
}

func (f *stageFlags) register(fs *flag.FlagSet) {
	def := bus.DefaultTopics()
	fs.StringVar(&f.dataDir, "data-dir", "data", "folder of the archive, shared with the other stages")
	fs.StringVar(&f.kafka, "kafka", "", "comma-separated Kafka brokers (required: a stage on its own talks to a cluster)")
	fs.StringVar(&f.opsAddr, "ops-addr", defaultOpsAddr, "listen address of /metrics, /healthz and /readyz (loopback unless told otherwise)")
	fs.StringVar(&f.topics.OCR, "topic-ocr", def.OCR, "topic of tips waiting for OCR")
	fs.StringVar(&f.topics.Raw, "topic-raw", def.Raw, "topic of ingested tips")
	fs.StringVar(&f.topics.DLQ, "topic-dlq", def.DLQ, "dead-letter topic")
	f.log.register(fs)
}

// runStage runs cfg's role on its own, as name, with the stage flags: the data folder, the
// cluster, the topics and the ops listener, and no other listener.
func (f *stageFlags) runStage(ctx context.Context, name, role string, cfg pipeline.Config) error {
	log, err := f.log.logger()
	if err != nil {
		return err
	}
	cfg.Kafka = splitList(f.kafka)
	if len(cfg.Kafka) == 0 {
		return errors.New("--kafka is required: a stage on its own talks to a Kafka cluster (tipline serve runs everything with an embedded broker)")
	}
	cfg.Roles, cfg.DataDir, cfg.OpsAddr, cfg.Topics = []string{role}, f.dataDir, f.opsAddr, f.topics
	return runPipeline(ctx, cfg, log, func(u pipeline.URLs) {
		fmt.Fprintf(os.Stdout, "tipline %s is running\n  metrics: %s/metrics\n", name, u.Ops)
	})
}
