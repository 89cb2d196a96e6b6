package account

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sync"
	"time"
)

// Sessions are the signed-in browsers of the analysts' pages. They live in memory only: a
// restart signs everybody out, and nothing on disk can be replayed as a session.
type Sessions struct {
	idle, max time.Duration
	now       func() time.Time

	mu   sync.Mutex
	byID map[string]*Session // keyed by the SHA-256 of the cookie's value
}

// Session is one signed-in browser.
type Session struct {
	User string // the account's name; "" while no accounts exist (loopback only)
	// CSRF is the token the session's forms carry: a page of another site cannot read it.
	CSRF          string
	started, seen time.Time
}

// NewSessions returns sessions that end after idle without a request, or max after sign-in.
func NewSessions(idle, max time.Duration) *Sessions {
	return &Sessions{idle: idle, max: max, now: time.Now, byID: map[string]*Session{}}
}

// Start signs user in and returns the cookie value, 256 random bits.
func (s *Sessions) Start(user string) (id string, sess *Session) {
	id, csrf := randomToken(), randomToken()
	now := s.now()
	sess = &Session{User: user, CSRF: csrf, started: now, seen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.byID[sessionKey(id)] = sess
	return id, sess
}

// Lookup returns the live session of a cookie value and marks it used.
func (s *Sessions) Lookup(id string) (*Session, bool) {
	if id == "" {
		return nil, false
	}
	now := s.now()
	key := sessionKey(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.byID[key]
	if !ok {
		return nil, false
	}
	if now.Sub(sess.seen) > s.idle || now.Sub(sess.started) > s.max {
		delete(s.byID, key)
		return nil, false
	}
	sess.seen = now
	return sess, true
}

// End signs a session out.
func (s *Sessions) End(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, sessionKey(id))
}

// EndUser signs out every session of user (a removed account, a changed password).
func (s *Sessions) EndUser(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, sess := range s.byID {
		if sess.User == user {
			delete(s.byID, k)
		}
	}
}

func (s *Sessions) sweep(now time.Time) {
	for k, sess := range s.byID {
		if now.Sub(sess.seen) > s.idle || now.Sub(sess.started) > s.max {
			delete(s.byID, k)
		}
	}
}

func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
