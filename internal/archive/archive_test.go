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
	a, err := OpenLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := bytes.Repeat([]byte("证据"), 100000)
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
	var keys []string
	if err := a.ListRecords(ctx, "tips", func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, " ") != "tips/2026/01/01/a.json tips/2026/01/02/b.json" {
		t.Errorf("listed %v", keys)
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
	if err := a.ListRecords(ctx, "nothing-here", func(string) error { return nil }); err != nil {
		t.Errorf("listing an empty prefix: %v", err)
	}
	// Leftovers of a crash mid-write are cleared at open and never listed.
	if err := os.WriteFile(filepath.Join(dir, "tmp", "blob-123"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenLocal(dir); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "tmp", "*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
