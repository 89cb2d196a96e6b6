package pipeline

import (
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/tipline/tipline/index/desk"
	"github.com/tipline/tipline/ingest/email"
	"github.com/tipline/tipline/ingest/letter"
	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/audit"
	"github.com/tipline/tipline/internal/throttle"
)

// buildAnalysts builds what the analysts' listener serves, behind the sign-in gate: the desk
// where the process holds the index, the officers' intake where it runs the public role, the
// mail room's upload and the import of saved e-mail where it runs the letters role.
func (r *run) buildAnalysts() error {
	if r.analyst == nil {
		return nil
	}
	gate, err := r.gate()
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	if r.idx != nil {
		d, err := r.desk(gate)
		if err != nil {
			return err
		}
		d.Register(mux)
	}
	if r.webform != nil {
		mux.HandleFunc("POST /api/v1/intake", r.webform.OfficerIntake(account.NameOf))
	}
	if r.intake != nil {
		letter.NewAPI(r.intake, r.log.With("api", "letters")).Register(mux)
		// Saved .eml files of an office's backlog (tipline import) come in beside the scans.
		email.NewAPI(email.NewIntake(email.Limits{}, r.submitter, r.arc), r.log.With("api", "import")).Register(mux)
	}
	// Nothing the analysts' side answers is kept in a cache, refusals included.
	r.analyst.srv = newHTTPServer(desk.NoStore(gate.Wrap(mux)), r.log)
	return nil
}

// gate signs analysts in: accounts from the data folder, sessions that end after 30 idle
// minutes or 12 hours.
func (r *run) gate() (*account.Gate, error) {
	users, err := account.Open(r.layout.Users())
	if err != nil {
		return nil, err
	}
	proxies, err := throttle.ParsePrefixes(r.cfg.Public.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("--trusted-proxies: %w", err)
	}
	return account.NewGate(users, account.NewSessions(30*time.Minute, 12*time.Hour), proxies, desk.PublicPath), nil
}

// desk builds the analysts' desk over the index, with the audit log and, where the process
// holds the archive, the actions that change tips, open identities and download files.
func (r *run) desk(gate *account.Gate) (*desk.Server, error) {
	auditLog, err := audit.Open(r.layout.Audit())
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	r.closeLogged("audit log", auditLog.Close)
	deps := desk.Deps{Audit: auditLog}
	if r.arc != nil {
		feedback, err := os.OpenFile(r.layout.Feedback(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, err
		}
		r.closeLogged("feedback", feedback.Close)
		deps.Records, deps.Files, deps.Keeper = r.arc, r.arc, kept{r.arc}
		deps.Feedback, deps.Corrected, deps.Archived = feedback, r.m.Corrected, kept{r.arc}
	}
	if r.webform != nil {
		deps.Intake = r.webform.OfficerPages(account.NameOf)
	}
	return desk.New(desk.Config{AuditPath: r.layout.Audit()}, r.idx, gate, deps, r.log.With("api", "analyst"))
}
