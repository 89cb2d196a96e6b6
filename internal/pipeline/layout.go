package pipeline

import "path/filepath"

// Layout names what a process keeps in its data folder. It is the one place that does: the
// commands that read the folder without running the pipeline (tipline user add, tipline audit
// verify, tipline bench) ask it too.
//
//	archive/         the evidence archive: originals, attachments and records (internal/archive)
//	index/           the search index (index); index.rebuild/ beside it while a rebuild runs
//	kafka/           the embedded broker's log, when no --kafka is given
//	users.json       the analysts' accounts (internal/account)
//	audit.log        who searched, read and changed what (internal/audit)
//	feedback.jsonl   analysts' corrections and confirmations, for tipline rules fit
//	keys/            the offices' public keys reporters' identities are sealed for (default of --keys-dir)
//	public-csrf.key  the key that signs the report page's anti-forgery tokens
type Layout struct {
	Dir string // the data folder
}

// Archive is the evidence archive's folder.
func (l Layout) Archive() string { return filepath.Join(l.Dir, "archive") }

// Index is the search index's folder.
func (l Layout) Index() string { return filepath.Join(l.Dir, "index") }

// Kafka is the embedded broker's folder.
func (l Layout) Kafka() string { return filepath.Join(l.Dir, "kafka") }

// Users is the analysts' accounts file.
func (l Layout) Users() string { return filepath.Join(l.Dir, "users.json") }

// Audit is the audit log.
func (l Layout) Audit() string { return filepath.Join(l.Dir, "audit.log") }

// Feedback is the file of analysts' corrections and confirmations.
func (l Layout) Feedback() string { return filepath.Join(l.Dir, "feedback.jsonl") }

// Keys is the default folder of the offices' public keys.
func (l Layout) Keys() string { return filepath.Join(l.Dir, "keys") }

// CSRFKey is the file of the report page's anti-forgery key.
func (l Layout) CSRFKey() string { return filepath.Join(l.Dir, "public-csrf.key") }
