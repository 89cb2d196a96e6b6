package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeLog(t *testing.T) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range []string{"login", "search", "view", "export", "identity"} {
		if err := l.Append("wei.analyst", a, "01JTIP", map[string]any{"q": "裸聊", "results": i}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	b, _ := os.ReadFile(path)
	return path, b
}

func TestChainHoldsAndResumesAfterReopen(t *testing.T) {
	path, _ := writeLog(t)
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l.Append("li.supervisor", "correct", "01JTIP", nil)
	l.Close()
	if n, err := Verify(path); err != nil || n != 6 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

func TestTamperingIsFound(t *testing.T) {
	_, orig := writeLog(t)
	lines := bytes.SplitAfter(orig, []byte("\n"))
	tests := []struct {
		name   string
		change func() []byte
		line   string
	}{
		{"a field changed", func() []byte { return bytes.Replace(orig, []byte(`"action":"view"`), []byte(`"action":"vieW"`), 1) }, "line 3"},
		{"an entry removed", func() []byte { return bytes.Join([][]byte{lines[0], lines[1], lines[3], lines[4]}, nil) }, "line 3"},
		{"two entries swapped", func() []byte { return bytes.Join([][]byte{lines[0], lines[2], lines[1], lines[3]}, nil) }, "line 2"},
		{"an entry rewritten with its hash", func() []byte {
			// Recomputing one entry's hash does not help: the next entry points at the old one.
			e := strings.Replace(string(lines[1]), `"q":"裸聊"`, `"q":"x"`, 1)
			return bytes.Join([][]byte{lines[0], []byte(rehash(t, e)), lines[2]}, nil)
		}, "line 3"},
	}
	for _, tc := range tests {
		path := filepath.Join(t.TempDir(), "audit.log")
		os.WriteFile(path, tc.change(), 0o600)
		_, err := Verify(path)
		if !errors.Is(err, ErrBroken) || !strings.Contains(err.Error(), tc.line) {
			t.Errorf("%s: %v; want broken at %s", tc.name, err, tc.line)
		}
		if _, err := Open(path); err == nil {
			t.Errorf("%s: Open appends to a broken chain", tc.name)
		}
	}
}

func rehash(t *testing.T, line string) string {
	t.Helper()
	var e Entry
	if err := jsonUnmarshal([]byte(line), &e); err != nil {
		t.Fatal(err)
	}
	e.Hash = e.hash()
	b, _ := jsonMarshal(e)
	return string(b) + "\n"
}

var (
	jsonMarshal   = json.Marshal
	jsonUnmarshal = json.Unmarshal
)

// TestScanFromFollowsTheLog: a follower reads each entry once as the log grows, leaves a line
// still being written for later, and finds a log that lost entries or a changed new entry.
func TestScanFromFollowsTheLog(t *testing.T) {
	path, orig := writeLog(t)
	lines := bytes.SplitAfter(orig, []byte("\n"))
	write := func(parts ...[]byte) {
		t.Helper()
		if err := os.WriteFile(path, bytes.Join(parts, nil), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var seen []int64
	read := func(c Cursor) (Cursor, error) {
		return ScanFrom(path, c, func(e Entry) { seen = append(seen, e.Seq) })
	}
	write(lines[0], lines[1])
	c, err := read(Cursor{})
	if err != nil || fmt.Sprint(seen) != "[1 2]" {
		t.Fatalf("first read: %v, %v", seen, err)
	}
	half := len(lines[4]) / 2
	write(lines[0], lines[1], lines[2], lines[3], lines[4][:half])
	if c, err = read(c); err != nil || fmt.Sprint(seen) != "[1 2 3 4]" {
		t.Fatalf("second read: %v, %v", seen, err)
	}
	write(lines[0], lines[1], lines[2], lines[3], lines[4])
	if c, err = read(c); err != nil || fmt.Sprint(seen) != "[1 2 3 4 5]" {
		t.Fatalf("third read: %v, %v", seen, err)
	}
	if _, err := read(c); err != nil || len(seen) != 5 {
		t.Fatalf("nothing new: %v, %v", seen, err)
	}
	write(lines[0], lines[1])
	if _, err := read(c); !errors.Is(err, ErrBroken) {
		t.Errorf("a log that lost entries: %v", err)
	}
	mid := Cursor{}
	write(lines[0], lines[1], lines[2])
	if mid, err = ScanFrom(path, Cursor{}, nil); err != nil {
		t.Fatal(err)
	}
	write(lines[0], lines[1], lines[2], bytes.Replace(lines[3], []byte(`"results":3`), []byte(`"results":9`), 1))
	if _, err := ScanFrom(path, mid, nil); !errors.Is(err, ErrBroken) || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("a changed new entry: %v", err)
	}
}
