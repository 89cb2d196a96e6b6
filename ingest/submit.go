// Package ingest is the step every channel shares: archive the originals, build the tip event,
// publish it to the raw topic, and only then let the channel acknowledge its source. The
// channels live in the sub-packages (webform, and later email and letter).
package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/tip"
)

// Archive stores originals and tip manifests; a batch of writes is durable once committed.
type Archive interface {
	Batch() *archive.Batch
	GetRecord(ctx context.Context, key string) ([]byte, error)
}

// Publisher writes messages and returns once they are acknowledged.
type Publisher interface {
	Write(ctx context.Context, msgs ...bus.Message) error
}

// Errors a channel tells apart: whatever failed, nothing was acknowledged to the source.
var (
	ErrArchive = errors.New("ingest: archive failed")
	ErrPublish = errors.New("ingest: publish failed")
)

// File is an original or an attachment as the channel received it.
type File struct {
	Name      string
	MediaType string
	Body      io.Reader
}

// Submission is what a channel hands over.
type Submission struct {
	// ID and ReceivedAt may be set by a channel that needs the id before submitting (the web form
	// stores the receipt first); otherwise Submit assigns them.
	ID         string
	ReceivedAt time.Time

	Source      tip.Source
	SourceRef   string
	Office      tip.Office // as the channel knows it; empty if it does not
	Routing     tip.Routing
	Text        string
	Details     tip.Details
	Reporter    tip.Reporter
	Original    File
	Attachments []File
	Warnings    []string
	OCR         *tip.OCR // set when the channel already knows the scan cannot be read
	// Records are extra archive records that must be durable with the tip (the web form's
	// receipt and sealed identity), by key.
	Records map[string][]byte
	// Batch, when set, is the archive batch the channel already streamed files into, and
	// Stored the attachments it holds: the web form stores uploads as they arrive, and they
	// become durable with the tip or not at all.
	Batch  *archive.Batch
	Stored []tip.Attachment
}

// Submitter archives and publishes submissions.
type Submitter struct {
	archive  Archive
	pub      Publisher
	topic    string
	ocrTopic string
	ids      *tip.IDs
	metrics  *metrics.Metrics
	now      func() time.Time
	amending sync.Mutex
}

// NewSubmitter publishes to topic (the raw topic).
func NewSubmitter(a Archive, pub Publisher, topic string, m *metrics.Metrics) *Submitter {
	return &Submitter{archive: a, pub: pub, topic: topic, ids: tip.NewIDs(), metrics: m, now: time.Now}
}

// WithOCR sends tips that need reading first (letters, and tips with images attached) to
// topic, where the OCR stage picks them up, instead of straight to the raw topic.
func (s *Submitter) WithOCR(topic string) *Submitter {
	s.ocrTopic = topic
	return s
}

// TopicFor is the topic a tip is published to.
func (s *Submitter) TopicFor(t *tip.Tip) string {
	if s.ocrTopic != "" && NeedsOCR(t) {
		return s.ocrTopic
	}
	return s.topic
}

// NeedsOCR reports whether a tip has pages to read: a letter's scan not yet read, or images
// attached.
func NeedsOCR(t *tip.Tip) bool {
	if t.OCR != nil {
		return false // read already, or known to be unreadable
	}
	if t.Source == tip.SourceLetter {
		return true
	}
	for _, a := range t.Attachments {
		if isImage(a.MediaType) {
			return true
		}
	}
	return false
}

func isImage(mediaType string) bool { return strings.HasPrefix(mediaType, "image/") }

// NewID returns a fresh tip id and receipt time, for channels that need them before Submit.
func (s *Submitter) NewID() (string, time.Time) {
	now := s.now().UTC()
	return s.ids.New(now), now
}

// Submit archives the original and attachments, writes the manifest and publishes the tip.
// When it returns nil the tip is durable in the archive and acknowledged by Kafka, and the
// channel may acknowledge its source.
func (s *Submitter) Submit(ctx context.Context, sub Submission) (*tip.Tip, error) {
	if sub.ID == "" {
		sub.ID, sub.ReceivedAt = s.NewID()
	}
	t := &tip.Tip{
		Version: tip.SchemaVersion, ID: sub.ID, ReceivedAt: sub.ReceivedAt,
		Source: sub.Source, SourceRef: sub.SourceRef, Office: sub.Office, Routing: sub.Routing,
		Text: sub.Text, Details: sub.Details, Reporter: sub.Reporter, Warnings: sub.Warnings, OCR: sub.OCR,
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	batch := sub.Batch
	if batch == nil {
		batch = s.archive.Batch()
	}
	defer batch.Discard() // a failed submission leaves none of its files (nothing after Commit)
	orig, err := put(ctx, batch, sub.Original, sub.Source == tip.SourceLetter)
	if err != nil {
		return nil, s.fail(sub.Source, "archive", fmt.Errorf("%w: original of %s: %w", ErrArchive, t.ID, err))
	}
	t.Original = &orig
	for _, f := range sub.Attachments {
		a, err := put(ctx, batch, f, isImage(f.MediaType))
		if err != nil {
			return nil, s.fail(sub.Source, "archive", fmt.Errorf("%w: attachment of %s: %w", ErrArchive, t.ID, err))
		}
		t.Attachments = append(t.Attachments, a)
	}
	t.Attachments = append(t.Attachments, sub.Stored...)
	event, err := tip.Marshal(t)
	if err != nil {
		return nil, err
	}
	for key, data := range sub.Records {
		if err := batch.PutRecord(key, data); err != nil {
			return nil, s.fail(sub.Source, "archive", fmt.Errorf("%w: record of %s: %w", ErrArchive, t.ID, err))
		}
	}
	if err := batch.PutRecord(archive.ManifestKey(t.ID, t.ReceivedAt), event); err != nil {
		return nil, s.fail(sub.Source, "archive", fmt.Errorf("%w: manifest of %s: %w", ErrArchive, t.ID, err))
	}
	if err := batch.Commit(); err != nil {
		return nil, s.fail(sub.Source, "archive", fmt.Errorf("%w: %s: %w", ErrArchive, t.ID, err))
	}
	if err := s.pub.Write(ctx, bus.Message{Topic: s.TopicFor(t), Key: []byte(t.ID), Value: event}); err != nil {
		// The manifest is archived: the reconciler publishes it at the next start.
		return nil, s.fail(sub.Source, "publish", fmt.Errorf("%w: %s: %w", ErrPublish, t.ID, err))
	}
	s.metrics.Ingested.WithLabelValues(metrics.OfficeLabel(t.Office), string(t.Source)).Inc()
	return t, nil
}

// put archives f. Scans and images are kept as files, which the OCR stage reads even when it
// runs as a process of its own (see archive.Files).
func put(ctx context.Context, b *archive.Batch, f File, forOCR bool) (tip.Attachment, error) {
	body := f.Body
	if body == nil {
		body = bytes.NewReader(nil)
	}
	store := b.Put
	if forOCR {
		store = b.PutFile
	}
	obj, err := store(ctx, body)
	if err != nil {
		return tip.Attachment{}, err
	}
	return tip.Attachment{Name: f.Name, MediaType: f.MediaType, Size: obj.Size, SHA256: obj.SHA256, Ref: obj.Ref}, nil
}

// Addition is what a reporter adds to their tip later.
type Addition struct {
	Text   string
	Batch  *archive.Batch // holds Stored
	Stored []tip.Attachment
}

// ErrNoTip means the manifest of the tip to amend is not in the archive.
var ErrNoTip = errors.New("ingest: no such tip")

// Amend appends an addition to an archived tip and publishes the tip again under the same
// id, so the later stages classify and index it afresh (the index replaces it by id).
func (s *Submitter) Amend(ctx context.Context, id string, receivedAt time.Time, add Addition) (*tip.Tip, error) {
	// Two additions at once must not both start from the same manifest and lose one.
	s.amending.Lock()
	defer s.amending.Unlock()
	key := archive.ManifestKey(id, receivedAt)
	raw, err := s.archive.GetRecord(ctx, key)
	if errors.Is(err, archive.ErrNotFound) {
		return nil, ErrNoTip
	}
	if err != nil {
		return nil, fmt.Errorf("%w: manifest of %s: %w", ErrArchive, id, err)
	}
	t, err := tip.Unmarshal(raw)
	if err != nil {
		return nil, fmt.Errorf("ingest: manifest of %s: %w", id, err)
	}
	now := s.now().UTC()
	if text := strings.TrimSpace(add.Text); text != "" {
		t.Text += "\n\n【" + now.In(tip.China).Format("2006-01-02 15:04") + " 举报人补充】\n" + text
	}
	t.Attachments = append(t.Attachments, add.Stored...)
	t.Additions = append(t.Additions, tip.Addition{At: now, Chars: len([]rune(strings.TrimSpace(add.Text))), Attachments: len(add.Stored)})
	event, err := tip.Marshal(t)
	if err != nil {
		return nil, err
	}
	batch := add.Batch
	if batch == nil {
		batch = s.archive.Batch()
	}
	defer batch.Discard()
	if err := batch.PutRecord(key, event); err != nil {
		return nil, s.fail(t.Source, "archive", fmt.Errorf("%w: manifest of %s: %w", ErrArchive, id, err))
	}
	if err := batch.Commit(); err != nil {
		return nil, s.fail(t.Source, "archive", fmt.Errorf("%w: %s: %w", ErrArchive, id, err))
	}
	if err := s.pub.Write(ctx, bus.Message{Topic: s.TopicFor(t), Key: []byte(t.ID), Value: event}); err != nil {
		return nil, s.fail(t.Source, "publish", fmt.Errorf("%w: %s: %w", ErrPublish, id, err))
	}
	return t, nil
}

func (s *Submitter) fail(src tip.Source, step string, err error) error {
	s.metrics.IngestFailed.WithLabelValues(string(src), step).Inc()
	return err
}
