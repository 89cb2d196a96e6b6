package email

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/bus/bustest"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/tip"
)

// importer is the e-mail import endpoint of one tipline behind the sign-in gate, with an
// account in each of two offices and one of the city, and the mailboxes' intake beside it.
type importer struct {
	t      *testing.T
	srv    *httptest.Server
	intake *Intake
	pub    *bustest.Publisher
	tokens map[string]string
}

func newImporter(t *testing.T) *importer {
	t.Helper()
	dir := t.TempDir()
	arc, err := archive.OpenLocal(filepath.Join(dir, "archive"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { arc.Close() })
	pub := &bustest.Publisher{}
	in := NewIntake(Limits{}, ingest.NewSubmitter(arc, pub, "tips.raw", metrics.New(prometheus.NewRegistry(), metrics.Labels{})), arc)
	users, err := account.Open(filepath.Join(dir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	im := &importer{t: t, intake: in, pub: pub, tokens: map[string]string{}}
	for _, u := range []account.User{
		{Name: "yufeng.mail", Role: account.RoleAnalyst, Office: "yufeng"},
		{Name: "liunan.mail", Role: account.RoleAnalyst, Office: "liunan"},
		{Name: "city.admin", Role: account.RoleAdmin, Office: account.AllOffices},
	} {
		if im.tokens[u.Name], err = users.Add(u, ""); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	NewAPI(in, slog.New(slog.NewTextHandler(io.Discard, nil))).Register(mux)
	im.srv = httptest.NewServer(account.NewGate(users, account.NewSessions(time.Hour, time.Hour), nil, nil).Wrap(mux))
	t.Cleanup(im.srv.Close)
	return im
}

// take imports raw as user (to office, if not empty) and returns the status and the answer.
func (im *importer) take(user, office string, raw []byte) (int, Imported) {
	im.t.Helper()
	req, _ := http.NewRequest("POST", im.srv.URL+"/api/v1/emails?name=m.eml&office="+office, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+im.tokens[user])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		im.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out Imported
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		im.t.Fatal(err)
	}
	return resp.StatusCode, out
}

const dedupeMessage = "From: =?UTF-8?B?6Z+m56eA5YWw?= <xiulan.wei@example.cn>\r\n" +
	"To: liunan@tipline.example\r\n" +
	"Subject: report\r\n" +
	"Message-ID: <20260501.1@example.cn>\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n\r\n" +
	"柳南区有人放高利贷，逾期就爆通讯录。\r\n"

// TestEmailImportDoesNotTellAnotherOfficesCopy: importing a message that another office (or a
// mailbox) took in answered "again" (issue 19, finding 8). Now a message is recognised, by its
// bytes or its Message-ID, only among its own office's imports: yufeng's answer is the same
// whether or not another office holds it (apart from the fresh tip id), every import is a tip,
// and yufeng's own second import is recognised.
func TestEmailImportDoesNotTellAnotherOfficesCopy(t *testing.T) {
	raw := []byte(dedupeMessage)
	// The same Message-ID with other bytes (another copy of the mail, other headers).
	resent := []byte("X-Forwarded-By: liunan\r\n" + dedupeMessage)
	normal := func(status int, im Imported) any { im.ID = ""; return []any{status, im} }

	alone := newImporter(t)
	wantStatus, want := alone.take("yufeng.mail", "yufeng", raw)

	tests := []struct {
		name  string
		first func(im *importer) // what another office did before yufeng imports raw
	}{
		{"liunan imported the same bytes", func(im *importer) { im.take("liunan.mail", "liunan", raw) }},
		{"liunan imported the same Message-ID", func(im *importer) { im.take("liunan.mail", "liunan", resent) }},
		{"liunan imported it into yufeng", func(im *importer) { im.take("liunan.mail", "yufeng", raw) }},
		{"the city imported it", func(im *importer) { im.take("city.admin", "", raw) }},
		{"a mailbox took it", func(im *importer) {
			if _, err := im.intake.Take(context.Background(), raw, "INBOX:1", tip.Liunan, tip.Routing{Reason: tip.RouteMailbox, Detail: "liunan"}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			im := newImporter(t)
			tc.first(im)
			status, mine := im.take("yufeng.mail", "yufeng", raw)
			if got, w := normal(status, mine), normal(wantStatus, want); !equalJSON(got, w) {
				t.Errorf("yufeng's answer %v; alone it is %v", got, w)
			}
			if mine.Again || mine.ID == "" {
				t.Errorf("yufeng learns of another office's copy: %+v", mine)
			}
			if n := im.pub.Len(); n != 2 {
				t.Errorf("%d tips published; want one per office", n)
			}
			// Within one office the message is still one tip, by its bytes or its Message-ID.
			for _, again := range [][]byte{raw, resent} {
				status, dup := im.take("yufeng.mail", "yufeng", again)
				if status != http.StatusOK || !dup.Again || im.pub.Len() != 2 {
					t.Errorf("yufeng's own second import: %d %+v, %d tips", status, dup, im.pub.Len())
				}
			}
		})
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
