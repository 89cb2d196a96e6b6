package account

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

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
