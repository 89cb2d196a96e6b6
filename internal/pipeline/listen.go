package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tipline/tipline/ingest/ocr"
	"github.com/tipline/tipline/internal/bus"
)

// server is one listener and the HTTP server that answers on it once built.
type server struct {
	name  string
	ln    net.Listener
	srv   *http.Server  // nil until built
	grace time.Duration // how long requests in flight may take at shutdown
	url   string        // what a person on this machine opens
}

// listen opens every listener the roles need before anything runs, so that a taken port fails
// the start; the ops listener answers from here on (/readyz: not ready until the stages run).
func (r *run) listen() error {
	// Registered first, so it runs last: every Serve loop has returned once the listeners
	// below are shut down. Their errors were reported (and logged) as they happened.
	r.closers = append(r.closers, func() { _ = r.serving.Wait() })
	type want struct {
		name, addr string
		dst        **server
	}
	wants := []want{{"ops", r.cfg.OpsAddr, &r.ops}}
	if r.cfg.Runs(RolePublic) && r.cfg.PublicAddr != "" {
		wants = append(wants, want{"public", r.cfg.PublicAddr, &r.public})
	}
	if r.cfg.runsAny(RoleIndex, RoleLetters) && r.cfg.AnalystAddr != "" {
		wants = append(wants, want{"analyst", r.cfg.AnalystAddr, &r.analyst})
	}
	for _, w := range wants {
		ln, err := net.Listen("tcp", w.addr)
		if err != nil {
			return fmt.Errorf("listen %s (%s): %w", w.name, w.addr, err)
		}
		s := &server{name: w.name, ln: ln, grace: 5 * time.Second, url: baseURL(ln)}
		*w.dst = s
		// Until served, closing is the listener's: a start that fails later leaves no port open.
		r.closers = append(r.closers, func() { s.close(r.log) })
	}
	r.ops.srv = newHTTPServer(r.opsHandler(), r.log)
	r.ops.serve(r)
	return nil
}

// newHTTPServer is an HTTP server with the timeouts of the analysts' and the ops listeners.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
}

// serve answers on the listener until shutdown; a listener that fails stops the process. A nil
// server (not served here) does nothing.
func (s *server) serve(r *run) {
	if s == nil {
		return
	}
	r.serving.Go(func() error {
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return r.report(s.name+" listener", fmt.Errorf("http server on %s: %w", s.ln.Addr(), err))
		}
		return nil
	})
}

// shutdown stops taking requests and waits up to the grace for those in flight.
func (s *server) shutdown(log *slog.Logger) {
	if s == nil || s.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.grace)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		log.Warn("http server did not drain in time", "err", err)
	}
}

// close shuts a served listener down, or closes one never served.
func (s *server) close(log *slog.Logger) {
	if s.srv != nil {
		s.shutdown(log)
		return
	}
	if err := s.ln.Close(); err != nil {
		log.Error("closing the "+s.name+" listener", "err", err)
	}
}

// baseURL turns a listener's address into a URL a person can open on this machine.
func baseURL(ln net.Listener) string {
	addr := ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// urls are the listeners' URLs, for Hooks.Started.
func (r *run) urls() URLs {
	var u URLs
	for _, s := range []struct {
		srv *server
		url *string
	}{{r.public, &u.Public}, {r.analyst, &u.Analyst}, {r.ops, &u.Ops}} {
		if s.srv != nil {
			*s.url = s.srv.url
		}
	}
	return u
}

// opsHandler serves /metrics, /healthz (the process runs) and /readyz (it can do its work).
func (r *run) opsHandler() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), 3*time.Second)
		defer cancel()
		if err := r.readiness(ctx); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// readiness says why the process cannot do its work, or nil: the stages run, the bus answers,
// the stores it holds are readable, and Tesseract works where OCR is all the process does.
func (r *run) readiness(ctx context.Context) error {
	var problems []error
	if !r.ready.Load() {
		problems = append(problems, errors.New("stages not started"))
	}
	if err := bus.Ping(ctx, r.bus); err != nil {
		problems = append(problems, err)
	}
	if r.arc != nil {
		if err := r.arc.Check(); err != nil {
			problems = append(problems, fmt.Errorf("archive: %w", err))
		}
	}
	if r.files != nil {
		if err := r.files.Check(); err != nil {
			problems = append(problems, err)
		}
	}
	if r.idx != nil {
		if _, err := r.idx.Count(); err != nil {
			problems = append(problems, fmt.Errorf("index: %w", err))
		}
	}
	if r.cfg.OCRRequired {
		if err := (ocr.Tesseract{}).Check(ctx); err != nil {
			problems = append(problems, err)
		}
	}
	return errors.Join(problems...)
}

// publicURL is the public listener's URL, https when it serves TLS itself.
func publicURL(base string, tls bool) string {
	if tls {
		return "https" + strings.TrimPrefix(base, "http")
	}
	return base
}
