package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/ingest/email"
	"github.com/tipline/tipline/ingest/letter"
	"github.com/tipline/tipline/ingest/ocr"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
)

func ingestCommand() *ffcli.Command {
	fs := flag.NewFlagSet("tipline ingest email", flag.ContinueOnError)
	var sf stageFlags
	var configPath string
	var mf mailboxFlags
	sf.register(fs)
	fs.StringVar(&configPath, "config", "", "YAML file listing several mailboxes")
	mf.register(fs)
	emailCmd := &ffcli.Command{
		Name:       "email",
		ShortUsage: "tipline ingest email --kafka HOST:PORT (--imap-addr ... | --config FILE) [flags]",
		ShortHelp:  "read IMAP mailboxes into tips, as a stage of its own",
		FlagSet:    fs,
		Options:    envOptions(),
		Exec: func(ctx context.Context, _ []string) error {
			boxes, err := mailboxes(mf, configPath)
			if err != nil {
				return err
			}
			if len(boxes) == 0 {
				return errors.New("no mailbox: give --imap-addr or a --config file with mailboxes")
			}
			return runEmail(ctx, sf, boxes)
		},
	}
	return &ffcli.Command{
		Name:        "ingest",
		ShortUsage:  "tipline ingest email|letters [flags]",
		ShortHelp:   "run one ingestion channel on its own",
		FlagSet:     flag.NewFlagSet("tipline ingest", flag.ContinueOnError),
		Subcommands: []*ffcli.Command{emailCmd, lettersCommand()},
		Exec:        func(context.Context, []string) error { return flag.ErrHelp },
	}
}

// stageFlags are what every stage run on its own needs.
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

// stageRuntime is what a stage on its own runs with: bus, metrics and ops listener.
type stageRuntime struct {
	busCfg bus.Config
	writer *bus.Writer
	reg    *prometheus.Registry
	log    *slog.Logger
	close  func()
}

// open connects to Kafka and starts the ops listener; /readyz also asks ready.
func (f *stageFlags) open(ctx context.Context, name string, ready func(context.Context) error) (*stageRuntime, error) {
	log, err := f.log.logger()
	if err != nil {
		return nil, err
	}
	brokers := splitList(f.kafka)
	if len(brokers) == 0 {
		return nil, errors.New("--kafka is required: a stage on its own talks to a Kafka cluster (tipline serve runs everything with an embedded broker)")
	}
	rt := &stageRuntime{busCfg: bus.Config{Brokers: brokers}, reg: newRegistry(), log: log}
	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := bus.EnsureTopics(startCtx, rt.busCfg, f.topics.OCR, f.topics.Raw, f.topics.DLQ); err != nil {
		return nil, fmt.Errorf("kafka at %v: %w", brokers, err)
	}
	rt.writer = bus.NewWriter(rt.busCfg)
	closeWriter := closeLogged(log, "kafka writer", rt.writer.Close)
	ln, err := net.Listen("tcp", f.opsAddr)
	if err != nil {
		closeWriter()
		return nil, fmt.Errorf("listen ops (%s): %w", f.opsAddr, err)
	}
	ops := serve(ln, opsHandler(rt.reg, func(ctx context.Context) error {
		return errors.Join(bus.Ping(ctx, rt.busCfg), ready(ctx))
	}), log)
	rt.close = func() {
		shutdown(ops, 5*time.Second, log)
		closeWriter()
	}
	fmt.Fprintf(os.Stdout, "tipline %s is running\n  metrics: %s/metrics\n", name, baseURL(ln))
	return rt, nil
}

// openArchive opens the archive under --data-dir, which a stage on its own holds alone.
func (f *stageFlags) openArchive() (*archive.Local, error) {
	return archive.OpenLocal(filepath.Join(f.dataDir, "archive"))
}

func lettersCommand() *ffcli.Command {
	fs := flag.NewFlagSet("tipline ingest letters", flag.ContinueOnError)
	var sf stageFlags
	var dir string
	sf.register(fs)
	fs.StringVar(&dir, "letters-dir", "", "watched folder of scanned letters (required)")
	return &ffcli.Command{
		Name:       "letters",
		ShortUsage: "tipline ingest letters --kafka HOST:PORT --letters-dir DIR [flags]",
		ShortHelp:  "watch the letters folder on its own: archive each scan and queue it for OCR",
		FlagSet:    fs,
		Options:    envOptions(),
		Exec: func(ctx context.Context, _ []string) error {
			if dir == "" {
				return errors.New("--letters-dir is required")
			}
			arc, err := sf.openArchive()
			if err != nil {
				return err
			}
			rt, err := sf.open(ctx, "ingest letters", func(context.Context) error { return arc.Check() })
			if err != nil {
				arc.Close()
				return err
			}
			defer rt.close()
			defer closeLogged(rt.log, "archive", arc.Close)()
			sub := ingest.NewSubmitter(arc, rt.writer, sf.topics.Raw, newMetrics(rt.reg)).WithOCR(sf.topics.OCR)
			in, err := letter.NewIntake(letter.Config{}, sub, arc, metrics.NewOCR(rt.reg), rt.log.With("stage", "letters"))
			if err != nil {
				return err
			}
			w, err := letter.NewWatcher(letter.WatcherConfig{Dir: dir}, in, rt.log.With("stage", "letters"))
			if err != nil {
				return err
			}
			err = w.Run(ctx)
			rt.log.Info("stopped")
			return err
		},
	}
}

func ocrCommand() *ffcli.Command {
	fs := flag.NewFlagSet("tipline ocr", flag.ContinueOnError)
	var sf stageFlags
	var workers int
	var groupPrefix string
	var grace time.Duration
	sf.register(fs)
	fs.IntVar(&workers, "ocr-workers", 0, "Tesseract processes at once (0: one per CPU)")
	fs.StringVar(&groupPrefix, "group-prefix", "tipline", "consumer group names are <prefix>-ocr")
	fs.DurationVar(&grace, "shutdown-grace", 2*time.Minute, "how long the pages being read may take to finish after SIGTERM")
	return &ffcli.Command{
		Name:       "ocr",
		ShortUsage: "tipline ocr --kafka HOST:PORT [flags]",
		ShortHelp:  "run OCR workers on their own: read scans and screenshots, pass the tips on to classification",
		FlagSet:    fs,
		Options:    envOptions(),
		Exec: func(ctx context.Context, _ []string) error {
			// The scans are files in the archive of the process that took them in (the same
			// --data-dir, or a shared mount of it); the OCR stage only reads them.
			blobs, err := archive.OpenFiles(filepath.Join(sf.dataDir, "archive"))
			if err != nil {
				return err
			}
			tess := ocr.Tesseract{}
			rt, err := sf.open(ctx, "ocr", func(ctx context.Context) error { return errors.Join(blobs.Check(), tess.Check(ctx)) })
			if err != nil {
				return err
			}
			defer rt.close()
			m := newMetrics(rt.reg)
			om := metrics.NewOCR(rt.reg)
			cfg := pipelineConfig{Topics: sf.topics, GroupPrefix: groupPrefix, OCRWorkers: workers, ShutdownGrace: grace}
			onDead := func(stage, reason string) { m.DeadLettered.WithLabelValues(stage, reason).Inc() }
			stage, err := newOCRStage(ctx, cfg, rt.busCfg, rt.writer, blobs, om, rt.log, onDead)
			if err != nil {
				return err
			}
			go watchLag(ctx, rt.busCfg, groupPrefix+"-ocr", sf.topics.OCR, om.QueueDepth, nil)
			err = stage.Run(ctx)
			rt.log.Info("stopped")
			return err
		},
	}
}

// runEmail runs the e-mail stage alone until ctx is cancelled.
func runEmail(ctx context.Context, sf stageFlags, boxes []email.Config) error {
	arc, err := sf.openArchive()
	if err != nil {
		return err
	}
	rt, err := sf.open(ctx, fmt.Sprintf("ingest email (%d mailboxes)", len(boxes)), func(context.Context) error { return arc.Check() })
	if err != nil {
		arc.Close()
		return err
	}
	defer rt.close()
	defer closeLogged(rt.log, "archive", arc.Close)()
	var names []string
	for _, b := range boxes {
		names = append(names, b.Name)
	}
	em := metrics.NewEmail(rt.reg, names)
	sub := ingest.NewSubmitter(arc, rt.writer, sf.topics.Raw, newMetrics(rt.reg)).WithOCR(sf.topics.OCR)
	var wg sync.WaitGroup
	for _, b := range boxes {
		mb, err := email.NewMailbox(b, sub, arc, em, rt.log.With("stage", "email"))
		if err != nil {
			return err
		}
		wg.Go(func() { _ = mb.Run(ctx) })
	}
	wg.Wait()
	rt.log.Info("stopped")
	return nil
}
