package desk

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/audit"
	"github.com/tipline/tipline/internal/seal"
	"github.com/tipline/tipline/internal/tip"
)

// TestDesk: the status workflow (and the record the reporter's page reads), corrections
// (re-indexed, counted, fed back, in the history), and opening a sealed identity: only a
// supervisor of the receiving office or an admin, with a reason, with a key that opens it,
// audited before it is shown.
func TestDesk(t *testing.T) {
	dir := t.TempDir()
	x, err := index.Open(filepath.Join(dir, "index"))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	keys := filepath.Join(dir, "keys")
	seal.Init(keys)
	sealer, _ := seal.LoadRecipients(keys)
	records := &memRecords{m: map[string][]byte{}}
	who := seal.Identity{Name: "韦秀兰", Phone: "13907725566"}
	sealed, _ := sealer.Seal(who, seal.Recipients(tip.Liunan)...)
	records.m["identities/x.age"] = sealed
	named := newTip("柳南区有人放贷后暴力催收", tip.PredatoryLoan, tip.Liunan, time.Now().UTC())
	named.Reporter = tip.Reporter{HasIdentity: true, Sealed: "identities/x.age", SealedFor: []tip.Office{tip.Liunan, tip.City}}
	if _, err := x.Put([]*tip.Tip{named}); err != nil {
		t.Fatal(err)
	}
	users, _ := account.Open(filepath.Join(dir, "users.json"))
	tokens := map[string]string{}
	for _, u := range []account.User{
		{Name: "liunan.analyst", Role: account.RoleAnalyst, Office: "liunan"},
		{Name: "liunan.supervisor", Role: account.RoleSupervisor, Office: "liunan"},
		{Name: "yufeng.supervisor", Role: account.RoleSupervisor, Office: "yufeng"},
		{Name: "city.supervisor", Role: account.RoleSupervisor, Office: "city"},
	} {
		tokens[u.Name], _ = users.Add(u, "")
	}
	auditPath := filepath.Join(dir, "audit.log")
	auditLog, _ := audit.Open(auditPath)
	defer auditLog.Close()
	var feedback bytes.Buffer
	deps := withArchive(records, memFiles{}, &feedback)
	deps.Audit = auditLog
	corrected := deps.Corrected.(*prometheus.CounterVec)
	gate := account.NewGate(users, account.NewSessions(time.Hour, time.Hour), nil, nil)
	srv := httptest.NewServer(gate.Wrap(deskMux(t, Config{}, x, gate, deps)))
	defer srv.Close()
	post := func(user, path string, body any) (int, string) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tokens[user])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	base := "/api/v1/tips/" + named.ID

	// Status: forward, not backwards, and the reporter's record follows.
	for _, step := range []struct {
		to   string
		code int
	}{{"investigating", 200}, {"assigned", 400}, {"closed", 200}, {"investigating", 200}, {"archived", 400}} {
		if code, out := post("liunan.analyst", base+"/status", map[string]string{"status": step.to, "note": "已联系"}); code != step.code {
			t.Errorf("status → %s: %d %s", step.to, code, out)
		}
	}
	if rec, _ := records.GetRecord(context.Background(), archive.WorkflowKey(named.ID)); !strings.Contains(string(rec), "investigating") {
		t.Errorf("workflow record %s", rec)
	}
	if r, _ := x.Search(context.Background(), index.Query{Status: tip.StatusInvestigating}); r.Total != 1 {
		t.Errorf("status filter finds %d", r.Total)
	}

	// Correction: category and office, with a reason.
	if code, _ := post("liunan.analyst", base+"/correction", map[string]string{"category": "debt_harassment"}); code != 400 {
		t.Errorf("a correction without a reason: %d", code)
	}
	code, out := post("liunan.analyst", base+"/correction", map[string]string{"category": "debt_harassment", "office": "yufeng", "reason": "催收为主，发生在鱼峰"})
	if code != 200 {
		t.Fatalf("correction: %d %s", code, out)
	}
	got, _ := x.Get(context.Background(), named.ID)
	if got.Verdict.Category != tip.DebtHarassment || got.Office != tip.Yufeng || got.Routing.Reason != tip.RouteAnalyst || len(got.Handling.History) != 5 {
		t.Errorf("corrected tip %+v %+v", got.Verdict, got.Handling)
	}
	byCategory, byOffice := testutil.ToFloat64(corrected.WithLabelValues("category")), testutil.ToFloat64(corrected.WithLabelValues("office"))
	if byCategory != 1 || byOffice != 1 || !strings.Contains(feedback.String(), `"to_category":"debt_harassment"`) {
		t.Errorf("counted %v by category and %v by office, feedback %s", byCategory, byOffice, feedback.String())
	}
	// Now routed to 鱼峰: 柳南's analyst no longer sees it.
	if code, _ := post("liunan.analyst", base+"/status", map[string]string{"status": "closed"}); code != 404 {
		t.Errorf("柳南 changes a tip moved to 鱼峰: %d", code)
	}

	liunanKey, _ := os.ReadFile(filepath.Join(keys, "liunan.key"))
	yufengKey, _ := os.ReadFile(filepath.Join(keys, "yufeng.key"))
	cityKey, _ := os.ReadFile(filepath.Join(keys, "city.key"))
	tests := []struct {
		user, key, keyOf, reason string
		code                     int
		says                     string
	}{
		{"liunan.analyst", string(liunanKey), "liunan", "需要联系举报人核实", 403, "supervisor"},
		{"liunan.supervisor", string(liunanKey), "liunan", "需要联系举报人核实", 404, ""}, // the tip is 鱼峰's now
		{"yufeng.supervisor", string(yufengKey), "yufeng", "", 400, "reason"},
		{"yufeng.supervisor", string(yufengKey), "yufeng", "需要联系举报人核实", 403, "sealed for liunan, city"},
		{"yufeng.supervisor", "AGE-SECRET-KEY-1NOTAKEY", "yufeng", "需要联系举报人核实", 400, "cannot be read"},
		{"city.supervisor", string(cityKey), "city", "转交鱼峰分局前核实身份", 403, "only a supervisor of yufeng"},
	}
	for _, tc := range tests {
		code, out := post(tc.user, base+"/identity", map[string]string{"reason": tc.reason, "key": tc.key, "office": tc.keyOf})
		if code != tc.code || !strings.Contains(out, tc.says) || strings.Contains(out, who.Name) {
			t.Errorf("%s with %s's key: %d %s", tc.user, tc.keyOf, code, out)
		}
	}
	// Moved back to 柳南, its supervisor opens it with 柳南's key.
	post("city.supervisor", base+"/correction", map[string]string{"office": "liunan", "reason": "地点核实为柳南"})
	code, out = post("liunan.supervisor", base+"/identity", map[string]string{"reason": "需要联系举报人核实情况", "key": string(liunanKey)})
	if code != 200 || !strings.Contains(out, who.Name) || !strings.Contains(out, who.Phone) {
		t.Fatalf("the receiving office's supervisor: %d %s", code, out)
	}
	log, _ := os.ReadFile(auditPath)
	if !strings.Contains(string(log), `"user":"liunan.supervisor","action":"identity"`) || !strings.Contains(string(log), "需要联系举报人核实情况") ||
		!strings.Contains(string(log), `"action":"identity_refused"`) || strings.Contains(string(log), who.Phone) {
		t.Errorf("audit log:\n%s", log)
	}
}
