package webform

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestStaticServesFilesOnly: the public site's /static/ serves its stylesheet but lists nothing
// (issue 19, finding 11): a folder, with or without its slash, is not found.
func TestStaticServesFilesOnly(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		path   string
		served bool
	}{
		{"/static/style.css", true},
		{"/static/", false},
		{"/static/.", false},
		{"/static/./", false},
		{"/static//", false},
		{"/static/index.html", false},
		{"/static/nothing.css", false},
	}
	// Redirects are not followed: the mux tidying "/static/." to "/static/" says nothing, and
	// where it leads is in the table too.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range tests {
		resp, err := client.Get(f.srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		served := resp.StatusCode == http.StatusOK
		if served != tc.served || (!tc.served && strings.Contains(string(body), "style.css")) ||
			(!tc.served && resp.StatusCode != http.StatusNotFound && resp.StatusCode/100 != 3) {
			t.Errorf("GET %s: %d %.200q; want served %v", tc.path, resp.StatusCode, body, tc.served)
		}
	}
}
