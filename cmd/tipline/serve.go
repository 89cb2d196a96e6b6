package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/pipeline"
)

// defaultOpsAddr keeps the metrics (volumes per office and category) and the health checks on
// loopback: deployments that scrape them from elsewhere say so with --ops-addr :8082 or
// TIPLINE_OPS_ADDR, as deploy/ does.
const defaultOpsAddr = "127.0.0.1:8082"

// printListeners tells the operator where tipline serve answers.
func printListeners(u pipeline.URLs) {
	fmt.Fprintln(os.Stdout, "tipline is running")
	if u.Public != "" {
		fmt.Fprintf(os.Stdout, "  report page:    %[1]s/  (API: POST %[1]s/api/v1/tips)\n", u.Public)
	}
	if u.Analyst != "" {
		fmt.Fprintf(os.Stdout, "  analyst desk:   %s/search\n", u.Analyst)
		fmt.Fprintf(os.Stdout, "  search API:     %s/api/v1/search?q=\n", u.Analyst)
	}
	fmt.Fprintf(os.Stdout, "  metrics:        %s/metrics  (health: /healthz, /readyz)\n", u.Ops)
}

// runPipeline runs the process cfg describes until ctx is cancelled; started is told where it
// listens.
func runPipeline(ctx context.Context, cfg pipeline.Config, log *slog.Logger, started func(pipeline.URLs)) error {
	p, err := pipeline.New(cfg, log, pipeline.Hooks{Started: started})
	if err != nil {
		return err
	}
	return p.Run(ctx)
}

// registerPublicFlags adds the flags of the citizens' listener to fs.
func registerPublicFlags(fs *flag.FlagSet, p *pipeline.PublicConfig) {
	fs.StringVar(&p.KeysDir, "keys-dir", "", "folder with the offices' public keys <office>.pub that reporters' identities are sealed for (default <data-dir>/keys, created with every key pair on first start; see tipline keys init)")
	fs.StringVar(&p.TLSCert, "tls-cert", "", "certificate (PEM) for HTTPS on the public listener; without it, put a reverse proxy with HTTPS in front")
	fs.StringVar(&p.TLSKey, "tls-key", "", "private key (PEM) of --tls-cert")
	fs.StringVar(&p.TrustedProxies, "trusted-proxies", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed")
	fs.BoolVar(&p.LogClientIP, "log-client-ip", false, "write client addresses into log lines (off: citizens' addresses are never logged)")
	fs.DurationVar(&p.SubmitEvery, "public-submit-every", 2*time.Second, "per client address: one submission (tip or addition) every this long after the burst")
	fs.IntVar(&p.SubmitBurst, "public-submit-burst", 30, "per client address: submissions allowed at once")
	fs.DurationVar(&p.ReceiptEvery, "public-receipt-every", 6*time.Second, "per client address: one receipt look-up every this long after the burst")
	fs.IntVar(&p.ReceiptBurst, "public-receipt-burst", 10, "per client address: receipt look-ups allowed at once")
	fs.Int64Var(&p.UploadMBHour, "public-upload-mb-per-hour", 512, "per client address: MiB of submissions (files included) per hour, counted as they stream; over it, 429 (negative: no budget)")
	fs.Int64Var(&p.MaxFileMB, "max-file-mb", 32, "largest file a citizen may upload, in MiB")
	fs.Int64Var(&p.MaxUploadMB, "max-upload-mb", 100, "largest whole submission with its files, in MiB")
	fs.DurationVar(&p.UploadTimeout, "upload-timeout", 30*time.Minute, "how long one public request, upload included, may take (phones on slow networks)")
}

func serveCommand() *ffcli.Command {
	fs := newFlags("serve")
	var cfg pipeline.Config
	var lf logFlags
	var kafka, configPath, roles string
	var mf mailboxFlags
	def := bus.DefaultTopics()
	fs.StringVar(&cfg.DataDir, "data-dir", "data", "folder for the archive, the index and the embedded broker")
	fs.StringVar(&kafka, "kafka", "", "comma-separated Kafka brokers host:port; empty starts the embedded single-node broker")
	fs.StringVar(&cfg.PublicAddr, "public-addr", ":8080", "listen address of the citizens' API")
	fs.StringVar(&cfg.AnalystAddr, "analyst-addr", "127.0.0.1:8081", "listen address of the analysts' search API (loopback only until accounts exist)")
	fs.BoolVar(&cfg.AnalystRemote, "analyst-allow-remote", false, "let --analyst-addr listen beyond loopback; only where a NetworkPolicy or firewall admits nobody but analysts, until accounts exist")
	fs.StringVar(&cfg.OpsAddr, "ops-addr", defaultOpsAddr, "listen address of /metrics, /healthz and /readyz (loopback unless told otherwise: :8082 where Prometheus scrapes from elsewhere)")
	fs.StringVar(&cfg.Topics.OCR, "topic-ocr", def.OCR, "topic of tips waiting for OCR (scans, screenshots)")
	fs.StringVar(&cfg.Topics.Raw, "topic-raw", def.Raw, "topic of ingested tips")
	fs.StringVar(&cfg.Topics.Classified, "topic-classified", def.Classified, "topic of classified tips")
	fs.StringVar(&cfg.Topics.DLQ, "topic-dlq", def.DLQ, "dead-letter topic")
	fs.IntVar(&cfg.Partitions, "partitions", 0, "partitions of the topics tipline creates, bounding how many instances of a stage share the work (0: 1 on the embedded broker, 6 on a cluster)")
	fs.IntVar(&cfg.ReplicationFactor, "replication-factor", 1, "replication factor of the topics tipline creates (3 on a real cluster)")
	fs.StringVar(&cfg.GroupPrefix, "group-prefix", "tipline", "prefix of the consumer group names (<prefix>-classify, <prefix>-index)")
	fs.StringVar(&cfg.Rules, "rules", "", "classifier rules file (default: the embedded rules); reloaded when it changes or on SIGHUP")
	fs.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", 30*time.Second, "how long in-flight work may take to finish after SIGTERM")
	fs.StringVar(&cfg.LettersDir, "letters-dir", "", "watched folder of scanned letters (PNG, JPEG, TIFF, PDF); processed files go to done/ or failed/")
	fs.IntVar(&cfg.OCRWorkers, "ocr-workers", 0, "Tesseract processes at once (0: one per CPU)")
	fs.IntVar(&cfg.Demo, "demo", 0, "load this many demo tips (written for tipline: every office, category and channel, with shared apps, numbers and accounts) when the index is empty; try 300")
	fs.StringVar(&roles, "roles", "", "run only these parts, comma-separated: public, classify, index, ocr, letters, email (default: all); several processes need --kafka")
	fs.StringVar(&configPath, "config", "", "YAML file with settings beyond the flags: several mailboxes (see docs/channels.md, \"E-mail\")")
	mf.register(fs)
	registerPublicFlags(fs, &cfg.Public)
	lf.register(fs)
	return command(fs, withEnv, about{usage: "tipline serve [flags]", short: "run every stage in one process (the embedded broker unless --kafka is set)"},
		func(ctx context.Context, _ []string) error {
			log, err := lf.logger()
			if err != nil {
				return err
			}
			cfg.Kafka, cfg.Roles = splitList(kafka), splitList(roles)
			if cfg.Mailboxes, err = mailboxes(mf, configPath); err != nil {
				return err
			}
			return runPipeline(ctx, cfg, log, printListeners)
		})
}
