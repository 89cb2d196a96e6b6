package pipeline

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tipline/tipline/classify"
	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/ingest/email"
	"github.com/tipline/tipline/ingest/letter"
	"github.com/tipline/tipline/ingest/ocr"
	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
)

// buildStages builds what the roles run, nothing running yet: the consuming stages, the
// channels that are not listeners (the letters folder, the mailboxes), and their helpers.
func (r *run) buildStages(ctx context.Context) error {
	if r.arc != nil {
		r.submitter = ingest.NewSubmitter(r.arc, r.writer, r.cfg.Topics.Raw, r.m).WithOCR(r.cfg.Topics.OCR)
	}
	for _, b := range []struct {
		role  string
		build func(context.Context) error
	}{{RoleClassify, r.buildClassify}, {RoleIndex, r.buildIndex}, {RoleOCR, r.buildOCR}, {RoleLetters, r.buildLetters}, {RoleEmail, r.buildEmail}} {
		if !r.cfg.Runs(b.role) {
			continue
		}
		if err := b.build(ctx); err != nil {
			return err
		}
	}
	r.watch()
	return nil
}

// add makes run one of the process's stages (or their helpers), started by start.
func (r *run) add(name string, run func(ctx context.Context) error) {
	r.stages = append(r.stages, task{name, run})
}

// consumer is a stage's consumer group on topic; a message that fails it goes to the dead-letter
// topic, counted by stage and reason.
func (r *run) consumer(stage, topic string, maxBatch int, linger time.Duration) (*bus.Consumer, error) {
	return bus.NewConsumer(bus.ConsumerConfig{Config: r.bus, Group: r.cfg.GroupPrefix + "-" + stage, Topic: topic,
		Stage: stage, DLQ: r.cfg.Topics.DLQ, Grace: r.cfg.ShutdownGrace, MaxBatch: maxBatch, Linger: linger},
		r.writer, r.log, func(stage, reason string) { r.m.DeadLettered.WithLabelValues(stage, reason).Inc() })
}

// buildClassify builds tips.raw → tips.classified, and the reloader of a rules file.
func (r *run) buildClassify(context.Context) error {
	in, err := r.consumer(metrics.StageClassify, r.cfg.Topics.Raw, 256, 5*time.Millisecond)
	if err != nil {
		return err
	}
	rules := classify.DefaultRules()
	if r.cfg.Rules != "" {
		if rules, err = classify.LoadRules(r.cfg.Rules); err != nil {
			return err
		}
	}
	places := classify.DefaultGazetteer()
	log := r.log.With("stage", "classify")
	stage := classify.NewStage(in, r.writer, r.cfg.Topics.Classified, classify.New(rules, places), r.m, log)
	r.m.SetRulesVersion(rules.Version)
	r.add("classify", stage.Run)
	if r.cfg.Rules == "" {
		return nil
	}
	// SIGHUP reloads the rules at once; only a process with a rules file listens for it, so
	// that elsewhere it keeps its default meaning.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	r.closers = append(r.closers, func() { signal.Stop(hup) })
	reloader, err := classify.NewReloader(classify.ReloaderConfig{Path: r.cfg.Rules}, classify.ReloaderDeps{Places: places, Now: hup,
		Apply: func(c *classify.Classifier) {
			stage.Use(c)
			r.m.SetRulesVersion(c.RulesVersion())
		},
		Result: func(res string) { r.m.RulesReloads.WithLabelValues(res).Inc() }}, log)
	if err != nil {
		return err
	}
	r.add("rules reloader", reloader.Run)
	return nil
}

// buildIndex builds tips.classified → the index, keeping every tip in the archive where the
// process holds it, and the reconciler that publishes again what the archive has and the index
// lacks.
func (r *run) buildIndex(context.Context) error {
	// Every index batch is a segment that Bleve writes, fsyncs and later merges: fewer, larger
	// batches cost far less per tip, and 50ms is small beside the one-second latency goal.
	in, err := r.consumer(metrics.StageIndex, r.cfg.Topics.Classified, 2000, 50*time.Millisecond)
	if err != nil {
		return err
	}
	deps := index.StageDeps{OnIndexed: r.hooks.OnIndexed}
	if r.arc != nil {
		deps.Keep = kept{r.arc}
	}
	r.add("index", index.NewStage(in, r.idx, deps, r.m, r.log.With("stage", "index")).Run)
	if r.arc == nil {
		return nil
	}
	rec := ingest.NewReconciler(r.arc, r.idx, r.writer, r.submitter, r.m, r.log.With("stage", "reconcile"))
	r.add("reconcile", func(ctx context.Context) error {
		// Once at start; a failure waits for the next start and stops nothing.
		if _, err := rec.Reconcile(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("reconciling the archive with the index failed; it runs again at the next start", "err", err)
		}
		return nil
	})
	if n, err := r.idx.Count(); r.cfg.Demo > 0 && err == nil && n == 0 {
		r.add("demo", r.loadDemo)
	}
	return nil
}

// buildOCR builds tips.ocr → tips.raw: its own consumer group, one Tesseract per worker.
func (r *run) buildOCR(ctx context.Context) error {
	cfg := ocr.Config{RawTopic: r.cfg.Topics.Raw, Workers: r.cfg.OCRWorkers}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := cfg.Reader.Tesseract.Check(ctx); err != nil {
		// Tips still flow: scans are marked for manual transcription until OCR works.
		r.log.Error("OCR is not available; scans and screenshots will be marked for manual transcription", "err", err)
	}
	in, err := r.consumer("ocr", r.cfg.Topics.OCR, 0, 0)
	if err != nil {
		return err
	}
	var blobs ocr.Blobs = r.files
	if r.arc != nil {
		blobs = r.arc
	}
	stage, err := ocr.New(cfg, in, r.writer, blobs, letter.Addressee, r.ocrM, r.log.With("stage", "ocr"))
	if err != nil {
		return err
	}
	r.add("ocr", stage.Run)
	return nil
}

// buildLetters builds the intake of scans (the folder's and the mail room's) and the watcher of
// the letters folder.
func (r *run) buildLetters(context.Context) error {
	log := r.log.With("stage", "letters")
	var err error
	if r.intake, err = letter.NewIntake(letter.Config{}, r.submitter, r.arc, r.ocrM, log); err != nil {
		return err
	}
	if r.cfg.LettersDir == "" {
		return nil
	}
	w, err := letter.NewWatcher(letter.WatcherConfig{Dir: r.cfg.LettersDir}, r.intake, log)
	if err != nil {
		return err
	}
	r.add("letters", w.Run)
	return nil
}

// buildEmail builds a reader of each mailbox.
func (r *run) buildEmail(context.Context) error {
	for _, mc := range r.cfg.Mailboxes {
		mb, err := email.NewMailbox(mc, r.submitter, r.arc, r.emailM, r.log.With("stage", "email"))
		if err != nil {
			return err
		}
		r.log.Info("reading mailbox", "mailbox", mb.Name(), "office", metrics.OfficeLabel(mc.Office))
		r.add("email "+mb.Name(), mb.Run)
	}
	return nil
}
