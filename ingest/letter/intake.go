// Package letter is the letters channel: scans dropped into a watched folder or uploaded by an
// office's mail room (POST /api/v1/letters) are checked (internal/scanfile), archived and
// queued on tips.ocr, once per scan and office; a file that is no readable scan becomes a tip
// marked for manual handling. It also knows the offices' postal addresses, by which the OCR
// stage routes a letter once its text is read (Addressee).
package letter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/scanfile"
	"github.com/tipline/tipline/internal/tip"
)

// Submitter takes a tip in: archived and published when it returns nil.
type Submitter interface {
	NewID() (string, time.Time)
	Submit(ctx context.Context, sub ingest.Submission) (*tip.Tip, error)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Config is how scans are taken in. The zero value takes the default limits.
type Config struct {
	Limits scanfile.Limits // what a scan may be (zero: the defaults)
}

// Validate refuses negative limits.
func (c Config) Validate() error { return c.Limits.Validate() }

// Intake turns one scan file into a tip: archived first, then queued for OCR. A file that is not
// a readable scan still becomes a tip, with the file attached and marked for manual handling.
type Intake struct {
	sub     Submitter
	records Records
	limits  scanfile.Limits
	metrics *metrics.OCR
	log     *slog.Logger
}

// NewIntake returns the intake of scans: sub archives and publishes them, records recognises a
// scan taken in before, m counts letters by result.
func NewIntake(cfg Config, sub Submitter, records Records, m *metrics.OCR, log *slog.Logger) (*Intake, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("letter: %w", err)
	}
	switch {
	case sub == nil:
		return nil, errors.New("letter: no submitter")
	case records == nil:
		return nil, errors.New("letter: no records")
	case m == nil || log == nil:
		return nil, errors.New("letter: no metrics or logger")
	}
	return &Intake{sub: sub, records: records, limits: cfg.Limits, metrics: m, log: log}, nil
}

// Records remembers which scans are tips already.
type Records interface {
	GetRecord(ctx context.Context, key string) ([]byte, error)
}

// Result of taking in one scan.
type Result struct {
	ID     string // the tip's id
	Reason string // why the scan is unusable, in Chinese; empty when it was queued for OCR
	Again  bool   // the same file was taken in before (a crash before it was moved): no new tip
}

// Take archives and submits the scan at path under name (the file name the scanner gave it).
// It is TakeIn for the watched folder: a scan taken in before from the folder is recognised.
func (in *Intake) Take(ctx context.Context, path, name, ref string) (Result, error) {
	return in.TakeIn(ctx, "", path, name, ref)
}

// TakeIn is Take for a scan one office's mail room uploads (scope: account.ScopeOf): it is
// recognised as taken before only if the same scope took it. Another office's copy of the same
// letter becomes a tip of its own, and the answer never tells that another office holds the
// file, nor its tip id (issue 19, finding 8).
func (in *Intake) TakeIn(ctx context.Context, scope, path, name, ref string) (Result, error) {
	sum, err := fileSHA256(path)
	if err != nil {
		return Result{}, err
	}
	key := archive.LetterKey(scope, sum)
	if b, err := in.records.GetRecord(ctx, key); err == nil {
		var prev Result
		_ = json.Unmarshal(b, &prev)
		prev.Again = true
		return prev, nil
	} else if !errors.Is(err, archive.ErrNotFound) {
		return Result{}, err
	}
	info, inspectErr := scanfile.Inspect(ctx, path, in.limits)
	kind := info.Kind
	var unusableErr *scanfile.Unusable
	if inspectErr != nil && !errors.As(inspectErr, &unusableErr) {
		return Result{}, inspectErr // the machine's fault (poppler missing): try again later
	}
	f, err := os.Open(path)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	if kind == "" {
		kind = "application/octet-stream"
	}
	sub := ingest.Submission{
		Source:    tip.SourceLetter,
		SourceRef: ref,
		Reporter:  tip.Reporter{Anonymous: true},
		Original:  ingest.File{Name: name, MediaType: kind, Body: f},
	}
	var res Result
	if unusableErr != nil {
		res.Reason = unusableErr.Reason
		reason := "扫描件无法识别，需人工处理：" + unusableErr.Reason
		sub.OCR = &tip.OCR{Manual: true, Reason: reason}
		sub.Warnings = []string{reason}
	}
	sub.ID, sub.ReceivedAt = in.sub.NewID()
	res.ID = sub.ID
	// Recorded with the tip, so a scan taken in again after a crash is recognised.
	rec, _ := json.Marshal(res)
	sub.Records = map[string][]byte{key: rec}
	t, err := in.sub.Submit(ctx, sub)
	if err != nil {
		return Result{}, err
	}
	if unusableErr != nil {
		in.metrics.Failures.WithLabelValues(metrics.OCRUnusable).Inc()
		in.metrics.Letters.WithLabelValues("failed").Inc()
	} else {
		in.metrics.Letters.WithLabelValues("done").Inc()
	}
	in.log.Info("letter received", "id", t.ID, "kind", kind, "usable", unusableErr == nil)
	return res, nil
}
