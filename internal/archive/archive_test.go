package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPutIsContentAddressedAndDeduplicated(t *testing.T) {
	for name, data := range map[string][]byte{
		"small blob, kept in the database": []byte("一条短线索"),
		"large blob, kept as a file":       bytes.Repeat([]byte("证据"), 100000),
	} {
		t.Run(name, func(t *testing.T) { testPut(t, data) })
	}
}

func testPut(t *testing.T, data []byte) {
	a, err := OpenLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	sum := sha256.Sum256(data)
	obj, err := a.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if obj.SHA256 != hex.EncodeToString(sum[:]) || obj.Size != int64(len(data)) || obj.Ref != "sha256:"+obj.SHA256 {
		t.Errorf("object %+v", obj)
	}
	if _, err := a.Put(ctx, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if n, size, _ := a.Stats(); n != 1 || size != int64(len(data)) {
		t.Errorf("%d objects of %d bytes after storing the same bytes twice", n, size)
	}
	rc, err := a.Open(ctx, obj.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) {
		t.Error("read back different bytes")
	}
	if _, err := a.Open(ctx, strings.Repeat("0", 64)); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing blob: %v", err)
	}
	if _, err := a.Open(ctx, "../../etc/passwd"); err == nil {
		t.Error("opened a path that is not a digest")
	}
}

func TestRecords(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []string{"tips/2026/01/02/b.json", "tips/2026/01/01/a.json", "receipts/x.json"} {
		if err := a.PutRecord(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.PutRecord(ctx, "tips/2026/01/01/a.json", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	keys, err := a.ListRecords(ctx, "tips/", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, " ") != "tips/2026/01/01/a.json tips/2026/01/02/b.json" {
		t.Errorf("listed %v", keys)
	}
	page, _ := a.ListRecords(ctx, "tips/", "", 1)
	next, _ := a.ListRecords(ctx, "tips/", page[0], 1)
	last, _ := a.ListRecords(ctx, "tips/", next[0], 1)
	if len(page) != 1 || len(next) != 1 || next[0] != keys[1] || len(last) != 0 {
		t.Errorf("pages %v %v %v", page, next, last)
	}
	if b, _ := a.GetRecord(ctx, "tips/2026/01/01/a.json"); string(b) != "v2" {
		t.Errorf("record not replaced: %q", b)
	}
	if _, err := a.GetRecord(ctx, "tips/none.json"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing record: %v", err)
	}
	for _, bad := range []string{"", "../x", "/abs", "a/../../x", `a\b`} {
		if err := a.PutRecord(ctx, bad, nil); err == nil {
			t.Errorf("accepted key %q", bad)
		}
	}
	if keys, err := a.ListRecords(ctx, "nothing-here/", "", 10); err != nil || len(keys) != 0 {
		t.Errorf("listing an empty prefix: %v %v", keys, err)
	}
	// Leftovers of a crash mid-write are cleared at open and never listed.
	if err := os.WriteFile(filepath.Join(dir, "tmp", "blob-123"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.Close()
	a, err = OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if b, _ := a.GetRecord(ctx, "receipts/x.json"); string(b) != "receipts/x.json" {
		t.Errorf("record lost across reopen: %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "tmp", "*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestFilesAreReadableByAnotherProcess stores a small scan with PutFile while the archive is
// open, and reads it through Files, as the OCR stage on its own does; the database itself stays
// locked to its one process.
func TestFilesAreReadableByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	scan := []byte("\x89PNG small scan")
	b := a.Batch()
	obj, err := b.PutFile(ctx, bytes.NewReader(scan))
	if err != nil {
		t.Fatal(err)
	}
	inline, err := b.Put(ctx, strings.NewReader("inline text"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	files, err := OpenFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := files.Check(); err != nil {
		t.Fatal(err)
	}
	rc, err := files.Open(ctx, obj.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, scan) {
		t.Errorf("read %q", got)
	}
	if rc, err := a.Open(ctx, obj.SHA256); err != nil {
		t.Errorf("the archive itself does not find its file blob: %v", err)
	} else {
		rc.Close()
	}
	if _, err := files.Open(ctx, inline.SHA256); !errors.Is(err, ErrNotFound) {
		t.Errorf("inline blob through Files: %v, want ErrNotFound", err)
	}
	if _, err := OpenFiles(filepath.Join(dir, "missing")); err == nil {
		t.Error("opened the files of an archive that does not exist")
	}
}
