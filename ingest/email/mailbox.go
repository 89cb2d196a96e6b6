// Package email takes tips in from IMAP mailboxes: every message becomes exactly one tip, even
// when the server or tipline restarts in the middle.
//
// A message is fetched with BODY.PEEK[] (nothing is marked read by fetching), archived raw,
// parsed, published, and only then flagged (and moved, if configured). The position is kept per
// mailbox as UIDVALIDITY + UID; deduplication by content hash and Message-ID makes a crash
// between publishing and flagging, or a changed UIDVALIDITY, produce no second tip.
package email

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/tip"
)

// Config is one mailbox.
type Config struct {
	Name     string     // label in metrics and logs; default user@addr/mailbox
	Addr     string     // host:port
	User     string     //
	Password string     // resolved by the caller from a file or the environment, never a flag
	Mailbox  string     // default INBOX
	TLS      string     // "tls" (default), "starttls" or "none"
	Office   tip.Office // the office this mailbox belongs to; empty: routed by the text
	// Keyword is set on a message once its tip is published (default "$TiplineIngested";
	// `\Seen` marks it read instead).
	Keyword string
	MoveTo  string        // folder to move processed messages to; empty: leave them
	Poll    time.Duration // how often to look for mail without IDLE (default 30s)
	Limits  Limits
	// CAFile is a PEM file of certificate authorities to trust instead of the system's (a
	// private CA, or a self-signed server certificate).
	CAFile string
}

// WithDefaults fills the documented defaults.
func (c Config) WithDefaults() Config {
	c.Mailbox = cmp.Or(c.Mailbox, "INBOX")
	c.TLS = cmp.Or(c.TLS, "tls")
	c.Keyword = cmp.Or(c.Keyword, "$TiplineIngested")
	c.Poll = cmp.Or(c.Poll, 30*time.Second)
	c.Name = cmp.Or(c.Name, c.User+"@"+c.Addr+"/"+c.Mailbox)
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	c = c.WithDefaults()
	switch {
	case c.Addr == "":
		return errors.New("email: mailbox needs an address host:port")
	case c.User == "":
		return fmt.Errorf("email: mailbox %s needs a user", c.Name)
	case c.TLS != "tls" && c.TLS != "starttls" && c.TLS != "none":
		return fmt.Errorf("email: mailbox %s: tls must be tls, starttls or none, not %q", c.Name, c.TLS)
	case c.Office != "" && !c.Office.Valid():
		return fmt.Errorf("email: mailbox %s: unknown office %q", c.Name, c.Office)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("email: mailbox %s: %w", c.Name, err)
	}
	return nil
}

// Submitter takes a tip in: archived and published when it returns nil.
type Submitter interface {
	Submit(ctx context.Context, sub ingest.Submission) (*tip.Tip, error)
}

// Records keeps the checkpoints and the deduplication records.
type Records interface {
	GetRecord(ctx context.Context, key string) ([]byte, error)
	PutRecord(ctx context.Context, key string, data []byte) error
}

// Mailbox ingests one IMAP mailbox.
type Mailbox struct {
	cfg     Config
	tls     *tls.Config
	records Records // the checkpoints
	intake  *Intake
	metrics *metrics.Email
	log     *slog.Logger
	// wake is signalled by the server's unilateral EXISTS while idling.
	wake chan struct{}
}

// NewMailbox returns the ingester for one mailbox.
func NewMailbox(cfg Config, sub Submitter, records Records, m *metrics.Email, log *slog.Logger) (*Mailbox, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	mb := &Mailbox{cfg: cfg, records: records, intake: NewIntake(cfg.Limits, sub, records), metrics: m,
		log: log.With("mailbox", cfg.Name), wake: make(chan struct{}, 1)}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("email: mailbox %s: %w", cfg.Name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("email: mailbox %s: no certificate in %s", cfg.Name, cfg.CAFile)
		}
		host, _, _ := net.SplitHostPort(cfg.Addr)
		mb.tls = &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}
	}
	return mb, nil
}

// Name is the mailbox's label.
func (m *Mailbox) Name() string { return m.cfg.Name }

// Run ingests until ctx is cancelled, reconnecting with backoff after any failure. The message
// in hand when ctx ends is finished (published and flagged) first.
func (m *Mailbox) Run(ctx context.Context) error {
	backoff := time.Second
	for {
		err := m.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		m.metrics.Reconnects.WithLabelValues(m.cfg.Name).Inc()
		m.metrics.Errors.WithLabelValues(m.cfg.Name, "session").Inc()
		m.log.Warn("mailbox session ended; reconnecting", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func (m *Mailbox) dial() (*imapclient.Client, error) {
	opts := &imapclient.Options{
		TLSConfig: m.tls,
		Dialer:    &net.Dialer{Timeout: 15 * time.Second},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(data *imapclient.UnilateralDataMailbox) {
				if data.NumMessages != nil {
					select {
					case m.wake <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	switch m.cfg.TLS {
	case "starttls":
		return imapclient.DialStartTLS(m.cfg.Addr, opts)
	case "none":
		return imapclient.DialInsecure(m.cfg.Addr, opts)
	}
	return imapclient.DialTLS(m.cfg.Addr, opts)
}

// session is one connection: log in, catch up, then wait for mail with IDLE or polling.
func (m *Mailbox) session(ctx context.Context) error {
	c, err := m.dial()
	if err != nil {
		return fmt.Errorf("email: dial %s: %w", m.cfg.Addr, err)
	}
	defer c.Close()
	if err := c.Login(m.cfg.User, m.cfg.Password).Wait(); err != nil {
		return fmt.Errorf("email: login: %w", err)
	}
	sel, err := c.Select(m.cfg.Mailbox, nil).Wait()
	if err != nil {
		return fmt.Errorf("email: select %s: %w", m.cfg.Mailbox, err)
	}
	idle := c.Caps().Has(imap.CapIdle)
	for {
		if err := m.catchUp(ctx, c, sel.UIDValidity); err != nil {
			return err
		}
		m.metrics.LastSuccess.WithLabelValues(m.cfg.Name).SetToCurrentTime()
		if ctx.Err() != nil {
			return nil
		}
		if err := m.wait(ctx, c, idle); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// wait returns when new mail may be there: the server says so during IDLE, or the poll
// interval passed.
func (m *Mailbox) wait(ctx context.Context, c *imapclient.Client, idle bool) error {
	if !idle {
		select {
		case <-ctx.Done():
		case <-time.After(m.cfg.Poll):
		case <-c.Closed():
			return errors.New("email: connection closed")
		}
		return nil
	}
	cmd, err := c.Idle()
	if err != nil {
		return fmt.Errorf("email: idle: %w", err)
	}
	// RFC 2177 asks to re-issue IDLE at least every 29 minutes; waking at the poll interval
	// also bounds what a missed notification costs.
	select {
	case <-ctx.Done():
	case <-m.wake:
	case <-time.After(m.cfg.Poll):
	case <-c.Closed():
		return errors.New("email: connection closed while idling")
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("email: idle: %w", err)
	}
	return cmd.Wait()
}

type checkpoint struct {
	UIDValidity uint32 `json:"uidvalidity"`
	LastUID     uint32 `json:"last_uid"`
}

func (m *Mailbox) checkpointKey() string {
	return archive.CheckpointKey(m.cfg.Addr, m.cfg.User, m.cfg.Mailbox)
}

func (m *Mailbox) loadCheckpoint(ctx context.Context) (checkpoint, error) {
	var cp checkpoint
	b, err := m.records.GetRecord(ctx, m.checkpointKey())
	if errors.Is(err, archive.ErrNotFound) {
		return cp, nil
	}
	if err != nil {
		return cp, err
	}
	return cp, json.Unmarshal(b, &cp)
}

// catchUp ingests every message after the checkpoint that does not carry the keyword yet.
func (m *Mailbox) catchUp(ctx context.Context, c *imapclient.Client, uidValidity uint32) error {
	cp, err := m.loadCheckpoint(ctx)
	if err != nil {
		return fmt.Errorf("email: checkpoint: %w", err)
	}
	if cp.UIDValidity != uidValidity {
		if cp.UIDValidity != 0 {
			m.log.Warn("UIDVALIDITY changed: rescanning the whole mailbox (duplicates are recognised)", "old", cp.UIDValidity, "new", uidValidity)
		}
		cp = checkpoint{UIDValidity: uidValidity}
	}
	criteria := &imap.SearchCriteria{UID: []imap.UIDSet{{imap.UIDRange{Start: imap.UID(cp.LastUID + 1), Stop: 0}}}}
	criteria.NotFlag = []imap.Flag{imap.Flag(m.cfg.Keyword)}
	found, err := c.UIDSearch(criteria, nil).Wait()
	if err != nil {
		return fmt.Errorf("email: search: %w", err)
	}
	var uids []imap.UID
	for _, uid := range found.AllUIDs() {
		if uint32(uid) > cp.LastUID { // "n:*" always includes the last message
			uids = append(uids, uid)
		}
	}
	for len(uids) > 0 && ctx.Err() == nil {
		batch, err := m.nextBatch(c, uids)
		if err != nil {
			return err
		}
		uids = uids[len(batch):]
		if err := m.ingestBatch(ctx, c, batch, uidValidity); err != nil {
			return err
		}
		cp.LastUID = uint32(batch[len(batch)-1])
		b, _ := json.Marshal(cp)
		if err := m.records.PutRecord(context.WithoutCancel(ctx), m.checkpointKey(), b); err != nil {
			return fmt.Errorf("email: checkpoint: %w", err)
		}
	}
	return nil
}

// Messages are fetched and submitted in batches: one FETCH for many messages, submissions in
// parallel (the archive and Kafka group their flushes), one STORE for the flags. A batch holds
// at most batchMessages messages and batchBytes bytes, so a mailbox full of large mail cannot
// exhaust memory.
const (
	batchMessages = 64
	batchBytes    = 32 << 20
	parallelism   = 16
)

// nextBatch picks the first messages of uids that fit a batch, by their sizes.
func (m *Mailbox) nextBatch(c *imapclient.Client, uids []imap.UID) ([]imap.UID, error) {
	head := uids[:min(len(uids), batchMessages)]
	msgs, err := c.Fetch(imap.UIDSetNum(head...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return nil, fmt.Errorf("email: fetch sizes: %w", err)
	}
	size := map[imap.UID]int64{}
	for _, msg := range msgs {
		size[msg.UID] = msg.RFC822Size
	}
	var total int64
	for i, uid := range head {
		total += size[uid]
		if total > batchBytes && i > 0 {
			return head[:i], nil
		}
	}
	return head, nil
}

// ingestBatch turns each message of the batch into a tip (unless it already is one), then flags
// them. Messages in hand are finished even when ctx ends: published, then flagged.
func (m *Mailbox) ingestBatch(ctx context.Context, c *imapclient.Client, uids []imap.UID, uidValidity uint32) error {
	raws, err := m.fetch(c, uids)
	if err != nil {
		return err
	}
	work := context.WithoutCancel(ctx)
	errs := make([]error, len(uids))
	sem := make(chan struct{}, parallelism)
	var wg sync.WaitGroup
	for i, uid := range uids {
		raw, ok := raws[uid]
		if !ok {
			continue // expunged since the search
		}
		m.metrics.Fetched.WithLabelValues(m.cfg.Name).Inc()
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = m.ingest(work, raw, uid, uidValidity)
		})
	}
	wg.Wait()
	var done []imap.UID
	for i, uid := range uids {
		if errs[i] == nil {
			done = append(done, uid)
		}
	}
	if len(done) > 0 {
		if err := m.flag(c, done); err != nil {
			return err
		}
	}
	// A message that failed is not flagged: the next session tries it again.
	return errors.Join(errs...)
}

// ingest turns one message into a tip unless one with the same bytes or Message-ID exists.
func (m *Mailbox) ingest(ctx context.Context, raw []byte, uid imap.UID, uidValidity uint32) error {
	var routing tip.Routing
	if m.cfg.Office != "" {
		routing = tip.Routing{Reason: tip.RouteMailbox, Detail: m.cfg.Name}
	}
	taken, err := m.intake.Take(ctx, raw, fmt.Sprintf("imap:%s/%d/%d", m.cfg.Name, uidValidity, uid), m.cfg.Office, routing)
	switch {
	case err != nil:
		m.metrics.Errors.WithLabelValues(m.cfg.Name, "submit").Inc()
		return fmt.Errorf("email: submit uid %d: %w", uid, err)
	case taken.Again:
		m.metrics.Duplicates.WithLabelValues(m.cfg.Name).Inc()
		m.log.Info("message already ingested; flagging only", "uid", uid)
		return nil
	}
	if taken.Warnings > 0 {
		m.metrics.Warnings.WithLabelValues(m.cfg.Name).Add(float64(taken.Warnings))
	}
	m.metrics.Published.WithLabelValues(m.cfg.Name).Inc()
	m.log.Info("email tip received", "id", taken.Tip.ID, "uid", uid, "bytes", len(raw), "attachments", len(taken.Tip.Attachments), "warnings", taken.Warnings)
	return nil
}

// fetch reads the raw messages with BODY.PEEK[], which leaves them unread.
func (m *Mailbox) fetch(c *imapclient.Client, uids []imap.UID) (map[imap.UID][]byte, error) {
	cmd := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	defer cmd.Close()
	raws := map[imap.UID][]byte{}
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		var uid imap.UID
		var raw []byte
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch item := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = item.UID
			case imapclient.FetchItemDataBodySection:
				if item.Literal == nil {
					continue
				}
				var buf bytes.Buffer
				if _, err := io.Copy(&buf, item.Literal); err != nil {
					return nil, fmt.Errorf("email: fetch: %w", err)
				}
				raw = buf.Bytes()
			}
		}
		if uid != 0 && raw != nil {
			raws[uid] = raw
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("email: fetch: %w", err)
	}
	return raws, nil
}

func (m *Mailbox) flag(c *imapclient.Client, uids []imap.UID) error {
	set := imap.UIDSetNum(uids...)
	if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.Flag(m.cfg.Keyword)}}, nil).Close(); err != nil {
		return fmt.Errorf("email: flag: %w", err)
	}
	if m.cfg.MoveTo != "" {
		if _, err := c.Move(set, m.cfg.MoveTo).Wait(); err != nil {
			return fmt.Errorf("email: move to %s: %w", m.cfg.MoveTo, err)
		}
	}
	return nil
}
