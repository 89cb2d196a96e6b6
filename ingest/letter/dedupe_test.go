package letter

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
)

type countingPublisher struct {
	mu   sync.Mutex
	msgs []bus.Message
}

func (p *countingPublisher) Write(_ context.Context, msgs ...bus.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, msgs...)
	return nil
}

func (p *countingPublisher) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.msgs)
}

// mailRoom is the letters upload endpoint of one tipline, behind the sign-in gate, with a mail
// room account in each of two offices and one of the city.
type mailRoom struct {
	t      *testing.T
	srv    *httptest.Server
	pub    *countingPublisher
	tokens map[string]string
}

func newMailRoom(t *testing.T) *mailRoom {
	t.Helper()
	dir := t.TempDir()
	arc, err := archive.OpenLocal(filepath.Join(dir, "archive"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { arc.Close() })
	pub := &countingPublisher{}
	reg := prometheus.NewRegistry()
	sub := ingest.NewSubmitter(arc, pub, "tips.raw", metrics.New(reg, metrics.Labels{})).WithOCR("tips.ocr")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	in, err := NewIntake(Config{}, sub, arc, metrics.NewOCR(reg), log)
	if err != nil {
		t.Fatal(err)
	}
	users, err := account.Open(filepath.Join(dir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := &mailRoom{t: t, pub: pub, tokens: map[string]string{}}
	for _, u := range []account.User{
		{Name: "yufeng.mail", Role: account.RoleAnalyst, Office: "yufeng"},
		{Name: "liunan.mail", Role: account.RoleAnalyst, Office: "liunan"},
		{Name: "city.mail", Role: account.RoleAnalyst, Office: "city"},
	} {
		if m.tokens[u.Name], err = users.Add(u, ""); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	NewAPI(in, log).Register(mux)
	m.srv = httptest.NewServer(account.NewGate(users, account.NewSessions(time.Hour, time.Hour), nil, nil).Wrap(mux))
	t.Cleanup(m.srv.Close)
	return m
}

// upload sends one scan as user and returns the status and the answer for it.
func (m *mailRoom) upload(user string, scan []byte) (int, uploaded) {
	m.t.Helper()
	req, _ := http.NewRequest("POST", m.srv.URL+"/api/v1/letters?name=scan.png", bytes.NewReader(scan))
	req.Header.Set("Authorization", "Bearer "+m.tokens[user])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Letters []uploaded `json:"letters"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Letters) != 1 {
		m.t.Fatalf("%s: %d, %d letters, %v", user, resp.StatusCode, len(out.Letters), err)
	}
	return resp.StatusCode, out.Letters[0]
}

func scanPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 64, 64))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestLetterUploadDoesNotTellAnotherOfficesCopy: uploading a scan that another office took in
// answered "again" with that office's tip id (issue 19, finding 8). Now a scan is recognised
// only among its own office's uploads: yufeng's answer is the same whether or not liunan holds
// the file (apart from the fresh tip id), every upload is a tip, and yufeng's own second upload
// is recognised.
func TestLetterUploadDoesNotTellAnotherOfficesCopy(t *testing.T) {
	scan := scanPNG(t)
	// normal is an answer without its tip id, which is fresh in every world.
	normal := func(status int, u uploaded) any { u.ID = ""; return []any{status, u} }

	alone := newMailRoom(t)
	wantStatus, want := alone.upload("yufeng.mail", scan)

	tests := []struct {
		name  string
		first string // who uploaded the same scan before yufeng
	}{
		{"liunan holds it", "liunan.mail"},
		{"the city holds it", "city.mail"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMailRoom(t)
			_, theirs := m.upload(tc.first, scan)
			status, mine := m.upload("yufeng.mail", scan)
			if got, w := normal(status, mine), normal(wantStatus, want); !equalJSON(got, w) {
				t.Errorf("yufeng's answer %v; alone it is %v", got, w)
			}
			if mine.Again || mine.ID == theirs.ID || mine.ID == "" {
				t.Errorf("yufeng learns of %s's copy: %+v (theirs %s)", tc.first, mine, theirs.ID)
			}
			if n := m.pub.count(); n != 2 {
				t.Errorf("%d tips published; want one per office", n)
			}
			// Within one office, the same scan is still one tip.
			status, again := m.upload("yufeng.mail", scan)
			if status != http.StatusCreated || !again.Again || again.ID != mine.ID || m.pub.count() != 2 {
				t.Errorf("yufeng's own second upload: %d %+v, %d tips", status, again, m.pub.count())
			}
		})
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
