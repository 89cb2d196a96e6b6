package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An entry says whose it is; a reader of some offices sees only theirs (issue 19, finding 4).
func TestEntryVisibleTo(t *testing.T) {
	yufeng := []string{"yufeng"}
	tests := []struct {
		name    string
		e       Entry
		offices []string
		want    bool
	}{
		{"a yufeng tip, read by yufeng", Entry{UserOffice: "city", Offices: []string{"yufeng"}}, yufeng, true},
		{"a yufeng user's search, read by yufeng", Entry{UserOffice: "yufeng", Action: "search"}, yufeng, true},
		{"a liunan identity opened, read by yufeng", Entry{UserOffice: "liunan", Offices: []string{"liunan"}, Action: "identity"}, yufeng, false},
		{"a liunan user's search, read by yufeng", Entry{UserOffice: "liunan", Action: "search"}, yufeng, false},
		{"a city user's search, read by yufeng", Entry{UserOffice: "city", Action: "search"}, yufeng, false},
		{"a tip moved from liunan to yufeng, read by yufeng", Entry{UserOffice: "liunan", Offices: []string{"liunan", "yufeng"}}, yufeng, true},
		{"a failed sign-in, read by yufeng", Entry{Action: "login_failed", Target: "yufeng.admin"}, yufeng, false},
		{"an entry without offices (older), read by yufeng", Entry{User: "wei", Action: "view", Target: "01JTIP"}, yufeng, false},
		{"a failed sign-in, read by the city", Entry{Action: "login_failed"}, nil, true},
		{"a liunan identity opened, read by the city", Entry{UserOffice: "liunan", Offices: []string{"liunan"}}, nil, true},
		{"read by an empty set of offices", Entry{UserOffice: "yufeng"}, []string{}, false},
	}
	for _, tc := range tests {
		if got := tc.e.VisibleTo(tc.offices); got != tc.want {
			t.Errorf("%s: %v; want %v", tc.name, got, tc.want)
		}
	}
}

// Entries written before entries carried offices keep their hashes; the offices of a newer
// entry are covered by its hash like every other field.
func TestOfficesAreChainedAndOldEntriesStillHold(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	// An entry as the log wrote it before: no user_office, no offices.
	old := `{"seq":1,"time":"2026-05-01T08:00:00Z","user":"wei.analyst","action":"view","target":"01JTIP","prev":"","hash":""}`
	sum := sha256.Sum256([]byte(old))
	old = strings.Replace(old, `"hash":""`, `"hash":"`+hex.EncodeToString(sum[:])+`"`, 1)
	if err := os.WriteFile(path, []byte(old+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := Open(path)
	if err != nil {
		t.Fatalf("an old log does not open: %v", err)
	}
	if err := l.Add(Entry{User: "li.supervisor", Action: "identity", Target: "01JTIP", UserOffice: "liunan", Offices: []string{"liunan"},
		Detail: map[string]any{"reason": "约谈举报人"}}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	var got []Entry
	if n, err := Scan(path, func(e Entry) { got = append(got, e) }); err != nil || n != 2 {
		t.Fatalf("Scan = %d, %v", n, err)
	}
	if got[1].UserOffice != "liunan" || len(got[1].Offices) != 1 || got[1].Offices[0] != "liunan" || got[1].Seq != 2 {
		t.Errorf("the new entry reads back as %+v", got[1])
	}
	// Moving an entry to another office breaks the chain.
	b, _ := os.ReadFile(path)
	moved := strings.Replace(string(b), `"offices":["liunan"]`, `"offices":["yufeng"]`, 1)
	if err := os.WriteFile(path, []byte(moved), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(path); !errors.Is(err, ErrBroken) {
		t.Errorf("an entry moved to another office: %v", err)
	}
}
