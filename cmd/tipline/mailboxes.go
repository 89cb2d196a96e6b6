package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tipline/tipline/ingest/email"
	"github.com/tipline/tipline/internal/tip"
)

// mailboxFlags are DESIGN.md's single-mailbox flags.
type mailboxFlags struct {
	addr, user, passwordFile, mailbox, tls, office, moveTo, caFile string
	poll                                                           time.Duration
}

func (f *mailboxFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "imap-addr", "", "IMAP server host:port of one mailbox to ingest (more mailboxes: --config)")
	fs.StringVar(&f.user, "imap-user", "", "IMAP user")
	fs.StringVar(&f.passwordFile, "imap-password-file", "", "file holding the IMAP password (or set TIPLINE_IMAP_PASSWORD; never a flag value)")
	fs.StringVar(&f.mailbox, "imap-mailbox", "INBOX", "IMAP mailbox to read")
	fs.StringVar(&f.tls, "imap-tls", "tls", "IMAP connection security: tls, starttls or none")
	fs.StringVar(&f.office, "imap-office", "", "office code the mailbox's tips go to unless the text says otherwise (empty: routed by the text)")
	fs.StringVar(&f.moveTo, "imap-move-to", "", "folder to move processed messages to (empty: leave them, flagged $TiplineIngested)")
	fs.StringVar(&f.caFile, "imap-ca-file", "", "PEM file of certificate authorities to trust for the IMAP server (default: the system's)")
	fs.DurationVar(&f.poll, "imap-poll", 30*time.Second, "how often to look for new mail when the server has no IDLE (and the longest an IDLE lasts)")
}

// mailboxFile is one mailbox in the --config file.
type mailboxFile struct {
	Name         string        `yaml:"name"`
	Addr         string        `yaml:"addr"`
	User         string        `yaml:"user"`
	PasswordFile string        `yaml:"password_file"`
	PasswordEnv  string        `yaml:"password_env"`
	Mailbox      string        `yaml:"mailbox"`
	TLS          string        `yaml:"tls"`
	Office       string        `yaml:"office"`
	Keyword      string        `yaml:"keyword"`
	MoveTo       string        `yaml:"move_to"`
	Poll         time.Duration `yaml:"poll"`
	CAFile       string        `yaml:"ca_file"`
}

// fileConfig is the --config file.
type fileConfig struct {
	Mailboxes []mailboxFile `yaml:"mailboxes"`
}

func readPassword(file, env string) (string, error) {
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("password file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case env != "":
		if v, ok := os.LookupEnv(env); ok {
			return v, nil
		}
		return "", fmt.Errorf("password: environment variable %s is not set", env)
	}
	return "", errors.New("no password: give a password file or an environment variable")
}

// mailboxes collects the mailboxes to ingest from the flags and the config file.
func mailboxes(f mailboxFlags, configPath string) ([]email.Config, error) {
	var out []email.Config
	if f.addr != "" {
		pw, err := readPassword(f.passwordFile, "TIPLINE_IMAP_PASSWORD")
		if err != nil {
			return nil, fmt.Errorf("--imap-addr %s: %w", f.addr, err)
		}
		out = append(out, email.Config{Addr: f.addr, User: f.user, Password: pw, Mailbox: f.mailbox, TLS: f.tls,
			Office: tip.Office(f.office), MoveTo: f.moveTo, Poll: f.poll, CAFile: f.caFile})
	}
	if configPath != "" {
		b, err := os.ReadFile(configPath)
		if err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
		var fc fileConfig
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&fc); err != nil {
			return nil, fmt.Errorf("--config %s: %w", configPath, err)
		}
		for i, m := range fc.Mailboxes {
			pw, err := readPassword(m.PasswordFile, m.PasswordEnv)
			if err != nil {
				return nil, fmt.Errorf("--config %s: mailbox %d (%s): %w", configPath, i+1, m.Name, err)
			}
			out = append(out, email.Config{Name: m.Name, Addr: m.Addr, User: m.User, Password: pw, Mailbox: m.Mailbox,
				TLS: m.TLS, Office: tip.Office(m.Office), Keyword: m.Keyword, MoveTo: m.MoveTo, Poll: m.Poll, CAFile: m.CAFile})
		}
	}
	names := map[string]bool{}
	for i := range out {
		if err := out[i].Validate(); err != nil {
			return nil, err
		}
		out[i] = out[i].WithDefaults()
		if names[out[i].Name] {
			return nil, fmt.Errorf("two mailboxes are named %q", out[i].Name)
		}
		names[out[i].Name] = true
	}
	return out, nil
}
