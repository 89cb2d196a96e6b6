package email

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/tip"
)

// Intake turns raw messages into tips, once each: a message with the same bytes or the same
// Message-ID as one taken before is recognised and left alone. Mailboxes use it, and so does
// the import of an office's saved .eml files.
type Intake struct {
	sub     Submitter
	records Records
	limits  Limits
}

// NewIntake returns the intake of raw messages: sub archives and publishes them, records
// recognises a message taken before, lim bounds the work one message may cause (zero: the
// defaults).
func NewIntake(lim Limits, sub Submitter, records Records) *Intake {
	return &Intake{sub: sub, records: records, limits: lim}
}

// Taken is what became of a message.
type Taken struct {
	Tip      *tip.Tip // nil when Again
	Again    bool     // the message was taken before: no new tip
	Warnings int      // parts that could not be read fully
}

// Take parses raw and submits it as a tip unless it was taken before. ref locates the message
// (mailbox and UID, or the imported file); office and routing apply when the source knows them.
// It is TakeIn for the mailboxes, which recognise what any mailbox took.
func (in *Intake) Take(ctx context.Context, raw []byte, ref string, office tip.Office, routing tip.Routing) (Taken, error) {
	return in.TakeIn(ctx, "", raw, ref, office, routing)
}

// TakeIn is Take for a message one office imports (scope: account.ScopeOf): it is recognised
// as taken before, by its bytes or its Message-ID, only if the same scope took it. Another
// office's copy becomes a tip of its own, and the answer never tells that another office holds
// the message (issue 19, finding 8).
func (in *Intake) TakeIn(ctx context.Context, scope string, raw []byte, ref string, office tip.Office, routing tip.Routing) (Taken, error) {
	p := Parse(raw, in.limits)
	keys := archive.EmailKeys(scope, raw, p.MessageID)
	for _, k := range keys {
		_, err := in.records.GetRecord(ctx, k)
		if err == nil {
			return Taken{Again: true}, nil
		}
		if !errors.Is(err, archive.ErrNotFound) {
			return Taken{}, fmt.Errorf("email: dedup: %w", err)
		}
	}
	sub := ingest.Submission{
		Source:    tip.SourceEmail,
		SourceRef: ref,
		Office:    office,
		Routing:   routing,
		Text:      p.Text,
		// The sender is reporter data: it stays in the archived original only.
		Reporter: tip.Reporter{Anonymous: p.From == "", HasIdentity: p.From != ""},
		Original: ingest.File{Name: "message.eml", MediaType: "message/rfc822", Body: bytes.NewReader(raw)},
		Warnings: p.Warnings,
		Records:  map[string][]byte{},
	}
	for _, a := range p.Attachments {
		if a.Body != nil {
			sub.Attachments = append(sub.Attachments, ingest.File{Name: a.Name, MediaType: a.MediaType, Body: bytes.NewReader(a.Body)})
		}
	}
	// The dedup records are archived together with the tip, so they exist exactly when it does.
	mark, _ := json.Marshal(map[string]string{"ref": ref})
	for _, k := range keys {
		sub.Records[k] = mark
	}
	t, err := in.sub.Submit(ctx, sub)
	if err != nil {
		return Taken{}, err
	}
	return Taken{Tip: t, Warnings: len(p.Warnings)}, nil
}
