// Package archive is tipline's evidence store and system of record: original bytes stored by
// their SHA-256, and small named records (tip manifests, receipts) beside them.
//
// Local keeps everything under one folder. Small blobs (up to InlineLimit) and all records live
// in a bbolt database, whose transactions are committed in groups: concurrent writers share one
// fsync, and a submission's original, attachments and records become durable together. Larger
// blobs are files, written to a temporary name, renamed into place at Commit and flushed with
// the writes of concurrent callers (groupSync); a batch that is discarded instead (a refused
// upload) removes its temporary files and leaves no trace. After a commit returns, the objects
// survive a crash and a reader never sees half of one. An S3-compatible backend (gocloud.dev/blob) can offer the same
// methods: objects are immutable and keys are plain paths.
package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNotFound is returned for a missing blob or record.
var ErrNotFound = errors.New("archive: not found")

// InlineLimit is the largest blob kept inside the database rather than as a file of its own.
const InlineLimit = 64 << 10

var (
	bucketBlobs   = []byte("blobs")
	bucketRecords = []byte("records")
)

// Object describes a stored blob.
type Object struct {
	SHA256 string // lowercase hex
	Size   int64
	Ref    string // "sha256:<hex>", the reference tips carry
}

// Local is the archive on the local file system.
type Local struct {
	blobs Files
	root  string
	db    *bolt.DB
	files *groupSync
}

// OpenLocal opens (creating if needed) an archive rooted at dir.
func OpenLocal(dir string) (*Local, error) {
	// Every blob folder exists from the start, so storing a blob creates one file and no folder.
	subs := []string{"tmp"}
	for i := range 256 {
		subs = append(subs, filepath.Join("blobs", fmt.Sprintf("%02x", i)))
	}
	for _, sub := range subs {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("archive: open %s: %w", dir, err)
		}
	}
	// A crash leaves temporary files behind; they were never renamed, so nothing refers to them.
	tmps, _ := filepath.Glob(filepath.Join(dir, "tmp", "*"))
	for _, t := range tmps {
		_ = os.Remove(t)
	}
	// The freelist is rebuilt at open instead of written at every commit. (A large initial map,
	// tried to spare remapping stalls, made every commit slower: 1,250 → 860 tips/s end to end.)
	db, err := bolt.Open(filepath.Join(dir, "archive.db"), 0o600, &bolt.Options{Timeout: 10 * time.Second,
		NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("archive: open %s: %w", dir, err)
	}
	// Group commit: writers arriving within a few milliseconds share one transaction and fsync.
	db.MaxBatchDelay = 2 * time.Millisecond
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketBlobs, bucketRecords} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		var g *groupSync
		if g, err = newGroupSync(dir); err == nil {
			return &Local{blobs: Files{root: dir}, root: dir, db: db, files: g}, nil
		}
	}
	db.Close()
	return nil, fmt.Errorf("archive: open %s: %w", dir, err)
}

// Close releases the archive.
func (l *Local) Close() error {
	return errors.Join(l.db.Close(), l.files.Close())
}

// Ref is the archive reference for a blob with the given hex digest.
func Ref(sha string) string { return "sha256:" + sha }

// Put durably stores the bytes read from r and returns their digest. Storing the same bytes
// twice keeps one copy. Large blobs are streamed to disk, never held in memory whole.
func (l *Local) Put(ctx context.Context, r io.Reader) (Object, error) {
	b := l.Batch()
	obj, err := b.Put(ctx, r)
	if err == nil {
		err = b.Commit()
	}
	return obj, err
}

// PutRecord durably stores a small named record, replacing any earlier one. Keys are
// slash-separated relative paths such as "tips/2026/11/28/<id>.json".
func (l *Local) PutRecord(_ context.Context, key string, data []byte) error {
	b := l.Batch()
	if err := b.PutRecord(key, data); err != nil {
		return err
	}
	return b.Commit()
}

// Batch groups writes that become durable together at Commit: a submission's original,
// attachments and records cost one wait for the disk instead of one each.
//
// Nothing a batch holds is visible in the archive before Commit: small blobs and records wait
// in memory, and blobs stored as files wait as temporary files in tmp/ (staged), renamed into
// blobs/ at Commit. A batch that is never committed (a refused or cut-off upload) is dropped
// with Discard, which removes only its own temporary files: a blob already in the archive,
// or promoted by another batch, is never deleted, so a refused submission that carried the
// same bytes as an accepted tip cannot take that tip's evidence with it. The archive itself
// never deletes a blob.
type Batch struct {
	l *Local

	mu        sync.Mutex
	blobs     map[string][]byte // small blobs by digest, written at Commit
	records   map[string][]byte
	staged    map[string]string // file blobs by digest: temporary files renamed into place at Commit
	files     bool              // a blob went to a file: flush files at Commit
	discarded bool
}

// ErrDiscarded is returned for writes to a batch after Discard.
var ErrDiscarded = errors.New("archive: batch discarded")

// Batch starts a group of writes.
func (l *Local) Batch() *Batch {
	return &Batch{l: l, blobs: map[string][]byte{}, records: map[string][]byte{}, staged: map[string]string{}}
}

// Put stores a blob; it is durable once Commit returned nil.
func (b *Batch) Put(ctx context.Context, r io.Reader) (Object, error) {
	bufp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bufp)
	head := (*bufp)[:InlineLimit+1]
	n, err := io.ReadFull(readerWithContext{ctx, r}, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return Object{}, fmt.Errorf("archive: put: %w", err)
	}
	if n <= InlineLimit {
		sum := sha256.Sum256(head[:n])
		hexSum := hex.EncodeToString(sum[:])
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.discarded {
			return Object{}, ErrDiscarded
		}
		b.blobs[hexSum] = bytes.Clone(head[:n])
		return Object{SHA256: hexSum, Size: int64(n), Ref: Ref(hexSum)}, nil
	}
	return b.stage(io.MultiReader(bytes.NewReader(head[:n]), readerWithContext{ctx, r}))
}

// copyBuffers are reused between writes: uploads arrive by the hundred a second, and a fresh
// 64 KiB buffer for each would keep the garbage collector busy.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, InlineLimit+1); return &b }}

// PutFile stores a blob as a file of its own whatever its size, for bytes that another process
// reads through Files (scans and images waiting for the OCR stage); durable once Commit returned nil.
func (b *Batch) PutFile(ctx context.Context, r io.Reader) (Object, error) {
	return b.stage(readerWithContext{ctx, r})
}

// stage writes a file blob to a temporary file that Commit renames into place. A blob the
// archive already holds is not staged again: the batch refers to the stored copy.
func (b *Batch) stage(r io.Reader) (Object, error) {
	obj, tmp, err := b.l.writeTemp(r)
	if err != nil {
		return Object{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.discarded:
		os.Remove(tmp)
		return Object{}, ErrDiscarded
	case b.staged[obj.SHA256] != "", b.l.hasFile(obj.SHA256):
		os.Remove(tmp) // staged by this batch already, or stored before
	default:
		b.staged[obj.SHA256] = tmp
	}
	b.files = true
	return obj, nil
}

// Open reads a blob this batch holds (staged, not yet committed) or, failing that, one the
// archive holds.
func (b *Batch) Open(ctx context.Context, sha string) (io.ReadCloser, error) {
	b.mu.Lock()
	tmp, staged := b.staged[sha]
	inline, small := b.blobs[sha]
	b.mu.Unlock()
	switch {
	case staged:
		f, err := os.Open(tmp)
		if err != nil {
			return nil, fmt.Errorf("archive: open %s: %w", sha, err)
		}
		return f, nil
	case small:
		return io.NopCloser(bytes.NewReader(inline)), nil
	}
	return b.l.Open(ctx, sha)
}

// PutRecord stores a record; it is durable once Commit returned nil.
func (b *Batch) PutRecord(key string, data []byte) error {
	if err := validKey(key); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.discarded {
		return ErrDiscarded
	}
	b.records[key] = bytes.Clone(data)
	return nil
}

// Commit returns once every write of the batch is on disk.
func (b *Batch) Commit() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.discarded {
		return ErrDiscarded
	}
	for sum, tmp := range b.staged {
		if err := b.l.promote(sum, tmp); err != nil {
			return err
		}
		delete(b.staged, sum)
	}
	if b.files {
		if err := b.l.files.Sync(); err != nil {
			return err
		}
	}
	if len(b.blobs) == 0 && len(b.records) == 0 {
		return nil
	}
	// bolt may run this function more than once; every write in it is idempotent.
	err := b.l.db.Batch(func(tx *bolt.Tx) error {
		blobs, records := tx.Bucket(bucketBlobs), tx.Bucket(bucketRecords)
		for sum, data := range b.blobs {
			if blobs.Get([]byte(sum)) == nil {
				if err := blobs.Put([]byte(sum), data); err != nil {
					return err
				}
			}
		}
		for key, data := range b.records {
			if err := records.Put([]byte(key), data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("archive: commit: %w", err)
	}
	return nil
}

// Discard drops what the batch holds and has not committed: its staged files are removed at
// once and its small blobs and records forgotten. It touches nothing in blobs/, so blobs
// stored before or by other batches stay whatever their digest. After a successful Commit it
// does nothing; it may be called more than once (defer it beside the Batch call).
func (b *Batch) Discard() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for sum, tmp := range b.staged {
		os.Remove(tmp)
		delete(b.staged, sum)
	}
	clear(b.blobs)
	clear(b.records)
	b.discarded = true
}

// writeTemp writes a large blob to a temporary file, not yet flushed nor in place.
func (l *Local) writeTemp(r io.Reader) (Object, string, error) {
	f, err := os.CreateTemp(filepath.Join(l.root, "tmp"), "blob-*")
	if err != nil {
		return Object{}, "", fmt.Errorf("archive: put: %w", err)
	}
	tmp := f.Name()
	h := sha256.New()
	bufp := copyBuffers.Get().(*[]byte)
	n, err := io.CopyBuffer(io.MultiWriter(f, h), r, *bufp)
	copyBuffers.Put(bufp)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return Object{}, "", fmt.Errorf("archive: put: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	return Object{SHA256: sum, Size: n, Ref: Ref(sum)}, tmp, nil
}

// hasFile reports whether a file blob with this digest is in place.
func (l *Local) hasFile(sum string) bool {
	if _, err := os.Stat(l.blobs.blobPath(sum)); err == nil {
		return true
	}
	_, err := os.Stat(l.blobs.legacyPath(sum))
	return err == nil
}

// promote moves a staged file into place, or drops it when the blob is stored already.
func (l *Local) promote(sum, tmp string) error {
	if l.hasFile(sum) {
		os.Remove(tmp)
		return nil
	}
	if err := os.Rename(tmp, l.blobs.blobPath(sum)); err != nil {
		return fmt.Errorf("archive: put %s: %w", sum, err)
	}
	return nil
}

// Open returns a reader for the blob with the given hex digest.
func (l *Local) Open(ctx context.Context, sha string) (io.ReadCloser, error) {
	if !validSHA(sha) {
		return nil, fmt.Errorf("archive: open: invalid digest %q", sha)
	}
	var inline []byte
	err := l.db.View(func(tx *bolt.Tx) error {
		inline = bytes.Clone(tx.Bucket(bucketBlobs).Get([]byte(sha)))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("archive: open %s: %w", sha, err)
	}
	if inline != nil {
		return io.NopCloser(bytes.NewReader(inline)), nil
	}
	return l.blobs.Open(ctx, sha)
}

// Files is the part of an archive that other processes may read while one process holds the
// archive open: blobs stored as files. (The database allows one process at a time.) The OCR
// stage run on its own reads scans through it, from the same folder or a shared mount.
type Files struct{ root string }

// OpenFiles returns the file blobs of the archive rooted at dir, for reading.
func OpenFiles(dir string) (*Files, error) {
	if _, err := os.Stat(filepath.Join(dir, "blobs")); err != nil {
		return nil, fmt.Errorf("archive: open %s: %w", dir, err)
	}
	return &Files{root: dir}, nil
}

// Open returns a reader for the file blob with the given hex digest.
func (f *Files) Open(_ context.Context, sha string) (io.ReadCloser, error) {
	if !validSHA(sha) {
		return nil, fmt.Errorf("archive: open: invalid digest %q", sha)
	}
	r, err := os.Open(f.blobPath(sha))
	if errors.Is(err, fs.ErrNotExist) {
		r, err = os.Open(f.legacyPath(sha))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("archive: open %s: %w", sha, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("archive: open %s: %w", sha, err)
	}
	return r, nil
}

// Check reports whether the blobs folder is readable, for readiness probes.
func (f *Files) Check() error {
	d, err := os.Open(filepath.Join(f.root, "blobs"))
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	return d.Close()
}

func (f *Files) blobPath(sha string) string {
	return filepath.Join(f.root, "blobs", sha[:2], sha)
}

// legacyPath is where archives written before 2026-11-28 keep a blob: two folder levels, which
// cost a new folder for almost every blob stored.
func (f *Files) legacyPath(sha string) string {
	return filepath.Join(f.root, "blobs", sha[:2], sha[2:4], sha)
}

// GetRecord reads a record stored by PutRecord.
func (l *Local) GetRecord(_ context.Context, key string) ([]byte, error) {
	var data []byte
	err := l.db.View(func(tx *bolt.Tx) error {
		data = bytes.Clone(tx.Bucket(bucketRecords).Get([]byte(key)))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("archive: record %s: %w", key, err)
	}
	if data == nil {
		return nil, fmt.Errorf("archive: record %s: %w", key, ErrNotFound)
	}
	return data, nil
}

// ListRecords returns up to limit keys under prefix that sort after the key after (empty: from
// the start), in lexical order: for tip manifests, the order of receipt. Page through a prefix
// by passing the last key returned as the next after.
func (l *Local) ListRecords(ctx context.Context, prefix, after string, limit int) ([]string, error) {
	var keys []string
	err := l.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		p := []byte(prefix)
		k, _ := c.Seek(p)
		if after != "" {
			k, _ = c.Seek([]byte(after))
			if k != nil && string(k) == after {
				k, _ = c.Next()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, p) && len(keys) < limit; k, _ = c.Next() {
			keys = append(keys, string(k))
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("archive: list %s: %w", prefix, err)
	}
	return keys, nil
}

// Stats counts the stored blobs and their bytes.
func (l *Local) Stats() (objects, size int64, err error) {
	err = l.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBlobs).ForEach(func(_, v []byte) error {
			objects++
			size += int64(len(v))
			return nil
		})
	})
	if err != nil {
		return 0, 0, err
	}
	err = filepath.WalkDir(filepath.Join(l.root, "blobs"), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		objects++
		size += info.Size()
		return nil
	})
	return objects, size, err
}

// Check reports whether the archive is usable, for readiness probes.
func (l *Local) Check() error {
	if err := l.files.Err(); err != nil {
		return err
	}
	return l.db.View(func(*bolt.Tx) error { return nil })
}

func validKey(key string) error {
	clean := path.Clean("/" + key)[1:]
	if key == "" || clean != key || strings.Contains(key, "\\") {
		return fmt.Errorf("archive: invalid record key %q", key)
	}
	return nil
}

func validSHA(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// readerWithContext stops a long copy when the caller gives up.
type readerWithContext struct {
	ctx context.Context
	r   io.Reader
}

func (r readerWithContext) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
