package archive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// files lists every file under the archive's blobs/ and tmp/ folders.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"blobs", "tmp"} {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				out = append(out, strings.TrimPrefix(p, dir+"/"))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// A batch that is discarded (a refused or cut-off upload) leaves no file and no record, and
// nothing it held was visible before.
func TestDiscardedBatchLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	b := a.Batch()
	big, err := b.Put(ctx, bytes.NewReader(bytes.Repeat([]byte("录音"), 100_000)))
	if err != nil {
		t.Fatal(err)
	}
	scan, err := b.PutFile(ctx, strings.NewReader("\x89PNG scan"))
	if err != nil {
		t.Fatal(err)
	}
	small, err := b.Put(ctx, strings.NewReader("short"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.PutRecord("tips/x.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	for _, sha := range []string{big.SHA256, scan.SHA256, small.SHA256} {
		if _, err := a.Open(ctx, sha); !errors.Is(err, ErrNotFound) {
			t.Errorf("blob %s visible before Commit: %v", sha[:8], err)
		}
		rc, err := b.Open(ctx, sha) // the batch itself reads what it holds
		if err != nil {
			t.Fatalf("batch cannot read its own blob: %v", err)
		}
		rc.Close()
	}
	if got := len(files(t, dir)); got != 2 {
		t.Errorf("%d staged files, want 2", got)
	}
	b.Discard()
	b.Discard() // twice is harmless
	if left := files(t, dir); len(left) != 0 {
		t.Errorf("files left after Discard: %v", left)
	}
	if err := b.Commit(); !errors.Is(err, ErrDiscarded) {
		t.Errorf("Commit after Discard: %v", err)
	}
	if n, _, _ := a.Stats(); n != 0 {
		t.Errorf("%d blobs stored", n)
	}
	if _, err := a.GetRecord(ctx, "tips/x.json"); !errors.Is(err, ErrNotFound) {
		t.Errorf("record stored: %v", err)
	}
}

// A blob stored by an earlier, committed batch survives a later batch that carried the same
// bytes and was discarded; Discard after Commit changes nothing.
func TestDiscardNeverDeletesABlobStoredBefore(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	data := bytes.Repeat([]byte("证据"), 100_000)
	first := a.Batch()
	obj, err := first.PutFile(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Commit(); err != nil {
		t.Fatal(err)
	}
	first.Discard() // deferred by a caller: nothing happens after Commit
	refused := a.Batch()
	if _, err := refused.PutFile(ctx, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	refused.Discard()
	rc, err := a.Open(ctx, obj.SHA256)
	if err != nil {
		t.Fatalf("blob of the accepted batch gone: %v", err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) {
		t.Error("blob changed")
	}
	if left := files(t, dir); len(left) != 1 {
		t.Errorf("files %v, want the one blob", left)
	}
}

// Two batches carrying the same bytes at once, one committed and one discarded, in either
// order: the committed one's blob is in place afterwards.
func TestConcurrentBatchesSharingABlob(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	for i := range 50 {
		data := bytes.Repeat([]byte{byte(i)}, 70_000+i)
		var wg sync.WaitGroup
		var sha string
		wg.Go(func() {
			b := a.Batch()
			defer b.Discard()
			obj, err := b.PutFile(ctx, bytes.NewReader(data))
			if err == nil {
				err = b.Commit()
			}
			if err != nil {
				t.Error(err)
			}
			sha = obj.SHA256
		})
		wg.Go(func() {
			b := a.Batch()
			if _, err := b.PutFile(ctx, bytes.NewReader(data)); err != nil {
				t.Error(err)
			}
			b.Discard()
		})
		wg.Wait()
		rc, err := a.Open(ctx, sha)
		if err != nil {
			t.Fatalf("round %d: committed blob gone: %v", i, err)
		}
		rc.Close()
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "tmp", "*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
