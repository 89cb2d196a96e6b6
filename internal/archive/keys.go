package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// The archive's records are named by key; each kind of record has its prefix here and nowhere
// else, so the archive's layout reads in one place (docs/architecture.md, "The data folder").
// Changing a key orphans the records written under the old one: the manifests and the kept
// tips are what rebuilds and the reconciler read, the duplicate records what keeps a letter or
// a message from being taken in twice.
const (
	// ManifestPrefix holds each tip as ingested, by day of receipt: what the reconciler
	// publishes again when the index lacks it.
	ManifestPrefix = "tips/"
	// KeptPrefix holds each tip as it was last indexed (text, OCR reading, verdict, the
	// analysts' changes): what a rebuild from the archive reads.
	KeptPrefix = "indexed/"
)

// ManifestKey is the record of a tip as ingested.
func ManifestKey(id string, receivedAt time.Time) string {
	return ManifestPrefix + receivedAt.UTC().Format("2006/01/02") + "/" + id + ".json"
}

// KeptKey is the record of a tip as last indexed.
func KeptKey(id string) string { return KeptPrefix + id + ".json" }

// WorkflowKey is a tip's handling state, {"status": …}: what the reporter's status page reads,
// written by the analysts' desk.
func WorkflowKey(id string) string { return "workflow/" + id + ".json" }

// IdentityKey is a real-name reporter's identity, sealed for their offices.
func IdentityKey(id string) string { return "identities/" + id + ".age" }

// ReceiptKey is the record a receipt code leads to, by the code's look-up part.
func ReceiptKey(lookup string) string { return "receipts/" + lookup + ".json" }

// LetterKey records that a scan with this sha256 was taken in, per scope (an uploader's
// offices); the watched folder's scope "" keeps the key it always had.
func LetterKey(scope, sha string) string {
	if scope == "" {
		return "letters/sha256/" + sha + ".json"
	}
	return "letters/" + scope + "/sha256/" + sha + ".json"
}

// EmailKeys record that a message was taken in, by its bytes and by its Message-ID, per scope;
// the mailboxes' scope "" keeps the keys it always had.
func EmailKeys(scope string, raw []byte, messageID string) []string {
	prefix := "email/"
	if scope != "" {
		prefix += scope + "/"
	}
	sum := sha256.Sum256(raw)
	keys := []string{prefix + "sha256/" + hex.EncodeToString(sum[:]) + ".json"}
	if messageID != "" {
		h := sha256.Sum256([]byte(messageID))
		keys = append(keys, prefix+"message-id/"+hex.EncodeToString(h[:])+".json")
	}
	return keys
}

// CheckpointKey is a mailbox's checkpoint (UIDVALIDITY and the last UID taken), by the
// mailbox's server, user and folder.
func CheckpointKey(addr, user, mailbox string) string {
	sum := sha256.Sum256([]byte(addr + "\x00" + user + "\x00" + mailbox))
	return "email/checkpoint/" + hex.EncodeToString(sum[:8]) + ".json"
}
