package account

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/tipline/tipline/internal/throttle"
)

// Guard lets a request through only with a valid API token (Authorization: Bearer TOKEN) and
// puts its user in the request's context. Before the first account exists the analysts' side
// is open, as it was before accounts, on a loopback address only (tipline serve enforces that).
// Failed attempts are limited per client address: 10, then one every 6 seconds.
func Guard(s *Store, trusted []netip.Prefix, next http.Handler) http.Handler {
	failures := throttle.New(1.0/6, 10)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Len() == 0 {
			next.ServeHTTP(w, r)
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok {
			if u, found := s.ByToken(strings.TrimSpace(token)); found {
				next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), u)))
				return
			}
		}
		if allowed, wait := failures.Allow(throttle.ClientAddr(r, trusted)); !allowed {
			w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
			writeError(w, http.StatusTooManyRequests, "too many failed sign-ins from this address; wait and try again")
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="tipline"`)
		writeError(w, http.StatusUnauthorized, "sign in: send Authorization: Bearer TOKEN (tipline user add prints one)")
	})
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
