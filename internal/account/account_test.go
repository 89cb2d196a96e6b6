package account

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tipline/tipline/internal/tip"
)

func TestAddTokenLoginAndReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	s, err := Open(path)
	if err != nil || s.Len() != 0 {
		t.Fatalf("Open: %v, %d users", err, s.Len())
	}
	token, err := s.Add(User{Name: "wei.liunan", Role: RoleAnalyst, Office: "liunan"}, "柳南-correct-horse")
	if err != nil || !strings.HasPrefix(token, "tl_") {
		t.Fatalf("Add: %q, %v", token, err)
	}
	// Another process (a running tipline) sees the account.
	other, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	u, ok := other.ByToken(token)
	if !ok || u.Name != "wei.liunan" || !u.Sees(tip.Liunan) || u.Sees(tip.Yufeng) {
		t.Fatalf("ByToken: %+v %v", u, ok)
	}
	if _, ok := other.ByToken(token + "x"); ok {
		t.Error("a wrong token was accepted")
	}
	if _, ok := other.Login("wei.liunan", "柳南-correct-horse"); !ok {
		t.Error("login with the right password failed")
	}
	for _, bad := range [][2]string{{"wei.liunan", "wrong"}, {"nobody", "柳南-correct-horse"}, {"wei.liunan", ""}} {
		if _, ok := other.Login(bad[0], bad[1]); ok {
			t.Errorf("login %q/%q accepted", bad[0], bad[1])
		}
	}
	if _, err := s.Add(User{Name: "wei.liunan", Role: RoleAnalyst, Office: "liunan"}, ""); err == nil {
		t.Error("a name was taken twice")
	}
	city, _ := s.Add(User{Name: "zhang.city", Role: RoleSupervisor, Office: "city"}, "")
	cu, _ := s.ByToken(city)
	if cu.Offices() != nil || !cu.Sees(tip.Sanjiang) {
		t.Errorf("the city office sees %v", cu.Offices())
	}
}

func TestInvalidAccounts(t *testing.T) {
	s, _ := Open(filepath.Join(t.TempDir(), "users.json"))
	for _, u := range []User{
		{Name: "X", Role: RoleAnalyst, Office: "city"},
		{Name: "ok.name", Role: "boss", Office: "city"},
		{Name: "ok.name", Role: RoleAnalyst, Office: "beijing"},
		{Name: "../etc", Role: RoleAnalyst, Office: "city"},
	} {
		if _, err := s.Add(u, ""); err == nil {
			t.Errorf("%+v accepted", u)
		}
	}
	if s.Len() != 0 {
		t.Error("an invalid account was stored")
	}
	if !slices.Contains([]string{RoleAnalyst, RoleSupervisor, RoleAdmin}, RoleAdmin) {
		t.Fatal()
	}
}

func TestSessionsExpire(t *testing.T) {
	start := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	now := start
	s := NewSessions(30*time.Minute, 12*time.Hour)
	s.now = func() time.Time { return now }
	idle, _ := s.Start("a")
	busy, sess := s.Start("b")
	tests := []struct {
		after      time.Duration
		id         string
		stillValid bool
	}{
		{20 * time.Minute, busy, true},
		{40 * time.Minute, idle, false}, // 40 minutes without a request
		{11 * time.Hour, busy, true},    // used every 20 minutes till here
		{13 * time.Hour, busy, false},   // past the absolute limit, however busy
	}
	for _, tt := range tests {
		for now.Sub(start) < tt.after {
			now = now.Add(20 * time.Minute)
			if now.Sub(start) <= 12*time.Hour {
				s.Lookup(busy) // a request every 20 minutes
			}
		}
		if _, ok := s.Lookup(tt.id); ok != tt.stillValid {
			t.Errorf("after %v: valid %v, want %v", tt.after, ok, tt.stillValid)
		}
	}
	if sess.CSRF == "" || len(busy) < 40 {
		t.Errorf("session id %q or token %q too short", busy, sess.CSRF)
	}
	fresh := NewSessions(time.Hour, time.Hour)
	one, _ := fresh.Start("c")
	two, _ := fresh.Start("c")
	kept, _ := fresh.Start("d")
	fresh.EndUser("c")
	_, ok1 := fresh.Lookup(one)
	_, ok2 := fresh.Lookup(two)
	_, ok3 := fresh.Lookup(kept)
	if ok1 || ok2 || !ok3 {
		t.Errorf("after EndUser(c): c's sessions %v %v, d's %v", ok1, ok2, ok3)
	}
}
