package account

import (
	"net/http/httptest"
	"testing"
)

// ScopeOf: one word per set of offices a user sees; the city and "all" see the same.
func TestScopeOf(t *testing.T) {
	tests := []struct {
		name string
		user *User
		want string
	}{
		{"no accounts", nil, ""},
		{"an office's analyst", &User{Name: "a", Role: RoleAnalyst, Office: "yufeng"}, "yufeng"},
		{"an office's admin", &User{Name: "b", Role: RoleAdmin, Office: "liunan"}, "liunan"},
		{"the city", &User{Name: "c", Role: RoleAnalyst, Office: "city"}, "city"},
		{"all offices", &User{Name: "d", Role: RoleAdmin, Office: AllOffices}, "city"},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("POST", "/api/v1/letters", nil)
		if tc.user != nil {
			r = r.WithContext(WithUser(r.Context(), tc.user))
		}
		if got := ScopeOf(r); got != tc.want {
			t.Errorf("%s: %q; want %q", tc.name, got, tc.want)
		}
	}
}
