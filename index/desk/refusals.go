package desk

// Refusals: what the desk answers when it will not do what was asked, and why, in one type that
// the API writes as JSON and the pages as a page (pages.fail).

import (
	"errors"
	"net/http"
)

// deskError refuses an analyst's action: the HTTP status and what to tell them.
type deskError struct {
	status int
	msg    string
}

func (e *deskError) Error() string { return e.msg }

func refusal(status int, msg string) error { return &deskError{status, msg} }

var errAuditDown = refusal(http.StatusServiceUnavailable, "audit log unavailable")

// deskStatus is the HTTP status of a refusal.
func deskStatus(err error) int {
	var de *deskError
	if errors.As(err, &de) {
		return de.status
	}
	return http.StatusInternalServerError
}

// writeDeskError answers a refused action.
func writeDeskError(w http.ResponseWriter, err error) {
	var de *deskError
	if errors.As(err, &de) {
		writeError(w, de.status, de.msg)
		return
	}
	writeError(w, http.StatusInternalServerError, err.Error())
}
