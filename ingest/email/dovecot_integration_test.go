//go:build integration

package email

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dovecot is the throwaway Dovecot that scripts/dovecot.sh started. Under the integration tag
// a missing server fails the test: it never skips.
func dovecot(t *testing.T) server {
	t.Helper()
	addr, conf := os.Getenv("TIPLINE_TEST_IMAP"), os.Getenv("TIPLINE_TEST_DOVECOT_CONF")
	if addr == "" {
		addr = "127.0.0.1:11143"
	}
	if conf == "" {
		conf = "/tmp/tipline-dovecot-11143/dovecot.conf"
	}
	if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err != nil {
		t.Fatalf("Dovecot is not reachable at %s (start it with scripts/dovecot.sh start): %v", addr, err)
	} else {
		c.Close()
	}
	doveadm := func(t *testing.T, args ...string) {
		t.Helper()
		out, err := exec.Command("doveadm", append([]string{"-c", conf}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("doveadm %v: %v\n%s", args, err, out)
		}
	}
	host, port, _ := net.SplitHostPort(addr)
	var p int
	fmt.Sscan(port, &p)
	return server{addr: addr, user: "tipline", password: "tipline-test",
		tlsAddr: net.JoinHostPort(host, fmt.Sprint(p+850)), caFile: filepath.Join(filepath.Dir(conf), "cert.pem"),
		restart: func(t *testing.T) {
			// The imap processes serving tipline are killed (mid-fetch if a fetch is running),
			// then the server is stopped and started again.
			pidFile := filepath.Join(filepath.Dir(conf), "run", "master.pid")
			b, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatal(err)
			}
			pid := strings.TrimSpace(string(b))
			_ = exec.Command("pkill", "-9", "-P", pid, "imap").Run()
			_ = exec.Command("doveadm", "-c", conf, "stop").Run()
			for i := 0; ; i++ {
				if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err != nil {
					break
				} else {
					c.Close()
				}
				if i > 100 {
					t.Fatal("Dovecot did not stop")
				}
				time.Sleep(50 * time.Millisecond)
			}
			_ = os.Remove(pidFile)
			time.Sleep(500 * time.Millisecond) // mail piles up while it is down
			// No captured output: the daemon keeps inherited pipes open, which would block.
			if err := exec.Command("dovecot", "-c", conf).Run(); err != nil {
				t.Fatalf("restart Dovecot: %v", err)
			}
			for i := 0; ; i++ {
				if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
					c.Close()
					return
				}
				if i > 100 {
					t.Fatal("Dovecot did not come back")
				}
				time.Sleep(50 * time.Millisecond)
			}
		},
		resetUIDValidity: func(t *testing.T) {
			doveadm(t, "mailbox", "update", "-u", "tipline", "--uid-validity", fmt.Sprint(time.Now().Unix()), "INBOX")
			doveadm(t, "flags", "remove", "-u", "tipline", "$TiplineIngested", "mailbox", "INBOX", "all")
		},
	}
}

func TestMailboxDovecot(t *testing.T) { runMailboxSuite(t, dovecot(t)) }
