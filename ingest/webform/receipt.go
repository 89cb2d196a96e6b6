package webform

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tipline/tipline/internal/archive"
)

// A receipt is the reporter's only key to their tip: 20 symbols of Crockford's base32 (100
// random bits), shown in groups of four. The first ten symbols name the stored record; the
// whole code is checked against a hash, so the record alone does not reveal the receipt.
const (
	receiptSymbols = 20
	lookupSymbols  = 10
	crockford      = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

// newReceipt returns a fresh receipt code without separators.
func newReceipt() string {
	var b [receiptSymbols]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	for i := range b {
		b[i] = crockford[b[i]&31]
	}
	return string(b[:])
}

// formatReceipt groups a code in fours for reading aloud and copying.
func formatReceipt(code string) string {
	var parts []string
	for i := 0; i < len(code); i += 4 {
		parts = append(parts, code[i:min(i+4, len(code))])
	}
	return strings.Join(parts, "-")
}

// parseReceipt accepts what a person types: any case, separators or spaces, and the letters
// Crockford's alphabet leaves out (I, L → 1; O → 0).
func parseReceipt(s string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == 'I' || r == 'L':
			r = '1'
		case r == 'O':
			r = '0'
		}
		if !strings.ContainsRune(crockford, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	code := b.String()
	return code, len(code) == receiptSymbols
}

// receiptRecord is what the archive keeps for a receipt.
type receiptRecord struct {
	TipID      string    `json:"tip_id"`
	ReceivedAt time.Time `json:"received_at"`
	Verifier   string    `json:"verifier"` // sha256 of the whole code
}

func receiptKey(code string) string { return "receipts/" + code[:lookupSymbols] + ".json" }

// The code carries 100 random bits, so a fast hash is enough: guessing is hopeless whatever the
// hash costs, and a slow one would cap how many tips the form can take per second.
func verifier(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// Records reads small named records.
type Records interface {
	GetRecord(ctx context.Context, key string) ([]byte, error)
}

// newReceipt makes a code whose record name is not taken yet, and the record to store for it
// with the tip.
func issueReceipt(ctx context.Context, rs Records, tipID string, at time.Time) (code, key string, record []byte, err error) {
	for {
		code = newReceipt()
		key = receiptKey(code)
		_, err := rs.GetRecord(ctx, key)
		if err == nil {
			continue // 50-bit name collision: astronomically rare, but never share a record
		}
		if !errors.Is(err, archive.ErrNotFound) {
			return "", "", nil, fmt.Errorf("webform: receipt: %w", err)
		}
		record, err = json.Marshal(receiptRecord{TipID: tipID, ReceivedAt: at, Verifier: verifier(code)})
		return code, key, record, err
	}
}

var errNoReceipt = errors.New("webform: no such receipt")

func lookupReceipt(ctx context.Context, rs Records, code string) (*receiptRecord, error) {
	b, err := rs.GetRecord(ctx, receiptKey(code))
	if errors.Is(err, archive.ErrNotFound) {
		return nil, errNoReceipt
	}
	if err != nil {
		return nil, fmt.Errorf("webform: receipt: %w", err)
	}
	var r receiptRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("webform: receipt record: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(r.Verifier), []byte(verifier(code))) != 1 {
		return nil, errNoReceipt
	}
	return &r, nil
}
