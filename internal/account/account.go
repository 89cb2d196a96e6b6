// Package account keeps the analysts' accounts: a role, the office whose tips they see, a
// password hash (argon2id) for the UI and API tokens (only their SHA-256) for scripts. The
// accounts live in one JSON file that "tipline user add" writes and a running tipline re-reads
// when it changes, so accounts can be managed while tipline runs.
package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/sys/unix"

	"github.com/tipline/tipline/internal/tip"
)

// Roles, from least to most trusted.
const (
	RoleAnalyst    = "analyst"    // searches and reads the tips of their office
	RoleSupervisor = "supervisor" // also opens sealed identities of their office's tips
	RoleAdmin      = "admin"      // also manages the index and reads the audit log
)

// AllOffices is the office value of a user who sees every office's tips.
const AllOffices = "all"

// User is one account.
type User struct {
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Office  string    `json:"office"` // an office code, or AllOffices
	Created time.Time `json:"created"`
	// Password is argon2id of the password with Salt, hex; empty until one is set.
	Password string `json:"password,omitempty"`
	Salt     string `json:"salt,omitempty"`
	// Tokens are SHA-256 of the API tokens issued, hex: the tokens themselves are shown once.
	Tokens []string `json:"tokens,omitempty"`
}

// Offices is the set of offices whose tips u may see; nil means all: the city office oversees
// every district's.
func (u *User) Offices() []tip.Office {
	if u.Office == AllOffices || u.Office == string(tip.City) {
		return nil
	}
	return []tip.Office{tip.Office(u.Office)}
}

// Sees reports whether u may see a tip routed to office.
func (u *User) Sees(office tip.Office) bool {
	offices := u.Offices()
	return offices == nil || slices.Contains(offices, office)
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,62}$`)

// Validate checks a new account's fields.
func (u *User) Validate() error {
	if !namePattern.MatchString(u.Name) {
		return fmt.Errorf("account: name %q: 2-63 lower-case letters, digits, dots, dashes or underscores", u.Name)
	}
	if !slices.Contains([]string{RoleAnalyst, RoleSupervisor, RoleAdmin}, u.Role) {
		return fmt.Errorf("account: role %q: analyst, supervisor or admin", u.Role)
	}
	if u.Office != AllOffices && !tip.Office(u.Office).Valid() {
		return fmt.Errorf("account: office %q: an office code or %q", u.Office, AllOffices)
	}
	return nil
}

// Store is the accounts file.
type Store struct {
	path string

	mu      sync.Mutex
	users   map[string]*User
	byToken map[string]*User
	modTime time.Time
	checked time.Time
}

// Open reads the accounts file at path; a missing file is no accounts yet.
func Open(path string) (*Store, error) {
	s := &Store{path: path}
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) reload() error {
	st, err := os.Stat(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		s.users, s.byToken, s.modTime = map[string]*User{}, map[string]*User{}, time.Time{}
		return nil
	}
	if err != nil {
		return fmt.Errorf("account: %w", err)
	}
	if st.ModTime().Equal(s.modTime) && s.users != nil {
		return nil
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("account: %w", err)
	}
	var list []*User
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("account: %s: %w", s.path, err)
	}
	users, byToken := map[string]*User{}, map[string]*User{}
	for _, u := range list {
		users[u.Name] = u
		for _, t := range u.Tokens {
			byToken[t] = u
		}
	}
	s.users, s.byToken, s.modTime = users, byToken, st.ModTime()
	return nil
}

// fresh re-reads the file if it changed, at most once a second.
func (s *Store) fresh() {
	if time.Since(s.checked) < time.Second {
		return
	}
	s.checked = time.Now()
	_ = s.reload() // a broken file keeps the accounts last read
}

// Len is the number of accounts.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fresh()
	return len(s.users)
}

// ByToken returns the user an API token belongs to.
func (s *Store) ByToken(token string) (*User, bool) {
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fresh()
	// The map is keyed by the token's hash, so its lookup time says nothing about any token.
	u, ok := s.byToken[key]
	return u, ok
}

// ByName returns the account called name.
func (s *Store) ByName(name string) (*User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fresh()
	u, ok := s.users[name]
	return u, ok
}

// Login checks a name and password; a wrong name costs the same hash as a wrong password.
func (s *Store) Login(name, password string) (*User, bool) {
	s.mu.Lock()
	s.fresh()
	u := s.users[name]
	s.mu.Unlock()
	salt, hash := decoySalt, decoyHash()
	if u != nil && u.Password != "" {
		salt, hash = u.Salt, u.Password
	}
	saltBytes, _ := hex.DecodeString(salt)
	ok := subtle.ConstantTimeCompare([]byte(hashPassword(password, saltBytes)), []byte(hash)) == 1
	return u, ok && u != nil && u.Password != ""
}

// The decoy stands in for an unknown account, so that a wrong name costs the same hash as a
// wrong password. It is computed at the first login, not when any tipline command starts: the
// hash takes 64 MiB.
var (
	decoySalt = "00000000000000000000000000000000"
	decoyHash = sync.OnceValue(func() string { return hashPassword("", make([]byte, 16)) })
)

// hashPassword is argon2id at the cost the RFC 9106 recommends when memory is scarce
// (3 passes, 64 MiB): logins are rare, and a stolen file must resist guessing.
func hashPassword(password string, salt []byte) string {
	return hex.EncodeToString(argon2.IDKey([]byte(password), salt, 3, 64<<10, 1, 32))
}

// Add creates an account and returns its first API token. password may be empty (API only).
func (s *Store) Add(u User, password string) (token string, err error) {
	if err := u.Validate(); err != nil {
		return "", err
	}
	token, err = s.update(func(users map[string]*User) (string, error) {
		if _, taken := users[u.Name]; taken {
			return "", fmt.Errorf("account: %q exists", u.Name)
		}
		u.Created = time.Now().UTC()
		if password != "" {
			salt := make([]byte, 16)
			_, _ = rand.Read(salt)
			u.Salt, u.Password = hex.EncodeToString(salt), hashPassword(password, salt)
		}
		t, sum := newToken()
		u.Tokens = []string{sum}
		users[u.Name] = &u
		return t, nil
	})
	return token, err
}

// newToken returns a 256-bit token and the SHA-256 that is stored.
func newToken() (token, sum string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = "tl_" + base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(token))
	return token, hex.EncodeToString(h[:])
}

// update changes the file under an exclusive lock, so two "tipline user add" at once do not
// lose one, and replaces it atomically.
func (s *Store) update(change func(map[string]*User) (string, error)) (string, error) {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return "", fmt.Errorf("account: %w", err)
	}
	lock, err := os.OpenFile(s.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", fmt.Errorf("account: %w", err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return "", fmt.Errorf("account: lock: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.modTime = time.Time{}
	if err := s.reload(); err != nil {
		return "", err
	}
	out, err := change(s.users)
	if err != nil {
		return "", err
	}
	list := make([]*User, 0, len(s.users))
	for _, u := range s.users {
		list = append(list, u)
	}
	slices.SortFunc(list, func(a, b *User) int { return compare(a.Name, b.Name) })
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return "", err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return "", fmt.Errorf("account: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return "", fmt.Errorf("account: %w", err)
	}
	s.modTime = time.Time{}
	return out, s.reload()
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type ctxKey struct{}

// WithUser returns ctx carrying the signed-in user.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// Local names whoever acts while no account exists (the analysts' side open on loopback only).
const Local = "local"

// NameOf is the signed-in user's name, or Local.
func NameOf(r *http.Request) string {
	if u, ok := FromContext(r.Context()); ok {
		return u.Name
	}
	return Local
}

// ScopeOf names the offices whose tips the signed-in user sees, as one word for what must not
// cross offices (the duplicate check of an upload): their office's code; "city" for the city
// office and "all", who see every office alike; "" without accounts (the desk open on loopback,
// which sees everything too).
func ScopeOf(r *http.Request) string {
	u, ok := FromContext(r.Context())
	switch {
	case !ok:
		return ""
	case u.Offices() == nil:
		return string(tip.City)
	}
	return u.Office
}

// FromContext returns the signed-in user, if any.
func FromContext(ctx context.Context) (*User, bool) {
	u, ok := ctx.Value(ctxKey{}).(*User)
	return u, ok && u != nil
}
