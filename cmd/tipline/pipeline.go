package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tipline/tipline/classify"
	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/index/desk"
	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/ingest/email"
	"github.com/tipline/tipline/ingest/letter"
	"github.com/tipline/tipline/ingest/ocr"
	"github.com/tipline/tipline/ingest/webform"
	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/audit"
	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/sample"
	"github.com/tipline/tipline/internal/throttle"
	"github.com/tipline/tipline/internal/tip"
)

// pipelineConfig is everything "tipline serve" runs with.
type pipelineConfig struct {
	DataDir           string
	Kafka             []string // empty: embedded broker
	PublicAddr        string
	AnalystAddr       string
	OpsAddr           string
	Topics            bus.Topics
	Partitions        int
	ReplicationFactor int
	GroupPrefix       string
	ShutdownGrace     time.Duration
	Rules             string // rules file; empty: the embedded rules
	Mailboxes         []email.Config
	LettersDir        string // watched folder of scans; empty: none
	OCRWorkers        int    // Tesseract processes at once (default: one per CPU)
	Public            publicConfig
	Roles             []string // which parts this process runs; empty: all (see roles)
	AnalystRemote     bool     // let the analyst API listen beyond loopback (behind a NetworkPolicy)
	Demo              int      // load this many demo tips when the index is empty (tipline serve --demo)

	// onIndexed, if set, sees every batch once it is searchable (the bench uses it).
	onIndexed func(tips []*tip.Tip, at time.Time)
}

// The parts of tipline one process can run; "tipline serve" runs them all unless --roles says
// otherwise, so a cluster runs the same binary as one service per part.
const (
	rolePublic   = "public"   // the citizens' page and API, with its archive
	roleClassify = "classify" // tips.raw → tips.classified
	roleIndex    = "index"    // tips.classified → the index, the search API, the reconciler
	roleOCR      = "ocr"      // tips.ocr → tips.raw
	roleLetters  = "letters"  // the letters folder and the mail room's upload
	roleEmail    = "email"    // the mailboxes
)

var allRoles = []string{rolePublic, roleClassify, roleIndex, roleOCR, roleLetters, roleEmail}

func (c pipelineConfig) roles() map[string]bool {
	names := c.Roles
	if len(names) == 0 {
		names = allRoles
	}
	out := map[string]bool{}
	for _, r := range names {
		out[r] = true
	}
	return out
}

func (c pipelineConfig) validate() error {
	if c.DataDir == "" {
		return errors.New("--data-dir is required")
	}
	for _, r := range c.Roles {
		if !slices.Contains(allRoles, r) {
			return fmt.Errorf("--roles: unknown role %q (roles: %s)", r, strings.Join(allRoles, ", "))
		}
	}
	if len(c.Roles) > 0 && len(c.Kafka) == 0 {
		return errors.New("--roles splits tipline into several processes, which need a Kafka cluster (--kafka)")
	}
	host, _, err := net.SplitHostPort(c.AnalystAddr)
	if err != nil {
		return fmt.Errorf("--analyst-addr: %w", err)
	}
	// The analyst API has no accounts yet: it must not be reachable from other machines.
	if ip := net.ParseIP(host); !c.AnalystRemote && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--analyst-addr %q: the analyst API has no authentication yet, so it only binds to a loopback address such as 127.0.0.1 unless --analyst-allow-remote is set", c.AnalystAddr)
	}
	for _, t := range c.Topics.All() {
		if t == "" {
			return errors.New("topic names must not be empty")
		}
	}
	return nil
}

// pipeline is one running all-in-one tipline.
type pipeline struct {
	publicURL, analystURL, opsURL string
}

// runPipeline starts every stage, calls started, and runs until ctx is cancelled; then it stops
// taking tips, lets in-flight work finish and commit, and closes everything in order.
func runPipeline(ctx context.Context, cfg pipelineConfig, log *slog.Logger, started func(*pipeline)) (err error) {
	if err := cfg.validate(); err != nil {
		return err
	}
	var closers []func() // run in reverse on the way out
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}()

	roles := cfg.roles()
	var arc *archive.Local
	if roles[rolePublic] || roles[roleLetters] || roles[roleEmail] {
		if arc, err = archive.OpenLocal(filepath.Join(cfg.DataDir, "archive")); err != nil {
			return err
		}
		closers = append(closers, closeLogged(log, "archive", arc.Close))
	}
	var idx *index.Index
	if roles[roleIndex] {
		if idx, err = index.Open(filepath.Join(cfg.DataDir, "index")); err != nil {
			return err
		}
		closers = append(closers, closeLogged(log, "index", idx.Close))
		if idx.Outdated() {
			log.Warn("the index was built by an older tipline: searches answer, but facet counts and the date histogram stay empty until it is rebuilt; run tipline reindex")
		}
	}

	busCfg := bus.Config{Brokers: cfg.Kafka, Partitions: cfg.Partitions, ReplicationFactor: cfg.ReplicationFactor}
	if len(cfg.Kafka) == 0 {
		// One process consumes each topic, so more partitions would buy no parallelism, and
		// the embedded broker fsyncs every partition's batch separately.
		if busCfg.Partitions == 0 {
			busCfg.Partitions = 1
		}
		dir := filepath.Join(cfg.DataDir, "kafka")
		broker, err := bus.StartEmbedded(dir)
		if err != nil {
			return err
		}
		closers = append(closers, broker.Close)
		broker.LogStart(log, dir)
		busCfg.Brokers = broker.Brokers()
	}
	if err := busCfg.Validate(); err != nil {
		return err
	}
	startCtx, cancelStart := context.WithTimeout(ctx, 60*time.Second)
	defer cancelStart()
	if err := bus.EnsureTopics(startCtx, busCfg, cfg.Topics.All()...); err != nil {
		return fmt.Errorf("kafka at %v: %w", busCfg.Brokers, err)
	}
	writer := bus.NewWriter(busCfg)
	closers = append(closers, closeLogged(log, "kafka writer", writer.Close))

	reg := newRegistry()
	m := newMetrics(reg)
	sizes := metrics.NewSizes(reg, func() (uint64, error) {
		if idx == nil {
			return 0, nil
		}
		return idx.Count()
	})

	// Listeners first, so a taken port fails the start before any stage runs.
	lns := map[string]net.Listener{}
	addrs := map[string]string{"ops": cfg.OpsAddr}
	if roles[rolePublic] {
		addrs["public"] = cfg.PublicAddr
	}
	if roles[roleIndex] || roles[roleLetters] {
		addrs["analyst"] = cfg.AnalystAddr
	}
	for name, addr := range addrs {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return fmt.Errorf("listen %s (%s): %w", name, addr, err)
		}
		lns[name] = ln
	}

	var ready atomic.Bool
	opsMux := opsHandler(reg, func(ctx context.Context) error {
		var problems []error
		if !ready.Load() {
			problems = append(problems, errors.New("stages not started"))
		}
		if err := bus.Ping(ctx, busCfg); err != nil {
			problems = append(problems, err)
		}
		if arc != nil {
			if err := arc.Check(); err != nil {
				problems = append(problems, fmt.Errorf("archive: %w", err))
			}
		}
		if idx != nil {
			if _, err := idx.Count(); err != nil {
				problems = append(problems, fmt.Errorf("index: %w", err))
			}
		}
		return errors.Join(problems...)
	})
	opsSrv := serve(lns["ops"], opsMux, log)
	closers = append(closers, func() { shutdown(opsSrv, 5*time.Second, log) })

	onDead := func(stage, reason string) { m.DeadLettered.WithLabelValues(stage, reason).Inc() }
	consumer := func(stage, topic string, maxBatch int, linger time.Duration) (*bus.Consumer, error) {
		return bus.NewConsumer(bus.ConsumerConfig{Config: busCfg, Group: cfg.GroupPrefix + "-" + stage, Topic: topic,
			Stage: stage, DLQ: cfg.Topics.DLQ, Grace: cfg.ShutdownGrace, MaxBatch: maxBatch, Linger: linger}, writer, log, onDead)
	}
	var run []interface{ Run(context.Context) error }
	var classifier *classify.Stage
	places := classify.DefaultGazetteer()
	if roles[roleClassify] {
		classifyIn, err := consumer(metrics.StageClassify, cfg.Topics.Raw, 256, 5*time.Millisecond)
		if err != nil {
			return err
		}
		rules := classify.DefaultRules()
		if cfg.Rules != "" {
			if rules, err = classify.LoadRules(cfg.Rules); err != nil {
				return err
			}
		}
		classifier = classify.NewStage(classifyIn, writer, cfg.Topics.Classified, classify.New(rules, places), m, log.With("stage", "classify"))
		m.SetRulesVersion(rules.Version)
		run = append(run, classifier)
	}
	if roles[roleIndex] {
		// Every index batch is a segment that Bleve writes, fsyncs and later merges: fewer, larger
		// batches cost far less per tip, and 50ms is small beside the one-second latency goal.
		indexIn, err := consumer(metrics.StageIndex, cfg.Topics.Classified, 2000, 50*time.Millisecond)
		if err != nil {
			return err
		}
		deps := index.StageDeps{OnIndexed: cfg.onIndexed}
		if arc != nil {
			deps.Keep = kept{arc}
		}
		run = append(run, index.NewStage(indexIn, idx, deps, m, log.With("stage", "index")))
	}

	stageCtx, stopStages := context.WithCancel(context.WithoutCancel(ctx))
	defer stopStages()
	fatal := make(chan error, 4+len(cfg.Mailboxes))
	var stages sync.WaitGroup
	for _, st := range run {
		stages.Go(func() {
			if err := st.Run(stageCtx); err != nil {
				fatal <- err
			}
		})
	}
	if cfg.Rules != "" && classifier != nil {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		reloader, err := classify.NewReloader(classify.ReloaderConfig{Path: cfg.Rules}, classify.ReloaderDeps{Places: places, Now: hup,
			Apply: func(c *classify.Classifier) {
				classifier.Use(c)
				m.SetRulesVersion(c.RulesVersion())
			},
			Result: func(r string) { m.RulesReloads.WithLabelValues(r).Inc() }}, log.With("stage", "classify"))
		if err != nil {
			return err
		}
		stages.Go(func() {
			if err := reloader.Run(stageCtx); err != nil {
				fatal <- err
			}
		})
	}
	ready.Store(true)

	var submitter *ingest.Submitter
	if arc != nil {
		submitter = ingest.NewSubmitter(arc, writer, cfg.Topics.Raw, m).WithOCR(cfg.Topics.OCR)
	}
	var public *webform.Server
	if roles[rolePublic] {
		if public, err = newPublicServer(cfg, submitter, arc, m, log.With("api", "public")); err != nil {
			stopStages()
			stages.Wait()
			return err
		}
	}
	ocrMetrics := metrics.NewOCR(reg)
	if roles[roleOCR] {
		// Alone, the OCR part reads the scans from the ingest side's archive folder (a shared or
		// read-only mount), without opening its database, which one process holds.
		var blobs ocr.Blobs = arc
		if arc == nil {
			files, err := archive.OpenFiles(filepath.Join(cfg.DataDir, "archive"))
			if err != nil {
				return err
			}
			blobs = files
		}
		ocrStage, err := newOCRStage(ctx, cfg, busCfg, writer, blobs, ocrMetrics, log, onDead)
		if err != nil {
			return err
		}
		stages.Go(func() {
			if err := ocrStage.Run(stageCtx); err != nil {
				fatal <- err
			}
		})
	}
	// Each process watches the lag of the groups it runs; the OCR queue depth is the OCR group's.
	for _, w := range []struct {
		role, group, topic string
		total              prometheus.Gauge
	}{
		{roleOCR, "-ocr", cfg.Topics.OCR, ocrMetrics.QueueDepth},
		{roleClassify, "-classify", cfg.Topics.Raw, nil},
		{roleIndex, "-index", cfg.Topics.Classified, nil},
	} {
		if roles[w.role] {
			stages.Go(func() { watchLag(stageCtx, busCfg, cfg.GroupPrefix+w.group, w.topic, w.total, m.ConsumerLag) })
		}
	}
	indexDir := ""
	if idx != nil {
		indexDir = filepath.Join(cfg.DataDir, "index")
	}
	stages.Go(func() { watchSizes(stageCtx, arc, indexDir, sizes) })
	var intake *letter.Intake
	if roles[roleLetters] {
		if intake, err = letter.NewIntake(letter.Config{}, submitter, arc, ocrMetrics, log.With("stage", "letters")); err != nil {
			return err
		}
	}
	if roles[roleLetters] && cfg.LettersDir != "" {
		w, err := letter.NewWatcher(letter.WatcherConfig{Dir: cfg.LettersDir}, intake, log.With("stage", "letters"))
		if err != nil {
			return err
		}
		stages.Go(func() {
			if err := w.Run(stageCtx); err != nil {
				fatal <- err
			}
		})
	}
	var names []string
	for _, mc := range cfg.Mailboxes {
		names = append(names, mc.Name)
	}
	emailMetrics := metrics.NewEmail(reg, names)
	if !roles[roleEmail] {
		cfg.Mailboxes = nil
	}
	for _, mc := range cfg.Mailboxes {
		mb, err := email.NewMailbox(mc, submitter, arc, emailMetrics, log.With("stage", "email"))
		if err != nil {
			return err
		}
		log.Info("reading mailbox", "mailbox", mb.Name(), "office", metrics.OfficeLabel(mc.Office))
		stages.Go(func() {
			if err := mb.Run(stageCtx); err != nil {
				fatal <- err
			}
		})
	}
	if cfg.Demo > 0 && submitter != nil && idx != nil {
		if n, _ := idx.Count(); n == 0 {
			stages.Go(func() {
				if err := loadDemo(stageCtx, submitter, cfg.Demo); err != nil {
					log.Error("demo tips not loaded", "err", err)
					return
				}
				log.Info("demo tips loaded", "tips", cfg.Demo)
			})
		}
	}
	if arc != nil && idx != nil {
		stages.Go(func() {
			rec := ingest.NewReconciler(arc, idx, writer, submitter, m, log.With("stage", "reconcile"))
			if _, err := rec.Reconcile(stageCtx); err != nil && stageCtx.Err() == nil {
				log.Error("reconciling the archive with the index failed; it runs again at the next start", "err", err)
			}
		})
	}

	p := &pipeline{opsURL: baseURL(lns["ops"])}
	var analystSrv, publicSrv *http.Server
	if ln := lns["analyst"]; ln != nil {
		analystMux := http.NewServeMux()
		users, err := account.Open(usersPath(cfg.DataDir))
		if err != nil {
			return err
		}
		proxies, err := throttle.ParsePrefixes(cfg.Public.TrustedProxies)
		if err != nil {
			return fmt.Errorf("--trusted-proxies: %w", err)
		}
		gate := account.NewGate(users, account.NewSessions(30*time.Minute, 12*time.Hour), proxies)
		gate.Public = desk.PublicPath
		if idx != nil {
			auditLog, err := audit.Open(auditPath(cfg.DataDir))
			if err != nil {
				return fmt.Errorf("audit log: %w", err)
			}
			closers = append(closers, closeLogged(log, "audit log", auditLog.Close))
			deps := desk.Deps{Audit: auditLog}
			if arc != nil {
				feedback, err := os.OpenFile(filepath.Join(cfg.DataDir, "feedback.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
				if err != nil {
					return err
				}
				closers = append(closers, closeLogged(log, "feedback", feedback.Close))
				deps.Records, deps.Files, deps.Keeper = arc, arc, kept{arc}
				deps.Feedback, deps.Corrected, deps.Archived = feedback, m.Corrected, kept{arc}
			}
			if public != nil {
				deps.Intake = public.OfficerPages(account.NameOf)
			}
			analysts, err := desk.New(desk.Config{AuditPath: auditPath(cfg.DataDir)}, idx, gate, deps, log.With("api", "analyst"))
			if err != nil {
				return err
			}
			analysts.Register(analystMux)
		}
		if public != nil {
			analystMux.HandleFunc("POST /api/v1/intake", public.OfficerIntake(account.NameOf))
		}
		if roles[roleLetters] {
			letter.NewAPI(intake, log.With("api", "letters")).Register(analystMux)
			// Saved .eml files of an office's backlog (tipline import) come in beside the scans.
			email.NewAPI(email.NewIntake(email.Limits{}, submitter, arc), log.With("api", "import")).Register(analystMux)
		}
		// Nothing the analysts' side answers is kept in a cache, refusals included.
		analystSrv = serve(ln, desk.NoStore(gate.Wrap(analystMux)), log)
		p.analystURL = baseURL(ln)
	}
	if ln := lns["public"]; ln != nil {
		if publicSrv, err = servePublic(ln, public.Handler(), cfg.Public, log); err != nil {
			return err
		}
		p.publicURL = baseURL(ln)
		if cfg.Public.TLSCert != "" {
			p.publicURL = "https" + strings.TrimPrefix(p.publicURL, "http")
		}
	}

	started(p)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping: no new tips accepted; finishing in-flight work")
	case runErr = <-fatal:
		log.Error("a stage failed; stopping", "err", runErr)
	}
	// Stop taking tips first: requests in flight still finish their archive and publish.
	if publicSrv != nil {
		shutdown(publicSrv, cfg.ShutdownGrace, log)
	}
	if analystSrv != nil {
		shutdown(analystSrv, 5*time.Second, log)
	}
	ready.Store(false)
	stopStages()
	stages.Wait()
	log.Info("stopped")
	return runErr
}

// newOCRStage builds the OCR stage: its own consumer group, one Tesseract per worker.
func newOCRStage(ctx context.Context, cfg pipelineConfig, busCfg bus.Config, writer *bus.Writer, blobs ocr.Blobs,
	m *metrics.OCR, log *slog.Logger, onDead bus.DeadLetterObserver) (*ocr.Stage, error) {
	ocrCfg := ocr.Config{RawTopic: cfg.Topics.Raw, Workers: cfg.OCRWorkers}
	if err := ocrCfg.Validate(); err != nil {
		return nil, err
	}
	if err := ocrCfg.Reader.Tesseract.Check(ctx); err != nil {
		// Tips still flow: scans are marked for manual transcription until OCR works.
		log.Error("OCR is not available; scans and screenshots will be marked for manual transcription", "err", err)
	}
	in, err := bus.NewConsumer(bus.ConsumerConfig{Config: busCfg, Group: cfg.GroupPrefix + "-ocr", Topic: cfg.Topics.OCR,
		Stage: "ocr", DLQ: cfg.Topics.DLQ, Grace: cfg.ShutdownGrace}, writer, log, onDead)
	if err != nil {
		return nil, err
	}
	return ocr.New(ocrCfg, in, writer, blobs, letter.Addressee, m, log.With("stage", "ocr"))
}

// watchLag keeps the lag gauges of a consumer group on a topic current, every few seconds:
// per partition, and in total when total is not nil.
func watchLag(ctx context.Context, busCfg bus.Config, group, topic string, total prometheus.Gauge, perPartition *prometheus.GaugeVec) {
	for {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if lags, err := bus.PartitionLag(lctx, busCfg, group, topic); err == nil {
			var sum int64
			for p, l := range lags {
				sum += l
				if perPartition != nil {
					perPartition.WithLabelValues(group, topic, strconv.Itoa(p)).Set(float64(l))
				}
			}
			if total != nil {
				total.Set(float64(sum))
			}
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Second):
		}
	}
}

// watchSizes refreshes the archive and index size gauges every minute: walking a large archive
// at every scrape would cost more than the answer is worth.
func watchSizes(ctx context.Context, arc *archive.Local, indexDir string, s *metrics.Sizes) {
	for {
		if arc != nil {
			if objects, bytes, err := arc.Stats(); err == nil {
				s.ArchiveObjects.Set(float64(objects))
				s.ArchiveBytes.Set(float64(bytes))
			}
		}
		var size int64
		if indexDir != "" {
			_ = filepath.WalkDir(indexDir, func(_ string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if info, err := d.Info(); err == nil {
						size += info.Size()
					}
				}
				return nil
			})
		}
		s.IndexBytes.Set(float64(size))
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Minute):
		}
	}
}

// opsHandler serves /metrics, /healthz (the process runs) and /readyz (ready answers nil).
func opsHandler(reg *prometheus.Registry, ready func(context.Context) error) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

func closeLogged(log *slog.Logger, what string, close func() error) func() {
	return func() {
		if err := close(); err != nil {
			log.Error("closing "+what, "err", err)
		}
	}
}

func serve(ln net.Listener, h http.Handler, log *slog.Logger) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server failed", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return srv
}

func shutdown(srv *http.Server, grace time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("http server did not drain in time", "err", err)
	}
}

// baseURL turns a listener's address into a URL a person can open on this machine.
func baseURL(ln net.Listener) string {
	addr := ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// newMetrics registers tipline's metrics with the closed label lists that belong to other
// packages, so that every series exists from start at 0.
func newMetrics(reg prometheus.Registerer) *metrics.Metrics {
	return metrics.New(reg, metrics.Labels{RejectReasons: webform.RejectReasons(), DeadLetterReasons: bus.Reasons()})
}

// loadDemo submits n demo tips (internal/sample) as their channels would have.
func loadDemo(ctx context.Context, sub *ingest.Submitter, n int) error {
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
