package pipeline

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/tipline/tipline/ingest/webform"
	"github.com/tipline/tipline/internal/seal"
	"github.com/tipline/tipline/internal/throttle"
)

// buildPublic builds the citizens' server and its listener's HTTP server, where the process
// serves the public role.
func (r *run) buildPublic() error {
	if !r.cfg.Runs(RolePublic) {
		return nil
	}
	var err error
	if r.webform, err = r.newWebform(); err != nil {
		return err
	}
	if r.public == nil {
		return nil
	}
	p := r.cfg.Public
	errLog := slog.NewLogLogger(r.log.Handler(), slog.LevelWarn)
	if !p.LogClientIP {
		errLog.SetOutput(redactAddrs{errLog.Writer()})
	}
	// Long timeouts for uploads from slow phones, and error lines without client addresses
	// unless asked for.
	srv := &http.Server{Handler: r.webform.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: p.UploadTimeout,
		WriteTimeout: p.UploadTimeout, IdleTimeout: 120 * time.Second, ErrorLog: errLog}
	if p.TLSCert != "" || p.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(p.TLSCert, p.TLSKey)
		if err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		r.public.ln = tls.NewListener(r.public.ln, srv.TLSConfig)
	}
	r.public.srv, r.public.grace = srv, r.cfg.ShutdownGrace
	r.public.url = publicURL(r.public.url, p.TLSCert != "")
	return nil
}

// newWebform builds the citizens' server from the settings: the offices' keys (created on
// first start), the trusted proxies, the anti-forgery key kept in the data folder.
func (r *run) newWebform() (*webform.Server, error) {
	p := r.cfg.Public
	keys := p.KeysDir
	if keys == "" {
		keys = r.layout.Keys()
	}
	if _, err := os.Stat(keys); errors.Is(err, fs.ErrNotExist) {
		created, err := seal.Init(keys)
		if err != nil {
			return nil, err
		}
		r.log.Warn("created a key pair for every office: reporters' identities are sealed for them. Move the private keys (*.key) to the offices and off this machine; only the *.pub files belong here",
			"dir", keys, "offices", len(created))
	}
	sealer, err := seal.LoadRecipients(keys)
	if err != nil {
		return nil, err
	}
	proxies, err := throttle.ParsePrefixes(p.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("--trusted-proxies: %w", err)
	}
	csrfKey, err := secretFile(r.layout.CSRFKey())
	if err != nil {
		return nil, err
	}
	return webform.New(webform.Config{
		Limits: webform.Limits{MaxFile: p.MaxFileMB << 20, MaxUpload: p.MaxUploadMB << 20},
		Protection: webform.Protection{SubmitEvery: p.SubmitEvery, SubmitBurst: p.SubmitBurst,
			ReceiptEvery: p.ReceiptEvery, ReceiptBurst: p.ReceiptBurst, UploadBytes: p.UploadMBHour << 20,
			TrustedProxies: proxies, LogClientIP: p.LogClientIP, CSRFKey: csrfKey},
	}, r.submitter, r.arc, sealer, r.m, r.log.With("api", "public"))
}

// secretFile reads 32 random bytes kept in path, creating them on first use.
func secretFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) == 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	b = make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program instead)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("secret %s: %w", path, err)
	}
	return b, nil
}

// net/http names the peer in some error lines ("TLS handshake error from 1.2.3.4:5678").
var addrPattern = regexp.MustCompile(`\[[0-9A-Fa-f:.%a-z]+\](:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b`)

// redactAddrs writes the public listener's error lines with client addresses replaced.
type redactAddrs struct {
	w interface{ Write([]byte) (int, error) }
}

func (r redactAddrs) Write(p []byte) (int, error) {
	if _, err := r.w.Write(addrPattern.ReplaceAll(p, []byte("[client]"))); err != nil {
		return 0, err
	}
	return len(p), nil
}
