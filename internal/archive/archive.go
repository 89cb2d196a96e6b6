// Package archive is tipline's evidence store and system of record: original bytes stored by
// their SHA-256, and small named records (tip manifests, receipts) beside them.
//
// Local keeps everything under one folder. Every write goes to a temporary file that is renamed
// into place and then flushed to disk together with the writes of concurrent callers (see
// groupSync), so after a call returns the object survives a crash and a reader never sees half
// a file. An S3-compatible backend
// (gocloud.dev/blob) can offer the same methods: objects are immutable and keys are plain paths.
package archive

import (
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
)

// ErrNotFound is returned for a missing blob or record.
var ErrNotFound = errors.New("archive: not found")

// Object describes a stored blob.
type Object struct {
	SHA256 string // lowercase hex
	Size   int64
	Ref    string // "sha256:<hex>", the reference tips carry
}

// Local is a Store on the local file system.
type Local struct {
	root string
	sync *groupSync
}

// OpenLocal opens (creating if needed) an archive rooted at dir.
func OpenLocal(dir string) (*Local, error) {
	for _, sub := range []string{"blobs", "records", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("archive: open %s: %w", dir, err)
		}
	}
	// A crash leaves temporary files behind; they were never renamed, so nothing refers to them.
	tmps, _ := filepath.Glob(filepath.Join(dir, "tmp", "*"))
	for _, t := range tmps {
		_ = os.Remove(t)
	}
	g, err := newGroupSync(dir)
	if err != nil {
		return nil, fmt.Errorf("archive: open %s: %w", dir, err)
	}
	return &Local{root: dir, sync: g}, nil
}

// Close releases the archive.
func (l *Local) Close() error { return l.sync.Close() }

// Ref is the archive reference for a blob with the given hex digest.
func Ref(sha string) string { return "sha256:" + sha }

// Put durably stores the bytes read from r and returns their digest. Storing the same bytes
// twice keeps one copy. The bytes are streamed, never held in memory whole.
func (l *Local) Put(ctx context.Context, r io.Reader) (Object, error) {
	obj, err := l.write(ctx, r)
	if err == nil {
		err = l.sync.Sync()
	}
	return obj, err
}

// write stores a blob without waiting for it to reach the disk.
func (l *Local) write(ctx context.Context, r io.Reader) (Object, error) {
	f, err := os.CreateTemp(filepath.Join(l.root, "tmp"), "blob-*")
	if err != nil {
		return Object{}, fmt.Errorf("archive: put: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op once renamed
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), readerWithContext{ctx, r})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Object{}, fmt.Errorf("archive: put: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	obj := Object{SHA256: sum, Size: n, Ref: Ref(sum)}
	final := l.blobPath(sum)
	if _, err := os.Stat(final); err == nil {
		return obj, nil // already stored
	}
	if err := place(tmp, final); err != nil {
		return Object{}, fmt.Errorf("archive: put %s: %w", sum, err)
	}
	return obj, nil
}

// Open returns a reader for the blob with the given hex digest.
func (l *Local) Open(_ context.Context, sha string) (io.ReadCloser, error) {
	if !validSHA(sha) {
		return nil, fmt.Errorf("archive: open: invalid digest %q", sha)
	}
	f, err := os.Open(l.blobPath(sha))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("archive: open %s: %w", sha, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("archive: open %s: %w", sha, err)
	}
	return f, nil
}

// PutRecord durably stores a small named record, replacing any earlier one. Keys are
// slash-separated relative paths such as "tips/2026/11/28/<id>.json".
func (l *Local) PutRecord(_ context.Context, key string, data []byte) error {
	err := l.writeRecord(key, data)
	if err == nil {
		err = l.sync.Sync()
	}
	return err
}

// writeRecord stores a record without waiting for it to reach the disk.
func (l *Local) writeRecord(key string, data []byte) error {
	p, err := l.recordPath(key)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Join(l.root, "tmp"), "rec-*")
	if err != nil {
		return fmt.Errorf("archive: put record %s: %w", key, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = place(tmp, p)
	}
	if err != nil {
		return fmt.Errorf("archive: put record %s: %w", key, err)
	}
	return nil
}

// Batch groups writes that become durable together, with one flush at Commit: a submission's
// original, attachments and records cost one wait for the disk instead of one each.
type Batch struct {
	l *Local
}

// Batch starts a group of writes.
func (l *Local) Batch() *Batch { return &Batch{l: l} }

// Put stores a blob; it is durable once Commit returned nil.
func (b *Batch) Put(ctx context.Context, r io.Reader) (Object, error) { return b.l.write(ctx, r) }

// PutRecord stores a record; it is durable once Commit returned nil.
func (b *Batch) PutRecord(key string, data []byte) error { return b.l.writeRecord(key, data) }

// Commit returns once every write of the batch is on disk.
func (b *Batch) Commit() error { return b.l.sync.Sync() }

// GetRecord reads a record stored by PutRecord.
func (l *Local) GetRecord(_ context.Context, key string) ([]byte, error) {
	p, err := l.recordPath(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("archive: record %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("archive: record %s: %w", key, err)
	}
	return b, nil
}

// ListRecords calls fn with the key of every record under prefix, in lexical order.
func (l *Local) ListRecords(ctx context.Context, prefix string, fn func(key string) error) error {
	base := filepath.Join(l.root, "records")
	start, err := l.recordPath(strings.TrimSuffix(prefix, "/"))
	if err != nil {
		return err
	}
	err = filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(base, p)
		if err != nil {
			return err
		}
		return fn(filepath.ToSlash(rel))
	})
	if err != nil {
		return fmt.Errorf("archive: list %s: %w", prefix, err)
	}
	return nil
}

// Stats counts the stored blobs and their bytes.
func (l *Local) Stats() (objects, bytes int64, err error) {
	err = filepath.WalkDir(filepath.Join(l.root, "blobs"), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		objects++
		bytes += info.Size()
		return nil
	})
	return objects, bytes, err
}

// Check reports whether the archive folder is usable, for readiness probes.
func (l *Local) Check() error {
	_, err := os.Stat(filepath.Join(l.root, "tmp"))
	return err
}

func (l *Local) blobPath(sha string) string {
	return filepath.Join(l.root, "blobs", sha[:2], sha[2:4], sha)
}

func (l *Local) recordPath(key string) (string, error) {
	clean := path.Clean("/" + key)[1:]
	if key == "" || clean != key || strings.Contains(key, "\\") {
		return "", fmt.Errorf("archive: invalid record key %q", key)
	}
	return filepath.Join(l.root, "records", filepath.FromSlash(key)), nil
}

// place renames tmp to final. Durability comes from the flush that follows (groupSync).
func place(tmp, final string) error {
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return err
	}
	return os.Rename(tmp, final)
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
