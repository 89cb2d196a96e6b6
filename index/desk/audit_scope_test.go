package desk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestAuditLogIsScopedByOffice: an admin of one office read every office's audit log, with
// other offices' identity openings, their reasons, and their analysts' searches (issue 19,
// finding 4). Now an office's admin reads only the entries about their office's tips and their
// office's users, under every filter; the city's and all offices' admins read every entry.
func TestAuditLogIsScopedByOffice(t *testing.T) {
	f := newOriginalFixture(t)
	const (
		liunanReason = "柳南约谈举报人核实情况"
		liunanWords  = "柳南秘密线人"
		yufengWords  = "鱼峰水军"
	)
	eml := "/api/v1/tips/" + f.mail.ID + "/attachments/" + f.eml
	// liunan's actions: a search, a view, the .eml opened as an identity, a correction within.
	f.get("liunan.analyst", "/api/v1/search?q="+url.QueryEscape(liunanWords))
	f.get("liunan.analyst", "/api/v1/tips/"+f.mail.ID)
	if status, _, _ := f.get("liunan.supervisor", eml+"?reason="+url.QueryEscape(liunanReason)); status != 200 {
		t.Fatalf("the supervisor's download: %d", status)
	}
	liunanSupervisor := f.browser(t, "liunan.supervisor")
	_, page := liunanSupervisor.get("/tips/" + f.web.ID)
	liunanSupervisor.post("/tips/"+f.web.ID+"/correction", url.Values{"csrf": {csrfOf(t, page)}, "category": {"troll_army"},
		"office": {"liunan"}, "reason": {liunanReason}})
	// yufeng's own: a search and a view.
	f.get("yufeng.analyst", "/api/v1/search?q="+url.QueryEscape(yufengWords))
	f.get("yufeng.analyst", "/api/v1/tips/"+f.yufeng.ID)
	// A failed sign-in names no office.
	f.browser(t, "ops.admin").post("/login", url.Values{"name": {"yufeng.admin"}, "password": {"guess"}})

	liunanMarks := []string{liunanReason, liunanWords, "liunan.analyst", "liunan.supervisor", f.mail.ID, f.web.ID, "login_failed"}
	filters := []string{"", "?user=liunan.supervisor", "?user=liunan.analyst", "?action=identity_original", "?action=search",
		"?action=view", "?action=correct", "?target=" + f.mail.ID, "?target=" + f.web.ID, "?action=login_failed"}
	yufengAdmin := f.browser(t, "yufeng.admin")
	for _, q := range filters {
		resp, body := yufengAdmin.get("/audit" + q)
		if resp.StatusCode != 200 {
			t.Fatalf("/audit%s for yufeng's admin: %d", q, resp.StatusCode)
		}
		rows := auditRows(t, body) // the filter form repeats what was asked
		if n := strings.Count(rows, "<tr><td>"); !strings.Contains(body, fmt.Sprintf("符合条件的 %d 条", n)) {
			t.Errorf("/audit%s counts other entries than the %d yufeng's admin reads", q, n)
		}
		for _, mark := range liunanMarks {
			if strings.Contains(rows, mark) {
				t.Errorf("/audit%s shows yufeng's admin %q", q, mark)
			}
		}
	}
	// Their own office's entries they do read, without the log's numbering.
	_, body := yufengAdmin.get("/audit")
	for _, mark := range []string{yufengWords, "yufeng.analyst", f.yufeng.ID} {
		if !strings.Contains(body, mark) {
			t.Errorf("yufeng's admin does not see their own office's %q", mark)
		}
	}
	if regexp.MustCompile(`<tr><td>\d+</td>`).MatchString(body) || regexp.MustCompile(`全部 \d+ 条`).MatchString(body) {
		t.Error("yufeng's admin is told how many entries the whole log holds")
	}

	// The city's admin and the admin of all offices read everything, numbered.
	for _, admin := range []string{"city.admin", "ops.admin"} {
		_, body := f.browser(t, admin).get("/audit")
		for _, mark := range append(liunanMarks, yufengWords) {
			if !strings.Contains(body, mark) {
				t.Errorf("%s does not see %q", admin, mark)
			}
		}
		if !regexp.MustCompile(`全部 \d+ 条`).MatchString(body) {
			t.Errorf("%s is not told the chain's length", admin)
		}
	}
}

// The statistics read the audit log too (time to first view): what yufeng's admin is told does
// not change when liunan's tips are viewed.
func TestStatsDoNotCountOtherOfficesViews(t *testing.T) {
	f := newOriginalFixture(t)
	stats := "/api/v1/stats?from=2000-01-01&to=2100-01-01"
	read := func() []byte {
		status, _, body := f.get("yufeng.admin", stats)
		if status != 200 {
			t.Fatalf("stats: %d %s", status, body)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		return b
	}
	before := read()
	f.get("liunan.analyst", "/api/v1/tips/"+f.mail.ID)
	f.get("ops.admin", "/api/v1/tips/"+f.web.ID)
	if after := read(); !bytes.Equal(before, after) {
		t.Errorf("yufeng's statistics changed with liunan's views:\n%s\n%s", before, after)
	}
	f.get("yufeng.analyst", "/api/v1/tips/"+f.yufeng.ID)
	if after := read(); bytes.Equal(before, after) {
		t.Error("yufeng's own first view is not counted")
	}
}

// auditRows is the audit page's table.
func auditRows(t *testing.T, page string) string {
	t.Helper()
	start, end := strings.Index(page, `<table class="audit"`), strings.Index(page, "</table>")
	if start < 0 || end < start {
		t.Fatalf("no audit table: %.500s", page)
	}
	return page[start:end]
}
