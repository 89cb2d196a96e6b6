package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns a pool trusting it.
func selfSigned(t *testing.T, dir string) (cert, key string, pool *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tipline test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(priv)
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	parsed, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(parsed)
	return cert, key, pool
}

// The public listener speaks HTTPS with --tls-cert/--tls-key, and the server holds only the
// offices' public keys made by "tipline keys init".
func TestPublicHTTPSWithOfficeKeysFromKeysInit(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "offices")
	out, err := exec.Command(binary(t), "keys", "init", "--dir", keys).CombinedOutput()
	if err != nil || strings.Count(string(out), "created") != 12 {
		t.Fatalf("keys init: %v\n%s", err, out)
	}
	out, _ = exec.Command(binary(t), "keys", "init", "--dir", keys).CombinedOutput()
	if !strings.Contains(string(out), "nothing changed") {
		t.Fatalf("second keys init: %s", out)
	}
	public := filepath.Join(dir, "public-keys")
	os.MkdirAll(public, 0o700)
	matches, _ := filepath.Glob(filepath.Join(keys, "*.pub"))
	for _, m := range matches {
		b, _ := os.ReadFile(m)
		os.WriteFile(filepath.Join(public, filepath.Base(m)), b, 0o644)
	}
	cert, key, pool := selfSigned(t, dir)
	inst := start(t, filepath.Join(dir, "data"), "--keys-dir", public, "--tls-cert", cert, "--tls-key", key)
	if !strings.HasPrefix(inst.public, "https://") {
		t.Fatalf("public URL %s", inst.public)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(inst.public + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("HTTPS page: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	var secureCookie bool
	for _, c := range resp.Cookies() {
		secureCookie = secureCookie || c.Secure && c.HttpOnly
	}
	if !secureCookie {
		t.Error("the anti-forgery cookie is not Secure and HttpOnly over HTTPS")
	}
	// Plain HTTP is refused, and the error line net/http writes for it names no client address.
	if resp, err := http.Get(strings.Replace(inst.public, "https", "http", 1) + "/"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP on the HTTPS listener: %d", resp.StatusCode)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(inst.logs(), "TLS handshake error") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(inst.logs(), "TLS handshake error") {
		t.Error("no error line for the plain HTTP request")
	}
	for line := range strings.Lines(inst.logs()) {
		if strings.Contains(line, "TLS handshake error") && (strings.Contains(line, "127.0.0.1") || !strings.Contains(line, "[client]")) {
			t.Errorf("error line with a client address: %s", line)
		}
	}
	// Real-name tips are sealed with the given keys; no private key was needed or created.
	if _, err := os.Stat(filepath.Join(dir, "data", "keys")); err == nil {
		t.Error("serve created keys of its own despite --keys-dir")
	}
	if privs, _ := filepath.Glob(filepath.Join(public, "*.key")); len(privs) != 0 {
		t.Errorf("private keys in the public folder: %v", privs)
	}
}

// Without a public key for every office, serve refuses to start and says which are missing.
func TestServeRefusesIncompleteKeys(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if out, err := exec.Command(binary(t), "keys", "init", "--dir", keys).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	os.Remove(filepath.Join(keys, "sanjiang.pub"))
	cmd := exec.Command(binary(t), "serve", "--data-dir", filepath.Join(dir, "data"), "--keys-dir", keys,
		"--public-addr", "127.0.0.1:0", "--analyst-addr", "127.0.0.1:0", "--ops-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "TIPLINE_KAFKA=")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "sanjiang.pub") || !strings.Contains(string(out), "tipline keys init") {
		t.Fatalf("serve with a missing key: %v\n%s", err, out)
	}
}
