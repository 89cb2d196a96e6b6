// Package httpsafe is the one place the security headers of tipline's pages are set, for the
// citizens' site and the analysts' desk alike, so that the two cannot drift apart.
package httpsafe

import "net/http"

// Options are what differs between the sites.
type Options struct {
	// Referrer is the Referrer-Policy: "no-referrer" where a citizen must not be traced to the
	// next site, "same-origin" where the desk's own links may carry it. Default no-referrer.
	Referrer string
	// NoStore keeps every answer out of caches (the desk: tips on a shared computer).
	NoStore bool
}

// csp lets nothing run and nothing come from elsewhere: no script at all, whatever a tip
// contains; styles and pictures from the site itself; forms post only to it; never framed.
const csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Headers sets the headers on every answer of next. Over HTTPS it also asks the browser to
// keep to HTTPS for a year.
func Headers(o Options, next http.Handler) http.Handler {
	referrer := o.Referrer
	if referrer == "" {
		referrer = "no-referrer"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", referrer)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if o.NoStore {
			h.Set("Cache-Control", "no-store")
		}
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}
