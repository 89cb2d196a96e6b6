// Package tip defines the tip event that travels between tipline's stages: its schema and
// version, and the closed lists of categories, offices and sources.
package tip

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"
)

// China is the offices' time zone, UTC+8 all year: dates that people read, and plain dates
// they type, are in Liuzhou time.
var China = time.FixedZone("CST", 8*60*60)

// SchemaVersion is the version of the JSON event written by this build. Readers accept events of
// this version and older; a newer version is refused rather than half understood.
const SchemaVersion = 1

// Tip is the event carried on every Kafka topic. It never holds the reporter's identity in clear
// text: see Reporter.
type Tip struct {
	Version    int       `json:"v"`
	ID         string    `json:"id"` // ULID: sorts by time of receipt
	ReceivedAt time.Time `json:"received_at"`
	Source     Source    `json:"source"`
	// SourceRef locates the tip in its channel (mailbox and UID, scan file name, form receipt
	// lookup key). It never names the reporter.
	SourceRef string  `json:"source_ref,omitempty"`
	Office    Office  `json:"office,omitempty"` // empty until routed, unless the channel knows it
	Routing   Routing `json:"routing"`
	Text      string  `json:"text"`
	Details   Details `json:"details,omitzero"`
	// Original is the archived submission exactly as the channel handed it over.
	Original    *Attachment  `json:"original,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	Reporter    Reporter     `json:"reporter"`
	// Warnings say what the channel could not read (a damaged attachment, an unknown charset),
	// in Chinese, for the analyst.
	Warnings []string `json:"warnings,omitempty"`
	// OCR says how the text of a scan or a screenshot was read, page by page.
	OCR      *OCR     `json:"ocr,omitempty"`
	Verdict  *Verdict `json:"verdict,omitempty"`
	Entities []Entity `json:"entities,omitempty"`
	// Additions lists what the reporter added after the first submission, oldest first.
	Additions []Addition `json:"additions,omitempty"`
	// Handling is the analysts' side: the status and every change made to the tip.
	Handling *Handling `json:"handling,omitempty"`
}

// Handling is where a tip stands with the analysts, and its history.
type Handling struct {
	Status  string   `json:"status"`
	History []Change `json:"history,omitempty"`
	// Reviewed: an analyst confirmed or corrected the category, so an uncertain verdict no
	// longer waits in the review queue.
	Reviewed bool `json:"reviewed,omitempty"`
}

// Change is one thing an analyst did to a tip.
type Change struct {
	At    time.Time `json:"at"`
	User  string    `json:"user"`
	Field string    `json:"field"` // status, category, office
	From  string    `json:"from"`
	To    string    `json:"to"`
	Note  string    `json:"note,omitempty"`
}

// Routing records which office a tip goes to and why, so an analyst can check it.
type Routing struct {
	Reason RoutingReason `json:"reason,omitempty"`
	Detail string        `json:"detail,omitempty"` // e.g. the place or mailbox that decided
	// Candidates lists every office the text pointed to when it named places of more than one.
	Candidates []Office `json:"candidates,omitempty"`
}

// Details are the structured fields the citizen form asks for (seed, part 二).
type Details struct {
	CategoryHint string   `json:"category_hint,omitempty"`
	Place        string   `json:"place,omitempty"`
	OccurredAt   string   `json:"occurred_at,omitempty"`
	Suspects     []string `json:"suspects,omitempty"`
	URLs         []string `json:"urls,omitempty"`
	Apps         []string `json:"apps,omitempty"`
	Accounts     []string `json:"accounts,omitempty"`
	Phones       []string `json:"phones,omitempty"`
}

// Reporter says only whether the reporter chose anonymity and whether identity data exists; the
// identity itself stays in the archive (sealed by the web-form issue), never on the bus.
type Reporter struct {
	Anonymous   bool `json:"anonymous"`
	HasIdentity bool `json:"has_identity"`
	// Sealed is the archive record holding the identity encrypted for SealedFor's offices
	// (internal/seal); only their private keys open it.
	Sealed    string   `json:"sealed,omitempty"`
	SealedFor []Office `json:"sealed_for,omitempty"`
}

// Attachment is an archived file: the original submission or evidence attached to it.
type Attachment struct {
	Name      string `json:"name,omitempty"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
	Ref       string `json:"ref"` // archive reference
	// Clean is the copy analysts see of an image the reporter uploaded: the same picture
	// without its EXIF, GPS and other metadata. The original keeps its hash as evidence.
	Clean *Attachment `json:"clean,omitempty"`
}

// Addition is information the reporter added later with their receipt: its text is appended
// to the tip's text under a dated heading, its files to the attachments.
type Addition struct {
	At          time.Time `json:"at"`
	Chars       int       `json:"chars"`
	Attachments int       `json:"attachments"`
}

// OCR records the reading of scanned or photographed pages.
type OCR struct {
	Pages []OCRPage `json:"pages,omitempty"`
	// Manual marks a tip whose scan could not be read (or yielded almost nothing): it waits
	// for an analyst to transcribe it from the attached scan. Reason says why, in Chinese.
	Manual bool   `json:"manual,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// OCRPage is one page read: which file (the original scan, or an attachment's name), its page
// number there, Tesseract's mean word confidence (0-100) and how many characters came out.
type OCRPage struct {
	File       string  `json:"file"`
	Number     int     `json:"number"`
	Confidence float64 `json:"confidence"`
	Chars      int     `json:"chars"`
	Seconds    float64 `json:"seconds"`
}

// Verdict is the classifier's decision, with enough detail that an analyst sees why.
type Verdict struct {
	Category Category `json:"category"`
	Score    float64  `json:"score"`
	RunnerUp Category `json:"runner_up,omitempty"`
	// Uncertain marks a verdict close to its threshold, or with a runner-up close to the
	// winner: an analyst should confirm or correct it (the desk's review queue).
	Uncertain    bool    `json:"uncertain,omitempty"`
	Matches      []Match `json:"matches,omitempty"`
	RulesVersion string  `json:"rules_version"`
	// Notes explain conditions an analyst should know about (empty text, text cut short, bytes
	// that were not UTF-8), in Chinese.
	Notes []string `json:"notes,omitempty"`
}

// Match is one piece of evidence found in the text; Start and End are byte offsets into
// Tip.Text. A negative Weight lowers its category (or, with Category empty, every category).
type Match struct {
	Term     string   `json:"term"`
	Category Category `json:"category,omitempty"`
	Weight   float64  `json:"weight"`
	Start    int      `json:"start"`
	End      int      `json:"end"`
}

// Entity is something the tip names that can link it to other tips.
type Entity struct {
	Kind  string `json:"kind"` // phone, url, domain, app, account, qq, wechat, bank_card, amount
	Value string `json:"value"`
	Start int    `json:"start,omitempty"`
	End   int    `json:"end,omitempty"`
}

// IDs makes time-ordered tip ids. ULIDs from one generator are strictly increasing even within a
// millisecond, so ids also order tips received by one process.
type IDs struct {
	mu      sync.Mutex
	entropy *ulid.MonotonicEntropy
}

// NewIDs returns an id generator seeded from crypto/rand.
func NewIDs() *IDs { return &IDs{entropy: ulid.Monotonic(rand.Reader, 0)} }

// New returns a new id for a tip received at t.
func (g *IDs) New(t time.Time) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return ulid.MustNew(ulid.Timestamp(t), g.entropy).String()
}

// ValidID reports whether s is a well-formed tip id.
func ValidID(s string) bool {
	_, err := ulid.ParseStrict(s)
	return err == nil
}

var (
	// ErrMalformed means the bytes are not a tip event at all.
	ErrMalformed = errors.New("tip: malformed event")
	// ErrInvalid means a tip event breaks an invariant.
	ErrInvalid = errors.New("tip: invalid event")
	// ErrVersion means the event was written by a newer tipline than this one.
	ErrVersion = fmt.Errorf("%w: unsupported schema version", ErrInvalid)
)

// Validate checks the invariants every stage relies on.
func (t *Tip) Validate() error {
	switch {
	case t.Version < 1 || t.Version > SchemaVersion:
		return fmt.Errorf("%w: %d", ErrVersion, t.Version)
	case !ValidID(t.ID):
		return fmt.Errorf("%w: id %q", ErrInvalid, t.ID)
	case t.ReceivedAt.IsZero():
		return fmt.Errorf("%w: missing received_at", ErrInvalid)
	case !t.Source.Valid():
		return fmt.Errorf("%w: unknown source %q", ErrInvalid, t.Source)
	case t.Office != "" && !t.Office.Valid():
		return fmt.Errorf("%w: unknown office %q", ErrInvalid, t.Office)
	case !utf8.ValidString(t.Text):
		return fmt.Errorf("%w: text is not valid UTF-8", ErrInvalid)
	case t.Verdict != nil && !t.Verdict.Category.Valid():
		return fmt.Errorf("%w: unknown category %q", ErrInvalid, t.Verdict.Category)
	}
	return nil
}

// Marshal encodes t as the versioned JSON event.
func Marshal(t *Tip) ([]byte, error) {
	t.Version = SchemaVersion
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("tip: encode %s: %w", t.ID, err)
	}
	return b, nil
}

// Unmarshal decodes and validates an event.
func Unmarshal(b []byte) (*Tip, error) {
	var t Tip
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}
