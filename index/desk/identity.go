package desk

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/seal"
	"github.com/tipline/tipline/internal/tip"
)

// openIdentity opens a real-name reporter's sealed identity: only a supervisor of the office
// the tip is routed to, or an admin, with that office's (or the city's) private key, which the
// request carries and nothing keeps, and a reason, recorded in the audit log before anything is
// shown.
func (a *api) openIdentity(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Reason string `json:"reason"`
		Key    string `json:"key"`    // the office's private key, as tipline keys init wrote it
		KeyOf  string `json:"office"` // whose key it is: the tip's office or city (default: the tip's)
	}
	if !readBody(w, r, &body) {
		return
	}
	if err := mayOpenIdentity(r, body.Reason); err != nil {
		writeDeskError(w, err)
		return
	}
	t, ok := a.deskTip(w, r)
	if !ok {
		return
	}
	who, err := a.identity(r, t, body.Reason, body.Key, tip.Office(body.KeyOf))
	if err != nil {
		writeDeskError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, who) // not stored: writeJSON says so for every answer
}

// mayOpenIdentity checks the user's role and the reason, before the tip is even looked up.
func mayOpenIdentity(r *http.Request, reason string) error {
	if !canOpenIdentities(r) {
		return refusal(http.StatusForbidden, "only a supervisor of the receiving office, or an admin, opens an identity")
	}
	if utf8.RuneCountInString(strings.TrimSpace(reason)) < 4 {
		return refusal(http.StatusBadRequest, "say why the identity is needed (reason, at least 4 characters)")
	}
	return nil
}

func canOpenIdentities(r *http.Request) bool {
	u, signedIn := account.FromContext(r.Context())
	return signedIn && (u.Role == account.RoleSupervisor || u.Role == account.RoleAdmin)
}

// mayOpenFor checks, after mayOpenIdentity, that the user may open the identity of this tip:
// an admin (who sees it), or a supervisor of the office it is routed to. A city supervisor sees
// every tip but opens only the city's.
func mayOpenFor(r *http.Request, t *tip.Tip) error {
	if u, _ := account.FromContext(r.Context()); u.Role == account.RoleSupervisor && u.Office != string(t.Office) {
		return refusal(http.StatusForbidden, "only a supervisor of "+string(t.Office)+" opens this identity")
	}
	return nil
}

// identity opens t's sealed identity with key (keyOf's private key; empty: the tip's office),
// audited before it is returned.
func (a *api) identity(r *http.Request, t *tip.Tip, reason, key string, keyOf tip.Office) (seal.Identity, error) {
	if err := mayOpenFor(r, t); err != nil {
		return seal.Identity{}, err
	}
	if t.Reporter.Sealed == "" {
		return seal.Identity{}, refusal(http.StatusNotFound, "this tip has no sealed identity (anonymous, or not from the web form)")
	}
	if keyOf == "" {
		keyOf = t.Office
	}
	opener, err := seal.ParseKey(keyOf, key)
	if err != nil {
		return seal.Identity{}, refusal(http.StatusBadRequest, "the key cannot be read")
	}
	sealed, err := a.changes.records.GetRecord(r.Context(), t.Reporter.Sealed)
	if err != nil {
		return seal.Identity{}, refusal(http.StatusServiceUnavailable, "the archive is not available")
	}
	who, err := opener.Open(sealed)
	if errors.Is(err, seal.ErrNotForThisOffice) {
		_ = a.auditTip(r, "identity_refused", t, map[string]any{"reason": reason, "key_of": keyOf})
		return seal.Identity{}, refusal(http.StatusForbidden, "this key does not open the identity: it was sealed for "+officesList(t.Reporter.SealedFor))
	}
	if err != nil {
		return seal.Identity{}, refusal(http.StatusBadRequest, "the identity could not be opened")
	}
	if err := a.auditTip(r, "identity", t, map[string]any{"reason": reason, "key_of": keyOf}); err != nil {
		return seal.Identity{}, refusal(http.StatusServiceUnavailable, "audit log unavailable: the identity stays sealed")
	}
	return who, nil
}

func officesList(os []tip.Office) string {
	var s []string
	for _, o := range os {
		s = append(s, string(o))
	}
	return strings.Join(s, ", ")
}
