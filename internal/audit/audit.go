// Package audit keeps the analysts' audit log: who searched for what, viewed or exported which
// tips, opened which identity, corrected what, logged in. The log is append-only JSON lines,
// each entry carrying the hash of the one before, so that changing, removing or reordering an
// entry breaks the chain and Verify finds where.
package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"
)

// Entry is one audited action.
type Entry struct {
	Seq    int64          `json:"seq"`
	Time   time.Time      `json:"time"`
	User   string         `json:"user"`
	Action string         `json:"action"` // search, view, download, identity, identity_original, export, correct, login, login_failed, rebuild
	Target string         `json:"target,omitempty"`
	Detail map[string]any `json:"detail,omitempty"`
	// UserOffice is the acting user's office (a code, "city" or "all"); Offices are the offices
	// of the tips the action touched (a correction's old and new one). They say whose entry it is
	// (VisibleTo). Both are left out of the JSON when empty, so entries written before them keep
	// their hashes.
	UserOffice string   `json:"user_office,omitempty"`
	Offices    []string `json:"offices,omitempty"`
	Prev       string   `json:"prev"`
	Hash       string   `json:"hash"`
}

// VisibleTo reports whether a reader who sees the tips of offices (nil: every office) may read
// e: the entry is about one of those offices' tips, or about what a user of one of them did
// (their searches, sign-ins). An entry that names no office (a failed sign-in, an entry written
// before entries carried offices, an action on the desk before accounts existed) is for readers
// of every office only.
func (e Entry) VisibleTo(offices []string) bool {
	if offices == nil {
		return true
	}
	if e.UserOffice != "" && slices.Contains(offices, e.UserOffice) {
		return true
	}
	for _, o := range e.Offices {
		if slices.Contains(offices, o) {
			return true
		}
	}
	return false
}

// hash is SHA-256 over the entry's JSON with Hash empty: Prev ties it to the entry before.
func (e Entry) hash() string {
	e.Hash = ""
	b, _ := json.Marshal(e)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Log appends entries to a file, each durable before Append returns.
type Log struct {
	mu   sync.Mutex
	f    *os.File
	seq  int64
	last string
	now  func() time.Time
}

// Open opens (creating) the log at path and checks its chain, so appending never extends a
// broken one silently.
func Open(path string) (*Log, error) {
	c, err := scanFile(path, Cursor{}, nil, false)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return &Log{f: f, seq: c.seq, last: c.last, now: time.Now}, nil
}

// Append records an action.
func (l *Log) Append(user, action, target string, detail map[string]any) error {
	return l.Add(Entry{User: user, Action: action, Target: target, Detail: detail})
}

// Add records an action given as an entry: its user, action, target, detail and offices; the
// log numbers, times and chains it.
func (l *Log) Add(e Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.Seq, e.Time, e.Prev = l.seq+1, l.now().UTC(), l.last
	e.Hash = e.hash()
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if _, err := l.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	l.seq, l.last = e.Seq, e.Hash
	return nil
}

// Close closes the file.
func (l *Log) Close() error { return l.f.Close() }

// ErrBroken means the chain does not hold: an entry was changed, removed, inserted or reordered.
var ErrBroken = errors.New("audit: chain broken")

// Verify checks the whole chain at path and returns the number of entries.
func Verify(path string) (int64, error) { return Scan(path, nil) }

// Scan calls fn (if not nil) with every entry, oldest first, checking the chain as it reads: it
// returns the number of entries, or ErrBroken at the first one that does not follow, after fn
// has seen those before it.
func Scan(path string, fn func(Entry)) (int64, error) {
	c, err := scanFile(path, Cursor{}, fn, false)
	return c.seq, err
}

// Cursor is where a read of the log stopped: the next byte, and the entry before it.
type Cursor struct {
	offset int64
	line   int
	seq    int64
	last   string
}

// ScanFrom is Scan for a reader that follows the log as it grows: it starts where an earlier
// read stopped (the zero Cursor: at the beginning) and returns where it stopped. It reads whole
// lines only, leaving one still being written for the next read. A log shorter than the cursor
// has lost entries: ErrBroken.
func ScanFrom(path string, c Cursor, fn func(Entry)) (Cursor, error) {
	return scanFile(path, c, fn, true)
}

func scanFile(path string, c Cursor, fn func(Entry), follow bool) (Cursor, error) {
	f, err := os.Open(path)
	if err != nil {
		return c, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return c, fmt.Errorf("audit: %w", err)
	} else if st.Size() < c.offset {
		return c, fmt.Errorf("%w: the log is shorter than when it was last read (%d bytes, was %d)", ErrBroken, st.Size(), c.offset)
	}
	if _, err := f.Seek(c.offset, io.SeekStart); err != nil {
		return c, fmt.Errorf("audit: %w", err)
	}
	return scan(bufio.NewReaderSize(f, 64<<10), c, fn, follow)
}

func scan(r *bufio.Reader, c Cursor, fn func(Entry), follow bool) (Cursor, error) {
	for {
		b, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) && (follow || len(b) == 0) {
			return c, nil // a line without its end is being written: left for the next read
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("audit: %w", err)
		}
		line := c.line + 1
		if len(bytes.TrimSpace(b)) == 0 {
			return c, fmt.Errorf("%w at line %d: empty line", ErrBroken, line)
		}
		var e Entry
		if err := json.Unmarshal(b, &e); err != nil {
			return c, fmt.Errorf("%w at line %d: %v", ErrBroken, line, err)
		}
		switch {
		case e.Seq != c.seq+1:
			return c, fmt.Errorf("%w at line %d: entry %d follows %d", ErrBroken, line, e.Seq, c.seq)
		case e.Prev != c.last:
			return c, fmt.Errorf("%w at line %d (entry %d): it does not follow the entry before", ErrBroken, line, e.Seq)
		case e.hash() != e.Hash:
			return c, fmt.Errorf("%w at line %d (entry %d): its content was changed", ErrBroken, line, e.Seq)
		}
		if fn != nil {
			fn(e)
		}
		c = Cursor{offset: c.offset + int64(len(b)), line: line, seq: e.Seq, last: e.Hash}
		if err != nil { // the last line, without its end: a whole Scan takes it as it is
			return c, nil
		}
	}
}
