package desk

import (
	"net/url"
	"strings"
	"testing"
)

// TestSafeNextKeepsTheAnalystOnThisSite: after signing in, only a clean local path is followed.
// Every destination a browser could turn into another host (it drops tabs and newlines, reads
// "\" as "/", and resolves "//host" and "scheme:" against nothing of ours) falls back to the
// search (issue 19, finding 9).
func TestSafeNextKeepsTheAnalystOnThisSite(t *testing.T) {
	tests := []struct {
		name, next, want string
	}{
		{"empty", "", "/search"},
		{"a local page", "/tips/01JTIP", "/tips/01JTIP"},
		{"a search with its query", "/search?q=%E8%A3%B8%E8%81%8A&office=liunan", "/search?q=%E8%A3%B8%E8%81%8A&office=liunan"},
		{"a Chinese query as typed", "/search?q=高利贷", "/search?q=高利贷"},
		{"a fragment", "/stats#chart-weekly", "/stats#chart-weekly"},

		{"the finding: tab decoded from %09", "/\t/evil.example/phish", "/search"},
		{"the finding still encoded", "/%09/evil.example/phish", "/search"},
		{"newline", "/\n/evil.example", "/search"},
		{"newline encoded", "/%0a/evil.example", "/search"},
		{"carriage return", "/\r/evil.example", "/search"},
		{"carriage return encoded", "/%0d/evil.example", "/search"},
		{"NUL encoded", "/%00/evil.example", "/search"},
		{"DEL", "/\x7f/evil.example", "/search"},
		{"two slashes", "//evil.example/", "/search"},
		{"three slashes", "///evil.example/", "/search"},
		{"slash backslash", "/\\evil.example/", "/search"},
		{"backslash slash", "\\/evil.example/", "/search"},
		{"backslash encoded", "/%5cevil.example/", "/search"},
		{"slash encoded", "/%2fevil.example/", "/search"},
		{"slash encoded upper case", "/%2F%2Fevil.example/", "/search"},
		{"a tab between the slashes, later in the path", "/search/\t/x", "/search"},
		{"https scheme", "https://evil.example/", "/search"},
		{"scheme without slashes", "https:evil.example", "/search"},
		{"javascript scheme", "javascript:alert(1)", "/search"},
		{"data scheme", "data:text/html,<script>alert(1)</script>", "/search"},
		{"relative", "evil.example/phish", "/search"},
		{"dot relative", "./search", "/search"},
		{"leading space", " /search", "/search"},
		{"leading space then slashes", " //evil.example", "/search"},
		{"no-break space", "/\u00a0/evil.example", "/search"},
		{"ideographic space", "/\u3000/evil.example", "/search"},
		{"ideographic space encoded", "/%E3%80%80/evil.example", "/search"},
		{"line separator", "/\u2028/evil.example", "/search"},
		{"zero-width space", "/\u200b/evil.example", "/search"},
		{"byte-order mark", "\ufeff//evil.example", "/search"},
		{"right-to-left override", "/\u202e/evil.example", "/search"},
		{"user info", "//user@evil.example/", "/search"},
		{"invalid UTF-8", "/\xff/evil.example", "/search"},
		{"invalid escape", "/%zz", "/search"},
		{"very long", "/" + string(make([]byte, 3000)), "/search"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := safeNext(tc.next); got != tc.want {
				t.Errorf("safeNext(%q) = %q; want %q", tc.next, got, tc.want)
			}
		})
	}
}

// The attack through the sign-in form: the redirect after a right password stays here.
func TestSignInDoesNotRedirectElsewhere(t *testing.T) {
	f := newDeskFixture(t)
	for _, next := range []string{"/\t/evil.example/phish", "/\n/evil.example", "/\\evil.example", "https:evil.example"} {
		resp, _ := f.browser(t).post("/login", url.Values{"name": {"liunan.analyst"}, "password": {f.password}, "next": {next}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/search" {
			t.Errorf("next=%q: %d to %q", next, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// The sign-in page does not carry it into its form either.
	_, page := f.browser(t).get("/login?next=" + url.QueryEscape("/\t/evil.example/phish"))
	if want := `name="next" value="/search"`; !strings.Contains(page, want) {
		t.Errorf("the sign-in form keeps the destination: %.400s", page)
	}
}
