package desk

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tipline/tipline/internal/account"
)

type loginData struct {
	frame
	Next string
	Name string
}

// safeNext keeps a post-sign-in destination on this site: a clean local path, or the search.
// Browsers drop tabs and newlines from a Location and read a backslash as a slash, so
// "/\t/evil.example" or "/\\evil.example" would become "//evil.example", another host: any
// control, space, invisible format character or backslash refuses the destination, before
// and after decoding, and the decoded path must start with exactly one "/".
func safeNext(next string) string {
	const home = "/search"
	if next == "" || len(next) > 2048 || !cleanLocal(next) {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return home
	}
	if !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || !cleanLocal(u.Path) {
		return home
	}
	return next
}

// cleanLocal reports whether s is valid UTF-8 without a rune a browser may drop or turn into
// a slash when it follows a redirect.
func cleanLocal(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

func (p *pages) loginPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, http.StatusOK, "login.html", loginData{frame: frame{Title: "登录"}, Next: safeNext(r.URL.Query().Get("next"))})
}

func (p *pages) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	name, password := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	u, _, err := p.gate.SignIn(w, r, name, password)
	if err != nil {
		data := loginData{frame: frame{Title: "登录"}, Next: next, Name: name}
		status := http.StatusUnauthorized
		data.Error = "用户名或密码不对。"
		if errors.Is(err, account.ErrTooManyTries) {
			status, data.Error = http.StatusTooManyRequests, "登录失败次数过多，请稍等一会儿再试。"
		} else if utf8.ValidString(name) && len(name) <= 64 {
			_ = p.api.audit(r, "login_failed", name, nil)
		}
		p.render(w, status, "login.html", data)
		return
	}
	if err := p.api.audit(r.WithContext(account.WithUser(r.Context(), u)), "login", "", nil); err != nil {
		p.gate.SignOut(w, r)
		p.fail(w, r, errAuditDown)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (p *pages) logout(w http.ResponseWriter, r *http.Request) {
	if !csrfOK(r) {
		p.fail(w, r, errForged)
		return
	}
	p.gate.SignOut(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
