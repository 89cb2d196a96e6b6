package desk

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tipline/tipline/internal/account"
)

// TestAnalystAnswersAreNotStored: every answer of the analysts' side says Cache-Control:
// no-store (issue 19, finding 11): JSON, CSV, pages, styles, and refusals, so that nothing an
// office works on stays in a shared computer's browser cache or a proxy.
func TestAnalystAnswersAreNotStored(t *testing.T) {
	f := newDeskFixture(t)
	b := f.browser(t)
	b.login("liunan.analyst", f.password)
	tests := []struct {
		name, path string
		status     int
	}{
		{"search", "/api/v1/search?q=高利贷", 200},
		{"a refused search", "/api/v1/search?size=abc", 400},
		{"a tip", "/api/v1/tips/" + f.liunan.ID, 200},
		{"another office's tip", "/api/v1/tips/" + f.yufeng.ID, 404},
		{"related tips", "/api/v1/tips/" + f.liunan.ID + "/related", 200},
		{"export", "/api/v1/export?q=高利贷", 200},
		{"statistics", "/api/v1/stats", 200},
		{"clusters", "/api/v1/clusters", 200},
		{"rebuild status", "/api/v1/index/rebuild", 200},
		{"no such attachment", "/api/v1/tips/" + f.liunan.ID + "/attachments/" + sha64("0"), 404},
		{"search page", "/search?q=高利贷", 200},
		{"tip page", "/tips/" + f.liunan.ID, 200},
		{"styles", "/desk.css", 200},
		{"sign-in page", "/login", 200},
	}
	for _, tc := range tests {
		resp, _ := b.get(tc.path)
		if resp.StatusCode != tc.status || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d, Cache-Control %q; want %d, no-store", tc.name, resp.StatusCode, resp.Header.Get("Cache-Control"), tc.status)
		}
	}
}

// NoStore covers what the listener answers before any handler of this package: the sign-in
// gate's refusals, and handlers of other packages on the same listener.
func TestNoStoreWrapsTheListener(t *testing.T) {
	users, err := account.Open(t.TempDir() + "/users.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := users.Add(account.User{Name: "liunan.analyst", Role: account.RoleAnalyst, Office: "liunan"}, ""); err != nil {
		t.Fatal(err)
	}
	gate := account.NewGate(users, account.NewSessions(time.Hour, time.Hour), nil, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/letters", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
	srv := httptest.NewServer(NoStore(gate.Wrap(mux)))
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/api/v1/search", "/search", "/api/v1/letters"} {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s without signing in: %d, Cache-Control %q", path, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
}

// sha64 is a well-formed sha256 that names no file.
func sha64(digit string) string {
	s := ""
	for range 64 {
		s += digit
	}
	return s
}
