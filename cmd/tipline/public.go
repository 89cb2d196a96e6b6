package main

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/tipline/tipline/ingest/webform"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/seal"
	"github.com/tipline/tipline/internal/throttle"
)

// publicConfig is how the citizens' listener is run and guarded.
type publicConfig struct {
	KeysDir        string // offices' public keys; default <data-dir>/keys
	TLSCert        string
	TLSKey         string
	TrustedProxies string
	LogClientIP    bool
	SubmitEvery    time.Duration
	SubmitBurst    int
	ReceiptEvery   time.Duration
	ReceiptBurst   int
	UploadMBHour   int64
	MaxFileMB      int64
	MaxUploadMB    int64
	UploadTimeout  time.Duration
}

func (p *publicConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&p.KeysDir, "keys-dir", "", "folder with the offices' public keys <office>.pub that reporters' identities are sealed for (default <data-dir>/keys, created with every key pair on first start; see tipline keys init)")
	fs.StringVar(&p.TLSCert, "tls-cert", "", "certificate (PEM) for HTTPS on the public listener; without it, put a reverse proxy with HTTPS in front")
	fs.StringVar(&p.TLSKey, "tls-key", "", "private key (PEM) of --tls-cert")
	fs.StringVar(&p.TrustedProxies, "trusted-proxies", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed")
	fs.BoolVar(&p.LogClientIP, "log-client-ip", false, "write client addresses into log lines (off: citizens' addresses are never logged)")
	fs.DurationVar(&p.SubmitEvery, "public-submit-every", 2*time.Second, "per client address: one submission (tip or addition) every this long after the burst")
	fs.IntVar(&p.SubmitBurst, "public-submit-burst", 30, "per client address: submissions allowed at once")
	fs.DurationVar(&p.ReceiptEvery, "public-receipt-every", 6*time.Second, "per client address: one receipt look-up every this long after the burst")
	fs.IntVar(&p.ReceiptBurst, "public-receipt-burst", 10, "per client address: receipt look-ups allowed at once")
	fs.Int64Var(&p.UploadMBHour, "public-upload-mb-per-hour", 512, "per client address: MiB of submissions (files included) per hour, counted as they stream; over it, 429 (negative: no budget)")
	fs.Int64Var(&p.MaxFileMB, "max-file-mb", 32, "largest file a citizen may upload, in MiB")
	fs.Int64Var(&p.MaxUploadMB, "max-upload-mb", 100, "largest whole submission with its files, in MiB")
	fs.DurationVar(&p.UploadTimeout, "upload-timeout", 30*time.Minute, "how long one public request, upload included, may take (phones on slow networks)")
}

// newPublicServer builds the citizens' server from the flags.
func newPublicServer(cfg pipelineConfig, sub webform.Submitter, arc *archive.Local, m *metrics.Metrics, log *slog.Logger) (*webform.Server, error) {
	p := cfg.Public
	keys := p.KeysDir
	if keys == "" {
		keys = filepath.Join(cfg.DataDir, "keys")
	}
	if _, err := os.Stat(keys); errors.Is(err, fs.ErrNotExist) {
		created, err := seal.Init(keys)
		if err != nil {
			return nil, err
		}
		log.Warn("created a key pair for every office: reporters' identities are sealed for them. Move the private keys (*.key) to the offices and off this machine; only the *.pub files belong here",
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
	csrfKey, err := secretFile(filepath.Join(cfg.DataDir, "public-csrf.key"))
	if err != nil {
		return nil, err
	}
	return webform.New(webform.Config{
		Limits: webform.Limits{MaxFile: p.MaxFileMB << 20, MaxUpload: p.MaxUploadMB << 20},
		Protection: webform.Protection{SubmitEvery: p.SubmitEvery, SubmitBurst: p.SubmitBurst,
			ReceiptEvery: p.ReceiptEvery, ReceiptBurst: p.ReceiptBurst, UploadBytes: p.UploadMBHour << 20,
			TrustedProxies: proxies, LogClientIP: p.LogClientIP, CSRFKey: csrfKey},
	}, sub, arc, sealer, m, log)
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
	_, _ = rand.Read(b)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("secret %s: %w", path, err)
	}
	return b, nil
}

// servePublic runs the citizens' listener: HTTPS when a certificate is given, long timeouts for
// uploads from slow phones, and error lines without client addresses unless asked for.
func servePublic(ln net.Listener, h http.Handler, p publicConfig, log *slog.Logger) (*http.Server, error) {
	errLog := slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	if !p.LogClientIP {
		errLog.SetOutput(redactAddrs{errLog.Writer()})
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: p.UploadTimeout,
		WriteTimeout: p.UploadTimeout, IdleTimeout: 120 * time.Second, ErrorLog: errLog}
	if p.TLSCert != "" || p.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(p.TLSCert, p.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server failed", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return srv, nil
}

// net/http names the peer in some error lines ("TLS handshake error from 1.2.3.4:5678").
var addrPattern = regexp.MustCompile(`\[[0-9A-Fa-f:.%a-z]+\](:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b`)

type redactAddrs struct {
	w interface{ Write([]byte) (int, error) }
}

func (r redactAddrs) Write(p []byte) (int, error) {
	if _, err := r.w.Write(addrPattern.ReplaceAll(p, []byte("[client]"))); err != nil {
		return 0, err
	}
	return len(p), nil
}
