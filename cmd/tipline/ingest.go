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

	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/ingest/email"
	"github.com/tipline/tipline/ingest/webform"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
)

func ingestCommand() *ffcli.Command {
	fs := flag.NewFlagSet("tipline ingest email", flag.ContinueOnError)
	var dataDir, kafka, opsAddr, topicRaw, configPath string
	var mf mailboxFlags
	var lf logFlags
	fs.StringVar(&dataDir, "data-dir", "data", "folder of the archive (shared with the other stages, or the same S3 bucket later)")
	fs.StringVar(&kafka, "kafka", "", "comma-separated Kafka brokers (required: a stage on its own talks to a cluster)")
	fs.StringVar(&opsAddr, "ops-addr", ":8082", "listen address of /metrics, /healthz and /readyz")
	fs.StringVar(&topicRaw, "topic-raw", bus.DefaultTopics().Raw, "topic of ingested tips")
	fs.StringVar(&configPath, "config", "", "YAML file listing several mailboxes")
	mf.register(fs)
	lf.register(fs)
	emailCmd := &ffcli.Command{
		Name:       "email",
		ShortUsage: "tipline ingest email --kafka HOST:PORT (--imap-addr ... | --config FILE) [flags]",
		ShortHelp:  "read IMAP mailboxes into tips, as a stage of its own",
		FlagSet:    fs,
		Options:    envOptions(),
		Exec: func(ctx context.Context, _ []string) error {
			log, err := lf.logger()
			if err != nil {
				return err
			}
			boxes, err := mailboxes(mf, configPath)
			if err != nil {
				return err
			}
			if len(boxes) == 0 {
				return errors.New("no mailbox: give --imap-addr or a --config file with mailboxes")
			}
			brokers := splitList(kafka)
			if len(brokers) == 0 {
				return errors.New("--kafka is required: a stage on its own talks to a Kafka cluster (tipline serve runs everything with an embedded broker)")
			}
			return runEmail(ctx, dataDir, bus.Config{Brokers: brokers}, topicRaw, opsAddr, boxes, log)
		},
	}
	return &ffcli.Command{
		Name:        "ingest",
		ShortUsage:  "tipline ingest email [flags]",
		ShortHelp:   "run one ingestion channel on its own",
		FlagSet:     flag.NewFlagSet("tipline ingest", flag.ContinueOnError),
		Subcommands: []*ffcli.Command{emailCmd},
		Exec:        func(context.Context, []string) error { return flag.ErrHelp },
	}
}

// runEmail runs the e-mail stage alone until ctx is cancelled.
func runEmail(ctx context.Context, dataDir string, busCfg bus.Config, topicRaw, opsAddr string, boxes []email.Config, log *slog.Logger) error {
	arc, err := archive.OpenLocal(filepath.Join(dataDir, "archive"))
	if err != nil {
		return err
	}
	defer closeLogged(log, "archive", arc.Close)()
	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := bus.EnsureTopics(startCtx, busCfg, topicRaw); err != nil {
		return fmt.Errorf("kafka at %v: %w", busCfg.Brokers, err)
	}
	writer := bus.NewWriter(busCfg)
	defer closeLogged(log, "kafka writer", writer.Close)()

	reg := newRegistry()
	m := metrics.New(reg, webform.RejectReasons())
	var names []string
	for _, b := range boxes {
		names = append(names, b.Name)
	}
	em := metrics.NewEmail(reg, names)
	ln, err := net.Listen("tcp", opsAddr)
	if err != nil {
		return fmt.Errorf("listen ops (%s): %w", opsAddr, err)
	}
	ops := serve(ln, opsHandler(reg, func(ctx context.Context) error {
		return errors.Join(bus.Ping(ctx, busCfg), arc.Check())
	}), log)
	defer shutdown(ops, 5*time.Second, log)
	fmt.Fprintf(os.Stdout, "tipline ingest email is running (%d mailboxes)\n  metrics: %s/metrics\n", len(boxes), baseURL(ln))

	sub := ingest.NewSubmitter(arc, writer, topicRaw, m)
	stageCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	context.AfterFunc(ctx, stop)
	var wg sync.WaitGroup
	for _, b := range boxes {
		mb, err := email.NewMailbox(b, sub, arc, em, log.With("stage", "email"))
		if err != nil {
			return err
		}
		wg.Go(func() { _ = mb.Run(stageCtx) })
	}
	wg.Wait()
	log.Info("stopped")
	return nil
}
