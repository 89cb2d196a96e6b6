package account

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/tipline/tipline/internal/throttle"
)

// Gate signs requests in: scripts with an API token (Authorization: Bearer TOKEN), browsers
// with a session cookie from the sign-in page. Before the first account exists the analysts'
// side is open, as it was before accounts, on a loopback address only (tipline serve enforces
// that). Failed attempts are limited per client address: 10, then one every 6 seconds.
type Gate struct {
	users    *Store
	sessions *Sessions
	trusted  []netip.Prefix
	public   func(path string) bool // the paths served without signing in

	failures *throttle.PerKey
	// hashing bounds the password hashes computed at once: each takes 64 MiB.
	hashing chan struct{}
}

// loginPath is where a browser without a session is sent.
const loginPath = "/login"

// NewGate returns the gate to the analysts' side. trusted are the reverse proxies whose
// X-Forwarded-For and X-Forwarded-Proto are believed; public reports the paths served without
// signing in, the sign-in page and its styles (nil: none).
func NewGate(users *Store, sessions *Sessions, trusted []netip.Prefix, public func(path string) bool) *Gate {
	if public == nil {
		public = func(string) bool { return false }
	}
	return &Gate{users: users, sessions: sessions, trusted: trusted, public: public,
		failures: throttle.New(1.0/6, 10), hashing: make(chan struct{}, 2)}
}

// Session cookie names: with HTTPS the __Host- prefix makes the browser refuse it from any
// other host or path, and from plain HTTP.
const (
	cookieName       = "tipline_session"
	secureCookieName = "__Host-tipline_session"
)

// CSRFHeader carries a session's CSRF token on a script-free POST to the API from a page.
const CSRFHeader = "X-CSRF-Token"

type sessionKeyCtx struct{}

// SessionFrom returns the browser session a request came with, if any.
func SessionFrom(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(sessionKeyCtx{}).(*Session)
	return s, ok
}

// Open reports whether no account exists yet, so nobody needs to sign in.
func (g *Gate) Open() bool { return g.users.Len() == 0 }

// Wrap lets a signed-in request through to next with its user (and session) in the context.
func (g *Gate) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			if u, found := g.users.ByToken(strings.TrimSpace(token)); found {
				next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), u)))
				return
			}
			if !g.Open() {
				g.refuse(w, r)
				return
			}
		}
		open := g.Open()
		if sess, id, ok := g.session(r); ok {
			ctx := context.WithValue(r.Context(), sessionKeyCtx{}, sess)
			if !open {
				u, found := g.users.ByName(sess.User)
				if !found {
					g.sessions.End(id) // the account is gone
					g.refuse(w, r)
					return
				}
				ctx = WithUser(ctx, u)
			}
			// The pages post forms with the token in a field, which their handlers check; a
			// page posting to the JSON API must send it in a header, which another site's page
			// cannot.
			if isAPI(r) && !safeMethod(r.Method) &&
				subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(sess.CSRF)) != 1 {
				writeError(w, http.StatusForbidden, "a signed-in page posts to the API with the "+CSRFHeader+" header")
				return
			}
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		if open || g.public(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		g.refuse(w, r)
	})
}

// refuse answers a request without a valid sign-in: scripts get 401 (429 after many), browsers
// are sent to the sign-in page.
func (g *Gate) refuse(w http.ResponseWriter, r *http.Request) {
	if !isAPI(r) && r.Header.Get("Authorization") == "" {
		http.Redirect(w, r, loginPath+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if allowed, wait := g.failures.Allow(throttle.ClientAddr(r, g.trusted)); !allowed {
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		writeError(w, http.StatusTooManyRequests, "too many failed sign-ins from this address; wait and try again")
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="tipline"`)
	writeError(w, http.StatusUnauthorized, "sign in: send Authorization: Bearer TOKEN (tipline user add prints one)")
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func (g *Gate) session(r *http.Request) (*Session, string, bool) {
	for _, name := range []string{secureCookieName, cookieName} {
		if c, err := r.Cookie(name); err == nil {
			if s, ok := g.sessions.Lookup(c.Value); ok {
				return s, c.Value, true
			}
		}
	}
	return nil, "", false
}

// Sign-in refusals.
var (
	ErrWrongPassword = errors.New("account: wrong name or password")
	ErrTooManyTries  = errors.New("account: too many sign-ins from this address")
)

// SignIn checks a name and password and, if they are right, starts a session and sets its
// cookie. Every attempt counts against the address's allowance, before the costly hash.
func (g *Gate) SignIn(w http.ResponseWriter, r *http.Request, name, password string) (*User, *Session, error) {
	if allowed, wait := g.failures.Allow(throttle.ClientAddr(r, g.trusted)); !allowed {
		return nil, nil, fmt.Errorf("%w: wait %s", ErrTooManyTries, wait.Round(time.Second))
	}
	g.hashing <- struct{}{}
	u, ok := g.users.Login(name, password)
	<-g.hashing
	if !ok {
		return nil, nil, ErrWrongPassword
	}
	id, sess := g.sessions.Start(u.Name)
	g.setCookie(w, r, id, 0)
	return u, sess, nil
}

// LocalSession starts a session for a browser while no account exists, so that its forms carry
// a CSRF token like everybody's.
func (g *Gate) LocalSession(w http.ResponseWriter, r *http.Request) *Session {
	id, sess := g.sessions.Start("")
	g.setCookie(w, r, id, 0)
	return sess
}

// SignOut ends the request's session and clears its cookie.
func (g *Gate) SignOut(w http.ResponseWriter, r *http.Request) {
	if _, id, ok := g.session(r); ok {
		g.sessions.End(id)
	}
	g.setCookie(w, r, "", -1)
}

// setCookie sets (maxAge 0) or clears (-1) the session cookie. It has no expiry: it goes when
// the browser closes, and the session ends sooner when idle.
func (g *Gate) setCookie(w http.ResponseWriter, r *http.Request, id string, maxAge int) {
	secure := g.secure(r)
	name := cookieName
	if secure {
		name = secureCookieName
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: id, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: secure, SameSite: http.SameSiteStrictMode})
}

// secure reports whether the browser reached us over HTTPS, directly or through a trusted proxy.
func (g *Gate) secure(r *http.Request) bool {
	return r.TLS != nil || (throttle.ViaTrustedProxy(r, g.trusted) && r.Header.Get("X-Forwarded-Proto") == "https")
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
