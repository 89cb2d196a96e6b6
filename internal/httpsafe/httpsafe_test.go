package httpsafe

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHeaders(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})
	tests := []struct {
		name  string
		o     Options
		https bool
		want  map[string]string
	}{
		{"the citizens' site", Options{}, false, map[string]string{"Referrer-Policy": "no-referrer", "Cache-Control": "",
			"Content-Security-Policy": csp, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Strict-Transport-Security": ""}},
		{"over HTTPS", Options{}, true, map[string]string{"Strict-Transport-Security": "max-age=31536000"}},
		{"the desk", Options{Referrer: "same-origin", NoStore: true}, false, map[string]string{"Referrer-Policy": "same-origin",
			"Cache-Control": "no-store", "Content-Security-Policy": csp, "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.https {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			Headers(tt.o, ok).ServeHTTP(w, r)
			for k, v := range tt.want {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
}
