package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	Submitter Submitter
	Records   Records
	Limits    Limits
}

// Taken is what became of a message.
type Taken struct {
	Tip      *tip.Tip // nil when Again
	Again    bool     // the message was taken before: no new tip
	Warnings int      // parts that could not be read fully
}

// Take parses raw and submits it as a tip unless it was taken before. ref locates the message
// (mailbox and UID, or the imported file); office and routing apply when the source knows them.
func (in *Intake) Take(ctx context.Context, raw []byte, ref string, office tip.Office, routing tip.Routing) (Taken, error) {
	sum := sha256.Sum256(raw)
	keys := []string{"email/sha256/" + hex.EncodeToString(sum[:]) + ".json"}
	p := Parse(raw, in.Limits)
	if p.MessageID != "" {
		h := sha256.Sum256([]byte(p.MessageID))
		keys = append(keys, "email/message-id/"+hex.EncodeToString(h[:])+".json")
	}
	for _, k := range keys {
		_, err := in.Records.GetRecord(ctx, k)
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
	t, err := in.Submitter.Submit(ctx, sub)
	if err != nil {
		return Taken{}, err
	}
	return Taken{Tip: t, Warnings: len(p.Warnings)}, nil
}
