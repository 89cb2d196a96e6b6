package webform

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

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
	// Verifier is argon2id of the whole code with Salt and the cost below, so that whoever
	// copies the archive still cannot turn records back into receipts quickly.
	Verifier string     `json:"verifier"`
	Salt     string     `json:"salt"`
	Cost     argon2Cost `json:"cost"`
}

type argon2Cost struct {
	Time    uint32 `json:"t"`
	Memory  uint32 `json:"m"` // KiB
	Threads uint8  `json:"p"`
}

// receiptCost is about 0.3 ms of one core (go test ./ingest/webform -bench ReceiptVerifier).
// The code's 100 random bits already make guessing hopeless; the hash guards records copied
// from the archive, where 50 bits are left to guess at that price per receipt. A dearer one
// would eat the CPU the form needs: at 512 KiB the end-to-end bench fell from 1,077 to 920
// tips/s. Records keep their cost, so it can be raised later without invalidating receipts.
var receiptCost = argon2Cost{Time: 1, Memory: 1 << 8, Threads: 1}

func (c argon2Cost) verifier(code string, salt []byte) string {
	return hex.EncodeToString(argon2.IDKey([]byte(code), salt, c.Time, c.Memory, c.Threads, 32))
}

func receiptKey(code string) string { return archive.ReceiptKey(code[:lookupSymbols]) }

// Records reads small named records.
type Records interface {
	GetRecord(ctx context.Context, key string) ([]byte, error)
}

// issueReceipt makes a code whose record name is not taken yet, and the record to store for
// it with the tip.
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
		salt := make([]byte, 16)
		_, _ = rand.Read(salt)
		record, err = json.Marshal(receiptRecord{TipID: tipID, ReceivedAt: at,
			Verifier: receiptCost.verifier(code, salt), Salt: hex.EncodeToString(salt), Cost: receiptCost})
		return code, key, record, err
	}
}

var errNoReceipt = errors.New("webform: no such receipt")

// decoy stands in for a missing record, so that an unknown receipt costs the same hash as a
// wrong one and the two cannot be told apart by timing.
var decoy = receiptRecord{Salt: "00000000000000000000000000000000", Cost: receiptCost}

func lookupReceipt(ctx context.Context, rs Records, code string) (*receiptRecord, error) {
	r := decoy
	found := false
	b, err := rs.GetRecord(ctx, receiptKey(code))
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("webform: receipt record: %w", err)
		}
		found = true
	case !errors.Is(err, archive.ErrNotFound):
		return nil, fmt.Errorf("webform: receipt: %w", err)
	}
	salt, err := hex.DecodeString(r.Salt)
	if err != nil {
		return nil, fmt.Errorf("webform: receipt record: %w", err)
	}
	got := r.Cost.verifier(code, salt)
	if subtle.ConstantTimeCompare([]byte(r.Verifier), []byte(got)) != 1 || !found {
		return nil, errNoReceipt
	}
	return &r, nil
}
