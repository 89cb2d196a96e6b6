package desk

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/audit"
	"github.com/tipline/tipline/internal/tip"
)

// TestAccessControl is the role × office × endpoint table: a district analyst never sees
// another office's tip by id, by search, by facet count or by filter; the city office and
// "all" see every office; only admins rebuild; no token, no answer; every search and view is
// in the audit log under the user's name.
func TestAccessControl(t *testing.T) {
	dir := t.TempDir()
	x, err := index.Open(filepath.Join(dir, "index"))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	liunanTip := newTip("柳南区有人放高利贷，逾期就爆通讯录", tip.PredatoryLoan, tip.Liunan, at)
	yufengTip := newTip("鱼峰区有人放高利贷，还雇水军造谣", tip.PredatoryLoan, tip.Yufeng, at.Add(time.Minute))
	cityTip := newTip("=HYPERLINK(\"http://x\") 网上有人放高利贷，不知道在哪个区", tip.PredatoryLoan, tip.City, at.Add(2*time.Minute))
	// One gang's collector number in all three offices' tips.
	for _, tp := range []*tip.Tip{liunanTip, yufengTip, cityTip} {
		tp.Entities = []tip.Entity{{Kind: "phone", Value: "13911112222"}, {Kind: "amount", Value: "5000"}}
	}
	if _, err := x.Put([]*tip.Tip{liunanTip, yufengTip, cityTip}); err != nil {
		t.Fatal(err)
	}
	users, err := account.Open(filepath.Join(dir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	for _, u := range []account.User{
		{Name: "liunan.analyst", Role: account.RoleAnalyst, Office: "liunan"},
		{Name: "yufeng.supervisor", Role: account.RoleSupervisor, Office: "yufeng"},
		{Name: "city.analyst", Role: account.RoleAnalyst, Office: "city"},
		{Name: "ops.admin", Role: account.RoleAdmin, Office: account.AllOffices},
	} {
		if tokens[u.Name], err = users.Add(u, ""); err != nil {
			t.Fatal(err)
		}
	}
	auditPath := filepath.Join(dir, "audit.log")
	auditLog, err := audit.Open(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	defer auditLog.Close()
	gate := account.NewGate(users, account.NewSessions(time.Hour, time.Hour), nil, nil)
	srv := httptest.NewServer(gate.Wrap(deskMux(t, Config{}, x, gate, Deps{Audit: auditLog})))
	defer srv.Close()

	call := func(user, method, path string) (int, map[string]any) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if user != "" {
			req.Header.Set("Authorization", "Bearer "+tokens[user])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	offices := func(out map[string]any) string { // the office facet, as "office:count …"
		f, _ := out["facets"].(map[string]any)["office"].(map[string]any)
		var parts []string
		for _, o := range tip.Offices() {
			if n, ok := f[string(o)]; ok {
				parts = append(parts, string(o)+":"+strings.TrimSuffix(strings.TrimSuffix(jsonNumber(n), ".0"), ".000000"))
			}
		}
		return strings.Join(parts, " ")
	}
	tests := []struct {
		user, method, path string
		status             int
		total              float64 // for searches
		facet              string  // office facet of a search
	}{
		{"liunan.analyst", "GET", "/api/v1/search?q=高利贷", 200, 1, "liunan:1"},
		{"liunan.analyst", "GET", "/api/v1/search?q=高利贷&office=yufeng", 200, 0, ""},
		{"liunan.analyst", "GET", "/api/v1/search?q=水军", 200, 0, ""},
		{"liunan.analyst", "GET", "/api/v1/tips/" + liunanTip.ID, 200, 0, ""},
		{"liunan.analyst", "GET", "/api/v1/tips/" + yufengTip.ID, 404, 0, ""},
		{"liunan.analyst", "GET", "/api/v1/tips/" + cityTip.ID, 404, 0, ""},
		{"liunan.analyst", "POST", "/api/v1/index/rebuild", 403, 0, ""},
		{"yufeng.supervisor", "GET", "/api/v1/search?q=高利贷", 200, 1, "yufeng:1"},
		{"yufeng.supervisor", "GET", "/api/v1/tips/" + liunanTip.ID, 404, 0, ""},
		{"yufeng.supervisor", "GET", "/api/v1/tips/" + yufengTip.ID, 200, 0, ""},
		{"city.analyst", "GET", "/api/v1/search?q=高利贷", 200, 3, "city:1 yufeng:1 liunan:1"},
		{"city.analyst", "GET", "/api/v1/tips/" + yufengTip.ID, 200, 0, ""},
		{"city.analyst", "POST", "/api/v1/index/rebuild", 403, 0, ""},
		{"ops.admin", "GET", "/api/v1/search?q=高利贷&office=liunan", 200, 1, "liunan:1"},
		{"ops.admin", "GET", "/api/v1/index/rebuild", 200, 0, ""},
		{"liunan.analyst", "GET", "/api/v1/search?q=贷", 200, 1, "liunan:1"},
		{"liunan.analyst", "GET", "/api/v1/search?entity=phone:13911112222", 200, 1, "liunan:1"},
		{"city.analyst", "GET", "/api/v1/search?entity=phone:13911112222", 200, 3, "city:1 yufeng:1 liunan:1"},
		{"liunan.analyst", "GET", "/api/v1/tips/" + yufengTip.ID + "/related", 404, 0, ""},
		{"", "GET", "/api/v1/search?q=高利贷", 401, 0, ""},
		{"", "GET", "/api/v1/tips/" + liunanTip.ID, 401, 0, ""},
	}
	for _, tc := range tests {
		status, out := call(tc.user, tc.method, tc.path)
		if status != tc.status {
			t.Errorf("%s %s %s: %d; want %d (%v)", tc.user, tc.method, tc.path, status, tc.status, out)
			continue
		}
		if strings.Contains(tc.path, "/search") && status == 200 {
			if out["total"] != tc.total || offices(out) != tc.facet {
				t.Errorf("%s %s: total %v, offices %q; want %v, %q", tc.user, tc.path, out["total"], offices(out), tc.total, tc.facet)
			}
		}
	}
	// Related tips and exports stay inside the user's offices.
	related := func(user string) float64 {
		_, out := call(user, "GET", "/api/v1/tips/"+liunanTip.ID+"/related")
		rel, _ := out["related"].([]any)
		if len(rel) != 1 { // the phone; the amount links nothing
			t.Fatalf("%s: related %v", user, out)
		}
		return rel[0].(map[string]any)["total"].(float64)
	}
	if n := related("liunan.analyst"); n != 0 {
		t.Errorf("柳南's analyst sees %v other tips with the number; want 0 (they are other offices')", n)
	}
	if n := related("city.analyst"); n != 2 {
		t.Errorf("the city analyst sees %v other tips with the number; want 2", n)
	}
	// Clusters: the number shared by three offices' tips is a cluster for the city, and not for
	// 柳南, which sees one of them.
	clusters := func(user string) []any {
		code, out := call(user, "GET", "/api/v1/clusters?from=2026-01-01")
		if code != 200 {
			t.Fatalf("%s clusters: %d %v", user, code, out)
		}
		return out["clusters"].([]any)
	}
	if c := clusters("liunan.analyst"); len(c) != 0 {
		t.Errorf("柳南's clusters %v", c)
	}
	c := clusters("city.analyst")
	if len(c) != 1 || c[0].(map[string]any)["value"] != "13911112222" || c[0].(map[string]any)["tips"] != 3.0 ||
		len(c[0].(map[string]any)["offices"].(map[string]any)) != 3 {
		t.Errorf("the city's clusters %v", c)
	}
	export := func(user string) string {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/export?q=高利贷", nil)
		req.Header.Set("Authorization", "Bearer "+tokens[user])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "\uFEFF编号,") {
			t.Fatalf("%s export: %d %q", user, resp.StatusCode, b)
		}
		return string(b)
	}
	if csv := export("liunan.analyst"); !strings.Contains(csv, liunanTip.ID) || strings.Contains(csv, yufengTip.ID) || strings.Contains(csv, cityTip.ID) {
		t.Errorf("柳南's export:\n%s", csv)
	}
	csv := export("city.analyst")
	if strings.Count(csv, "\n") != 4 || !strings.Contains(csv, `"'=HYPERLINK(`) {
		t.Errorf("the city's export (3 rows, formula defused):\n%s", csv)
	}
	// Every search and view answered is in the audit log, by name; refusals are not views.
	b, _ := os.ReadFile(auditPath)
	log := string(b)
	for _, want := range []string{`"user":"liunan.analyst","action":"search"`, `"user":"liunan.analyst","action":"view","target":"` + liunanTip.ID,
		`"user":"city.analyst","action":"view","target":"` + yufengTip.ID} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
	if strings.Contains(log, `"user":"liunan.analyst","action":"view","target":"`+yufengTip.ID) {
		t.Error("a refused view was logged as a view")
	}
	if !strings.Contains(log, `"user":"city.analyst","action":"export"`) {
		t.Error("an export is not in the audit log")
	}
	if n, err := audit.Verify(auditPath); err != nil || n != 18 { // 9 searches, 3 views, 2 related, 2 clusters, 2 exports
		t.Errorf("audit chain: %d entries, %v", n, err)
	}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
