package seal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tipline/tipline/internal/tip"
)

func TestSealedForOneOfficeOpensOnlyThere(t *testing.T) {
	dir := t.TempDir()
	created, err := Init(dir)
	if err != nil || len(created) != 12 {
		t.Fatalf("Init: %v, %d keys", err, len(created))
	}
	s, err := LoadRecipients(dir)
	if err != nil {
		t.Fatal(err)
	}
	who := Identity{Name: "韦秀兰", Phone: "13907721234", IDNumber: "450202198001011234"}
	sealed, err := s.Seal(who, Recipients(tip.Yufeng)...)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(who.Name)) || bytes.Contains(sealed, []byte(who.Phone)) {
		t.Fatal("sealed identity holds the identity in clear")
	}
	tests := []struct {
		office tip.Office
		opens  bool
	}{
		{tip.Yufeng, true},
		{tip.City, true},
		{tip.Liunan, false},
		{tip.Sanjiang, false},
	}
	for _, tc := range tests {
		o, err := LoadKey(dir, tc.office)
		if err != nil {
			t.Fatal(err)
		}
		got, err := o.Open(sealed)
		switch {
		case tc.opens && (err != nil || got != who):
			t.Errorf("%s: Open = %+v, %v; want the identity", tc.office, got, err)
		case !tc.opens && !errors.Is(err, ErrNotForThisOffice):
			t.Errorf("%s: Open = %+v, %v; want ErrNotForThisOffice", tc.office, got, err)
		}
	}
}

func TestInitNeverReplacesKeys(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(dir); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "liunan.key"))
	if err := os.Remove(filepath.Join(dir, "yufeng.key")); err != nil {
		t.Fatal(err)
	}
	// yufeng.pub is still there: a lone public key is not replaced either, or tips would be
	// sealed for a key nobody holds.
	created, err := Init(dir)
	if err != nil || len(created) != 0 {
		t.Fatalf("second Init created %v, %v", created, err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "liunan.key"))
	if !bytes.Equal(before, after) {
		t.Fatal("Init replaced a key")
	}
	st, err := os.Stat(filepath.Join(dir, "liunan.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode %v, %v", st.Mode(), err)
	}
}

func TestLoadRecipientsNamesMissingKeys(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(dir); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "rongan.pub"))
	if _, err := LoadRecipients(dir); err == nil || !bytes.Contains([]byte(err.Error()), []byte("rongan.pub")) {
		t.Fatalf("LoadRecipients = %v; want an error naming rongan.pub", err)
	}
}
