package desk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/tip"
)

// shortArchive is an archive that keeps fewer tips than the index (those indexed before it kept
// them), so that a rebuild from it is refused.
type shortArchive struct{}

func (shortArchive) Count(context.Context) (int, error) { return 1, nil }
func (shortArchive) Page(context.Context, string, int) ([]*tip.Tip, string, error) {
	return nil, "", nil
}

// TestRebuildStatusShowsCountsOnlyToCityAdmins: GET /api/v1/index/rebuild told any analyst how
// many tips the whole city holds (issue 19, finding 10). Now the counts and the error go only to
// an admin of all offices (or the city); an analyst, a city analyst and an office's admin see
// the state alone, and what they see does not change when another office's tips are added.
func TestRebuildStatusShowsCountsOnlyToCityAdmins(t *testing.T) {
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	x := indexOf(t, newTip("鱼峰区有人放高利贷", tip.PredatoryLoan, tip.Yufeng, at), newTip("柳南区有人放高利贷", tip.PredatoryLoan, tip.Liunan, at))
	users, err := account.Open(filepath.Join(t.TempDir(), "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	for _, u := range []account.User{
		{Name: "yufeng.analyst", Role: account.RoleAnalyst, Office: "yufeng"},
		{Name: "yufeng.admin", Role: account.RoleAdmin, Office: "yufeng"},
		{Name: "city.analyst", Role: account.RoleAnalyst, Office: "city"},
		{Name: "city.admin", Role: account.RoleAdmin, Office: "city"},
		{Name: "ops.admin", Role: account.RoleAdmin, Office: account.AllOffices},
	} {
		if tokens[u.Name], err = users.Add(u, ""); err != nil {
			t.Fatal(err)
		}
	}
	gate := account.NewGate(users, account.NewSessions(time.Hour, time.Hour), nil, nil)
	srv := httptest.NewServer(gate.Wrap(deskMux(t, Config{}, x, gate, Deps{Archived: shortArchive{}})))
	defer srv.Close()
	call := func(user, method, path string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tokens[user])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The times of a rebuild differ from one to the next; everything else must not.
	times := regexp.MustCompile(`"(started|finished)_at":"[^"]*"`)
	statuses := func() map[string]string {
		if err := x.Rebuild(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for user := range tokens {
			status, body := call(user, "GET", "/api/v1/index/rebuild")
			if status != 200 {
				t.Fatalf("%s: %d %s", user, status, body)
			}
			out[user] = times.ReplaceAllString(body, `"${1}_at":"…"`)
		}
		return out
	}
	before := statuses()
	tests := []struct {
		user   string
		counts bool
	}{
		{"yufeng.analyst", false},
		{"yufeng.admin", false},
		{"city.analyst", false},
		{"city.admin", true},
		{"ops.admin", true},
	}
	for _, tc := range tests {
		var got map[string]any
		if err := json.Unmarshal([]byte(before[tc.user]), &got); err != nil {
			t.Fatal(err)
		}
		_, hasTotal := got["total"]
		_, hasDone := got["done"]
		if got["state"] != index.RebuildDone || hasTotal != tc.counts || hasDone != tc.counts {
			t.Errorf("%s sees %s; counts shown: %v", tc.user, before[tc.user], tc.counts)
		}
		if tc.counts && got["total"] != 2.0 {
			t.Errorf("%s sees the total %v; want 2", tc.user, got["total"])
		}
	}

	// Another office's tips change nothing in what an office's users are told.
	var more []*tip.Tip
	for i := range 30 {
		more = append(more, newTip(fmt.Sprintf("第%d条：水军在论坛造谣", i), tip.AllCategories()[i%len(tip.AllCategories())],
			tip.Offices()[i%len(tip.Offices())], at.Add(time.Duration(i)*time.Minute)))
	}
	if _, err := x.Put(more); err != nil {
		t.Fatal(err)
	}
	after := statuses()
	for _, user := range []string{"yufeng.analyst", "yufeng.admin", "city.analyst"} {
		if before[user] != after[user] {
			t.Errorf("%s: the status changed with the city's tips:\n%s\n%s", user, before[user], after[user])
		}
	}
	if before["ops.admin"] == after["ops.admin"] {
		t.Error("the admin of all offices does not see the new total")
	}

	// Rebuilding the city's one index is the city's operators' act; an office's admin is
	// refused before anything is counted.
	status, body := call("yufeng.admin", "POST", "/api/v1/index/rebuild?from=archive")
	if status != http.StatusForbidden || regexp.MustCompile(`\d`).MatchString(body) {
		t.Errorf("an office's admin: %d %s", status, body)
	}
	// A refused rebuild says the archive's and the index's counts to those who see them.
	status, body = call("ops.admin", "POST", "/api/v1/index/rebuild?from=archive")
	if status != http.StatusConflict || !strings.Contains(body, "keeps 1 of the index's 32 tips") {
		t.Errorf("the admin of all offices, refused: %d %s", status, body)
	}
}
