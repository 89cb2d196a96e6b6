package pipeline

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/tipline/tipline/ingest/email"
	"github.com/tipline/tipline/internal/bus"
)

// The parts of tipline one process can run: tipline serve runs them all unless --roles says
// otherwise, so that a cluster runs the same binary as one service per part; tipline ingest
// email, tipline ingest letters and tipline ocr each run one.
const (
	RolePublic   = "public"   // the citizens' page and API, with its archive
	RoleClassify = "classify" // tips.raw → tips.classified
	RoleIndex    = "index"    // tips.classified → the index, the analysts' desk, the reconciler
	RoleOCR      = "ocr"      // tips.ocr → tips.raw
	RoleLetters  = "letters"  // the letters folder and the mail room's upload
	RoleEmail    = "email"    // the mailboxes
)

// Roles lists every role, in the order tips meet them.
func Roles() []string {
	return []string{RolePublic, RoleClassify, RoleIndex, RoleOCR, RoleLetters, RoleEmail}
}

// Config is everything one tipline process runs with. The flag each field comes from is named
// beside it, and the errors of Validate name the flags, since that is what an operator typed.
type Config struct {
	// DataDir is the data folder (--data-dir): the archive, the index, the embedded broker and
	// the analysts' files, as Layout names them. Required.
	DataDir string
	// Roles are the parts this process runs (--roles; Roles lists them). Empty: all of them.
	Roles []string

	// Kafka are the brokers, host:port (--kafka). Empty: an embedded single-node broker under
	// the data folder, which only a process running every role may use.
	Kafka []string
	// Topics are the topic names (--topic-ocr, --topic-raw, --topic-classified, --topic-dlq);
	// each topic the roles read or write must be named. Topics named here that do not exist are
	// created; an empty name is neither used nor created.
	Topics bus.Topics
	// Partitions of the topics this process creates (--partitions; 0: 1 on the embedded
	// broker, 6 on a cluster). They bound how many instances of a stage share its work.
	Partitions int
	// ReplicationFactor of the topics this process creates (--replication-factor; 0: 1).
	ReplicationFactor int
	// GroupPrefix starts the consumer groups' names: <prefix>-classify, -index, -ocr
	// (--group-prefix).
	GroupPrefix string
	// ShutdownGrace is how long in-flight work may take after SIGTERM (--shutdown-grace): the
	// public listener's requests, and each stage's batch in hand.
	ShutdownGrace time.Duration

	// PublicAddr is the citizens' listener (--public-addr), served by the public role. Empty:
	// none.
	PublicAddr string
	// AnalystAddr is the analysts' listener (--analyst-addr): the desk with its API (role
	// index), the mail room's upload and the import of saved e-mail (role letters), the
	// officers' intake (role public). Empty: none.
	AnalystAddr string
	// AnalystRemote lets AnalystAddr be other than loopback (--analyst-allow-remote). Before
	// the first account exists the desk lets everyone in, so by default it listens where only
	// this machine reaches it.
	AnalystRemote bool
	// OpsAddr serves /metrics, /healthz and /readyz (--ops-addr); every process has it.
	OpsAddr string

	// Rules is the classifier's rules file (--rules), reloaded when it changes and on SIGHUP.
	// Empty: the embedded rules.
	Rules string
	// Mailboxes are the IMAP mailboxes the email role reads (--imap-* or --config), each
	// validated and with its defaults.
	Mailboxes []email.Config
	// LettersDir is the watched folder of scans (--letters-dir) of the letters role. Empty: no
	// folder; the mail room's upload still takes scans in.
	LettersDir string
	// OCRWorkers is how many Tesseract processes read at once (--ocr-workers; 0: one per CPU).
	OCRWorkers int
	// OCRRequired makes a working Tesseract part of /readyz, for a process that is the OCR
	// stage alone (tipline ocr). Off, a missing Tesseract is logged and scans are marked for
	// manual transcription, as tipline serve does.
	OCRRequired bool
	// Public is how the citizens' listener is run and guarded.
	Public PublicConfig
	// Demo loads this many demo tips when the index is empty (--demo; 0: none).
	Demo int
}

// PublicConfig is how the citizens' listener is run and guarded (the flags of the same names).
// Zero values take webform's defaults, except where said.
type PublicConfig struct {
	KeysDir        string        // offices' public keys (--keys-dir; default: the data folder's keys/, created with every key pair on first start)
	TLSCert        string        // certificate (PEM) for HTTPS (--tls-cert); empty: plain HTTP behind a proxy with HTTPS
	TLSKey         string        // its private key (--tls-key)
	TrustedProxies string        // comma-separated addresses or CIDRs whose X-Forwarded-For and -Proto are believed (--trusted-proxies), on both listeners
	LogClientIP    bool          // write client addresses into log lines (--log-client-ip)
	SubmitEvery    time.Duration // per client address: one submission every this long after the burst (--public-submit-every)
	SubmitBurst    int           // per client address: submissions allowed at once (--public-submit-burst)
	ReceiptEvery   time.Duration // per client address: one receipt look-up every this long after the burst (--public-receipt-every)
	ReceiptBurst   int           // per client address: receipt look-ups allowed at once (--public-receipt-burst)
	UploadMBHour   int64         // per client address: MiB of submissions per hour (--public-upload-mb-per-hour; negative: no budget)
	MaxFileMB      int64         // largest file a citizen may upload, MiB (--max-file-mb)
	MaxUploadMB    int64         // largest whole submission, MiB (--max-upload-mb)
	UploadTimeout  time.Duration // how long one request, upload included, may take (--upload-timeout; 0: no limit)
}

// Runs reports whether the process runs role.
func (c Config) Runs(role string) bool { return len(c.Roles) == 0 || slices.Contains(c.Roles, role) }

// runsAny reports whether the process runs one of roles.
func (c Config) runsAny(roles ...string) bool { return slices.ContainsFunc(roles, c.Runs) }

// Validate says what is missing or wrong in c.
func (c Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("--data-dir is required")
	}
	for _, r := range c.Roles {
		if !slices.Contains(Roles(), r) {
			return fmt.Errorf("--roles: unknown role %q (roles: %s)", r, strings.Join(Roles(), ", "))
		}
	}
	if len(c.Roles) > 0 && len(c.Kafka) == 0 {
		return errors.New("--roles splits tipline into several processes, which need a Kafka cluster (--kafka)")
	}
	if err := c.validateAnalystAddr(); err != nil {
		return err
	}
	for _, t := range c.topicsUsed() {
		if t == "" {
			return errors.New("topic names must not be empty")
		}
	}
	return nil
}

// validateAnalystAddr keeps the analysts' listener on loopback unless told otherwise: the desk
// is behind accounts (account.Gate), but before the first account exists it lets everyone in,
// as it did before accounts.
func (c Config) validateAnalystAddr() error {
	if c.AnalystAddr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(c.AnalystAddr)
	if err != nil {
		return fmt.Errorf("--analyst-addr: %w", err)
	}
	if ip := net.ParseIP(host); !c.AnalystRemote && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--analyst-addr %q: the analysts' listener stays on a loopback address such as 127.0.0.1 unless --analyst-allow-remote is set, "+
			"because until the first account exists (tipline user add) it is open to whoever reaches it", c.AnalystAddr)
	}
	return nil
}

// topicsUsed are the topics the process's roles read or write: every ingesting role may send a
// tip to OCR and sends the rest to the raw topic, and every consuming stage dead-letters.
func (c Config) topicsUsed() []string {
	var used []string
	if c.runsAny(RolePublic, RoleLetters, RoleEmail, RoleOCR) {
		used = append(used, c.Topics.OCR, c.Topics.Raw)
	}
	if c.Runs(RoleClassify) {
		used = append(used, c.Topics.Raw, c.Topics.Classified)
	}
	if c.Runs(RoleIndex) {
		used = append(used, c.Topics.Classified)
	}
	if c.runsAny(RoleClassify, RoleIndex, RoleOCR) {
		used = append(used, c.Topics.DLQ)
	}
	return used
}
