package webform

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"

	"github.com/tipline/tipline/internal/throttle"
)

// The pages' forms carry a token tied to a random cookie (OWASP's signed double submit): a
// page elsewhere can make a browser post here, but cannot read the cookie or the token. The
// cookie identifies no one: it is random, kept by nobody, and gone when the browser closes.
const csrfCookie = "tipline_csrf"

// csrfToken returns the token for this browser's cookie, setting a cookie if it has none.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 43 {
		return s.sign(c.Value)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true,
		Secure: s.secure(r), SameSite: http.SameSiteStrictMode})
	return s.sign(v)
}

func (s *Server) sign(cookie string) string {
	m := hmac.New(sha256.New, s.protect.CSRFKey)
	m.Write([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfValid checks a posted token against the browser's cookie.
func (s *Server) csrfValid(r *http.Request, token string) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil {
		return false
	}
	return hmac.Equal([]byte(s.sign(c.Value)), []byte(token))
}

var errForged = reject(http.StatusForbidden, reasonForgery,
	"页面已过期或不是从本网站提交的。请重新打开举报页面后再提交（如页面上的内容还在，可复制后粘贴）。")

// secure says whether the citizen reached us over HTTPS, directly or through a trusted proxy.
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || throttle.ViaTrustedProxy(r, s.protect.TrustedProxies) && r.Header.Get("X-Forwarded-Proto") == "https"
}
