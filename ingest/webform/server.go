// Package webform is the citizens' channel: the report page and the public API through which a
// tip is submitted with its evidence files, and the receipt with which its reporter follows it
// up. The reporter's identity is sealed for the receiving office before anything is stored.
package webform

import (
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/httpsafe"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/seal"
	"github.com/tipline/tipline/internal/throttle"
	"github.com/tipline/tipline/internal/tip"
)

// Submitter takes submissions and additions in: archived and published when it returns nil.
type Submitter interface {
	NewID() (string, time.Time)
	Submit(ctx context.Context, sub ingest.Submission) (*tip.Tip, error)
	Amend(ctx context.Context, id string, receivedAt time.Time, add ingest.Addition) (*tip.Tip, error)
}

// Archive is where uploads are streamed to and receipts looked up.
type Archive interface {
	Batch() *archive.Batch
	GetRecord(ctx context.Context, key string) ([]byte, error)
	Open(ctx context.Context, sha string) (io.ReadCloser, error)
}

// Sealer encrypts a reporter's identity for offices.
type Sealer interface {
	Seal(id seal.Identity, offices ...tip.Office) ([]byte, error)
}

// Limits bound what one submission may carry.
type Limits struct {
	MaxBody      int64 // bytes of a JSON body, or of the tip part of a multipart one (default 1 MiB)
	MaxTextRunes int   // characters of the text (default 50,000)
	MaxListItems int   // entries in each list field (default 50)
	MaxItemRunes int   // characters of each short field or list entry (default 500)
	MaxFile      int64 // bytes of one file (default 32 MiB)
	MaxUpload    int64 // bytes of a whole multipart submission (default 100 MiB)
	MaxFiles     int   // files in one submission (default 20)
	MaxParts     int   // parts of a multipart body, fields and files (default 100)
}

func (l Limits) withDefaults() Limits {
	l.MaxBody, l.MaxFile, l.MaxUpload = cmp.Or(l.MaxBody, 1<<20), cmp.Or(l.MaxFile, 32<<20), cmp.Or(l.MaxUpload, 100<<20)
	l.MaxTextRunes, l.MaxListItems, l.MaxItemRunes = cmp.Or(l.MaxTextRunes, 50000), cmp.Or(l.MaxListItems, 50), cmp.Or(l.MaxItemRunes, 500)
	l.MaxFiles, l.MaxParts = cmp.Or(l.MaxFiles, 20), cmp.Or(l.MaxParts, 100)
	return l
}

// Protection configures what guards the public listener.
type Protection struct {
	// Submissions (tips and additions) and receipt look-ups allowed per client address: a burst,
	// then one every so many seconds. A shared address (a school, a mobile carrier's NAT) is
	// many people, so the defaults let a person through at a human pace even when others behind
	// it have used the burst: see docs/security.md.
	SubmitEvery  time.Duration // default 2 s
	SubmitBurst  int           // default 30
	ReceiptEvery time.Duration // default 6 s
	ReceiptBurst int           // default 10
	// UploadBytes is how many bytes of submissions (tips and additions, files included) one
	// client address may send per UploadWindow: a bucket that starts full and refills
	// steadily, counted as the body streams, so a refused upload stops where the budget ends.
	// Default 512 MiB per hour: five submissions at the 100 MiB limit, or hundreds of photos,
	// while one address can no longer fill the disk at line speed. Negative: no budget.
	UploadBytes  int64
	UploadWindow time.Duration // default 1 h
	// TrustedProxies are reverse proxies whose X-Forwarded-For (and X-Forwarded-Proto) is believed.
	TrustedProxies []netip.Prefix
	// LogClientIP adds client addresses to log lines; off unless an operator turns it on.
	LogClientIP bool
	// CSRFKey signs the report page's anti-forgery tokens (32 random bytes; keep it across
	// restarts and share it between instances behind one address).
	CSRFKey []byte
}

func (p Protection) withDefaults() Protection {
	p.SubmitEvery = cmp.Or(p.SubmitEvery, 2*time.Second)
	p.SubmitBurst = cmp.Or(p.SubmitBurst, 30)
	p.ReceiptEvery = cmp.Or(p.ReceiptEvery, 6*time.Second)
	p.ReceiptBurst = cmp.Or(p.ReceiptBurst, 10)
	p.UploadBytes = cmp.Or(p.UploadBytes, 512<<20)
	if p.UploadWindow <= 0 {
		p.UploadWindow = time.Hour
	}
	return p
}

// Config is how the public server runs: what one submission may carry and what guards the
// listener. Only the CSRF key must be set; every other zero value takes its default.
type Config struct {
	Limits     Limits
	Protection Protection
}

// Validate says what is missing or wrong in c.
func (c Config) Validate() error {
	if len(c.Protection.CSRFKey) < 16 {
		return fmt.Errorf("webform: CSRF key of %d bytes; want 32 random bytes", len(c.Protection.CSRFKey))
	}
	l := c.Limits
	if l.MaxBody < 0 || l.MaxTextRunes < 0 || l.MaxListItems < 0 || l.MaxItemRunes < 0 || l.MaxFile < 0 ||
		l.MaxUpload < 0 || l.MaxFiles < 0 || l.MaxParts < 0 {
		return fmt.Errorf("webform: negative limit in %+v", l)
	}
	return nil
}

// Server serves the public listener: pages, API and assets.
type Server struct {
	sub      Submitter
	archive  Archive
	sealer   Sealer
	limits   Limits
	protect  Protection
	metrics  *metrics.Metrics
	log      *slog.Logger
	submits  *throttle.PerKey
	receipts *throttle.PerKey
	budget   *uploadBudget // nil: none
	pages    *template.Template
}

//go:embed templates/*.html static/*
var assets embed.FS

// New returns the public server: sub archives and publishes what citizens send, arc holds the
// uploads and the receipts, sealer seals reporters' identities for the offices, m counts
// submissions and refusals.
func New(cfg Config, sub Submitter, arc Archive, sealer Sealer, m *metrics.Metrics, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if sub == nil || arc == nil || sealer == nil || m == nil || log == nil {
		return nil, errors.New("webform: New needs a submitter, an archive, a sealer, metrics and a logger")
	}
	pages, err := template.New("").Funcs(template.FuncMap{"receiptGroups": receiptGroups}).ParseFS(assets, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("webform: templates: %w", err)
	}
	p := cfg.Protection.withDefaults()
	return &Server{
		sub: sub, archive: arc, sealer: sealer,
		limits: cfg.Limits.withDefaults(), protect: p, metrics: m, log: log,
		submits:  throttle.New(1/p.SubmitEvery.Seconds(), p.SubmitBurst),
		receipts: throttle.New(1/p.ReceiptEvery.Seconds(), p.ReceiptBurst),
		budget:   newUploadBudget(p.UploadBytes, p.UploadWindow),
		pages:    pages,
	}, nil
}

// Handler is everything the public listener serves, behind the security headers and the
// cross-origin check.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.reportPage)
	mux.HandleFunc("POST /report", s.limited(s.submits, s.budgeted(s.reportSubmit)))
	mux.HandleFunc("GET /status", s.statusPage)
	mux.HandleFunc("POST /status", s.limited(s.receipts, s.statusLookup))
	mux.HandleFunc("POST /status/add", s.limited(s.submits, s.limited(s.receipts, s.budgeted(s.additionSubmit))))
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(filesOnly{static})))
	mux.HandleFunc("POST /api/v1/tips", s.limited(s.submits, s.budgeted(s.apiSubmit)))
	mux.HandleFunc("GET /api/v1/tips/status", s.limited(s.receipts, s.apiStatus))
	mux.HandleFunc("POST /api/v1/tips/additions", s.limited(s.submits, s.limited(s.receipts, s.budgeted(s.apiAddition))))
	// Browsers say where a request comes from (Sec-Fetch-Site, Origin): another site's page
	// cannot post to this one, whatever the endpoint. Scripts and partner systems send neither
	// header and pass.
	return httpsafe.Headers(httpsafe.Options{}, http.NewCrossOriginProtection().Handler(mux))
}

// filesOnly serves a folder's files and nothing about the folder: a directory is not found,
// so /static/ is a 404 instead of a listing of what the site keeps there.
type filesOnly struct{ fsys fs.FS }

func (f filesOnly) Open(name string) (fs.File, error) {
	file, err := f.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		file.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return file, nil
}

// limited refuses a request when its address has used its allowance.
func (s *Server) limited(l *throttle.PerKey, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ok, wait := l.Allow(throttle.ClientAddr(r, s.protect.TrustedProxies))
		if ok {
			next(w, r)
			return
		}
		secs := int(wait.Seconds() + 0.999)
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		s.metrics.IngestRejected.WithLabelValues(string(tip.SourceWeb), reasonRate).Inc()
		msg := fmt.Sprintf("操作太频繁了，请等 %d 秒后再试。", secs)
		if strings.HasPrefix(r.URL.Path, "/api/") {
			writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": msg, "code": reasonRate})
			return
		}
		s.render(w, http.StatusTooManyRequests, "message.html", messagePage{Title: "请稍后再试",
			Message: msg + "您填写的内容还在上一页：请用浏览器的“返回”回到上一页，稍等后再点提交。"})
	}
}

// logAttrs are what a log line may say about a request: the client address only when the
// operator asked for it.
func (s *Server) logAttrs(r *http.Request, attrs ...any) []any {
	if s.protect.LogClientIP {
		attrs = append(attrs, "client", throttle.ClientAddr(r, s.protect.TrustedProxies))
	}
	return attrs
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
