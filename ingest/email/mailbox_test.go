package email

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/bus/bustest"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/tip"
)

// server is an IMAP server the suite runs against: go-imap's in-memory one always, Dovecot
// under the integration tag.
type server struct {
	addr, user, password string
	// tlsAddr and caFile reach the same server over implicit TLS, and addr then offers
	// STARTTLS (empty where not offered).
	tlsAddr, caFile string
	// restart stops and starts the server (nil where it cannot be done).
	restart func(t *testing.T)
	// resetUIDValidity gives the mailbox a new UIDVALIDITY and drops tipline's keyword, as a
	// rebuilt server would (nil where it cannot be done).
	resetUIDValidity func(t *testing.T)
}

// deliver puts messages into the INBOX with APPEND, as a mail delivery would.
func (s server) deliver(t *testing.T, msgs ...[]byte) {
	t.Helper()
	c, err := imapclient.DialInsecure(s.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(s.user, s.password).Wait(); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		cmd := c.Append("INBOX", int64(len(m)), nil)
		if _, err := cmd.Write(m); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}

// clear empties the INBOX, so each test sees only its own mail.
func (s server) clear(t *testing.T) {
	t.Helper()
	c, err := imapclient.DialInsecure(s.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(s.user, s.password).Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages == 0 {
		return
	}
	all := imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}
	if err := c.Store(all, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
}

// flagged counts the INBOX messages carrying keyword.
func (s server) flagged(t *testing.T, keyword string) (flagged, total int) {
	t.Helper()
	c, err := imapclient.DialInsecure(s.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(s.user, s.password).Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.UIDSearch(&imap.SearchCriteria{Flag: []imap.Flag{imap.Flag(keyword)}}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return len(res.AllUIDs()), int(sel.NumMessages)
}

func memServer(t *testing.T) server {
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("tipline", "secret")
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}, imap.CapIdle: {}, imap.CapMove: {}},
		InsecureAuth: true,
		Logger:       quietLogger{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return server{addr: ln.Addr().String(), user: "tipline", password: "secret"}
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

// pipeline is the ingest side of tipline in miniature: a real archive and submitter, and a
// publisher that keeps what it was given.
type pipeline struct {
	arc     *archive.Local
	pub     *bustest.Publisher
	sub     *ingest.Submitter
	metrics *metrics.Email
}

func newPipeline(t *testing.T, dir string) *pipeline {
	arc, err := archive.OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { arc.Close() })
	reg := prometheus.NewRegistry()
	pub := &bustest.Publisher{}
	return &pipeline{arc: arc, pub: pub, sub: ingest.NewSubmitter(arc, pub, "tips.raw", metrics.New(reg, metrics.Labels{})),
		metrics: metrics.NewEmail(reg, []string{"test"})}
}

func (p *pipeline) run(t *testing.T, s server, office tip.Office) (stop func()) {
	return p.runWith(t, Config{Addr: s.addr, TLS: "none", Office: office}, s)
}

func (p *pipeline) runWith(t *testing.T, cfg Config, s server) (stop func()) {
	cfg.Name, cfg.User, cfg.Password, cfg.Poll = "test", s.user, s.password, 200*time.Millisecond
	mb, err := NewMailbox(cfg, p.sub, p.arc, p.metrics, slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mb.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func (p *pipeline) waitTips(t *testing.T, n int) []*tip.Tip {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		tips := p.pub.Tips(t)
		if len(tips) >= n {
			return tips
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d tips, want %d", len(tips), n)
		}
	}
}

func runMailboxSuite(t *testing.T, s server) {
	run := func(name string, f func(*testing.T, server)) {
		t.Run(name, func(t *testing.T) {
			s.clear(t)
			f(t, s)
		})
	}
	run("every fixture becomes the expected tip, flagged after publishing", testFixtures)
	run("new mail is noticed", testNewMail)
	if s.restart != nil {
		run("a server restart in the middle loses and duplicates nothing", testServerRestart)
	}
	if s.resetUIDValidity != nil {
		run("a changed UIDVALIDITY creates no duplicates", testUIDValidity)
	}
	if s.tlsAddr != "" {
		run("over TLS, and STARTTLS, with a private CA", testTLS)
	}
}

func testTLS(t *testing.T, s server) {
	p := newPipeline(t, t.TempDir())
	for i, cfg := range []Config{{Addr: s.tlsAddr, TLS: "tls", CAFile: s.caFile}, {Addr: s.addr, TLS: "starttls", CAFile: s.caFile}} {
		stop := p.runWith(t, cfg, s)
		s.deliver(t, marked(4000+i))
		tips := p.waitTips(t, i+1)
		stop()
		if !strings.Contains(tips[i].Text, fmt.Sprintf("marker%d", 4000+i)) {
			t.Errorf("%s: tip %q", cfg.TLS, tips[i].Text)
		}
	}
	// Without the CA the server's certificate is refused: no tip, a session error.
	errsBefore := testutil.ToFloat64(p.metrics.Errors.WithLabelValues("test", "session"))
	stop := p.runWith(t, Config{Addr: s.tlsAddr, TLS: "tls"}, s)
	s.deliver(t, marked(4100))
	time.Sleep(1500 * time.Millisecond)
	stop()
	if n := len(p.pub.Tips(t)); n != 2 {
		t.Errorf("%d tips through an untrusted TLS connection", n-2)
	}
	if testutil.ToFloat64(p.metrics.Errors.WithLabelValues("test", "session")) <= errsBefore {
		t.Error("the refused certificate was not counted as an error")
	}
}

var fixtureTexts = map[string]string{
	"utf8.eml":          "录屏后敲诈我五千元",
	"gb2312.eml":        "录屏后敲诈我五千元",
	"gbk.eml":           "镕字也要能读",
	"gb18030.eml":       "𠮷",
	"big5.eml":          "僱傭水軍在網路上誹謗",
	"html-only.eml":     "催收天天爆通讯录&打电话",
	"alternative.eml":   "纯文本版本：有偿删帖",
	"forwarded.eml":     "不给钱就把视频发给你的亲友",
	"attachments.eml":   "安装包和截图在附件里",
	"nocharset-gbk.eml": "用呼死你打我电话",
	// Damaged mail still becomes a tip, and does not hold up the mail behind it.
	"wrong-label.eml":      "职业打假的人要十倍赔偿",
	"unknown-charset.eml":  "自媒体要公关费",
	"missing-boundary.eml": "没有边界的邮件",
	"truncated-base64.eml": "催收爆通讯录",
	"bad-qp.eml":           "有人雇水军",
	"deep.eml":             "deep",
	"many-parts.eml":       "part 0",
	"no-body.eml":          "只有标题：裸聊敲诈",
	"header-injection.eml": "注入",
}

func testFixtures(t *testing.T, s server) {
	var raws [][]byte
	names := make([]string, 0, len(fixtureTexts))
	for name := range fixtureTexts {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		raws = append(raws, fixture(t, name))
	}
	s.deliver(t, raws...)
	p := newPipeline(t, t.TempDir())
	stop := p.run(t, s, tip.Liunan)
	tips := p.waitTips(t, len(raws))
	stop()
	if len(tips) != len(raws) {
		t.Fatalf("%d tips for %d messages", len(tips), len(raws))
	}
	for _, name := range names {
		want := fixtureTexts[name]
		i := slices.IndexFunc(tips, func(tp *tip.Tip) bool { return strings.Contains(tp.Text, want) })
		if i < 0 {
			t.Errorf("%s: no tip contains %q", name, want)
			continue
		}
		tp := tips[i]
		if tp.Source != tip.SourceEmail || tp.Office != tip.Liunan || tp.Routing.Reason != tip.RouteMailbox ||
			tp.Original == nil || tp.Original.MediaType != "message/rfc822" || !tp.Reporter.HasIdentity {
			t.Errorf("%s: tip %+v", name, tp)
		}
		if strings.Contains(tp.Text, "victim@example.cn") || strings.Contains(tp.Text, "张 三") {
			t.Errorf("%s: the sender is in the tip text", name)
		}
		switch name {
		case "attachments.eml":
			var got []string
			for _, a := range tp.Attachments {
				got = append(got, a.Name+"="+a.MediaType)
				if len(a.SHA256) != 64 || a.Size == 0 {
					t.Errorf("attachment %+v", a)
				}
			}
			if strings.Join(got, " ") != "截图.jpg=image/jpeg 速借宝.apk=application/vnd.android.package-archive" {
				t.Errorf("attachments %v", got)
			}
		case "nocharset-gbk.eml":
			if len(tp.Warnings) == 0 {
				t.Error("no warning for the unlabelled GBK body")
			}
		}
	}
	if f, n := s.flagged(t, "$TiplineIngested"); f != n || n < len(raws) {
		t.Errorf("%d of %d messages flagged", f, n)
	}
	if got := testutil.ToFloat64(p.metrics.Published.WithLabelValues("test")); got != float64(len(raws)) {
		t.Errorf("published metric %v", got)
	}
}

func marked(n int) []byte {
	return []byte(fmt.Sprintf("From: x@example.cn\r\nSubject: tip %d\r\nMessage-ID: <m%d-%d@example.cn>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n网贷催收 marker%d\r\n", n, time.Now().UnixNano(), n, n))
}

func testNewMail(t *testing.T, s server) {
	p := newPipeline(t, t.TempDir())
	stop := p.run(t, s, "")
	defer stop()
	time.Sleep(300 * time.Millisecond) // idling by now
	before := len(p.pub.Tips(t))
	s.deliver(t, marked(1))
	start := time.Now()
	tips := p.waitTips(t, before+1)
	if !strings.Contains(tips[len(tips)-1].Text, "marker1") {
		t.Errorf("new tip %q", tips[len(tips)-1].Text)
	}
	t.Logf("delivery → published in %v", time.Since(start))
}

func testServerRestart(t *testing.T, s server) {
	p := newPipeline(t, t.TempDir())
	base := len(p.pub.Tips(t))
	var msgs [][]byte
	for i := range 60 {
		msgs = append(msgs, marked(1000+i))
	}
	s.deliver(t, msgs...)
	stop := p.run(t, s, "")
	p.waitTips(t, base+10)
	s.restart(t)
	s.deliver(t, marked(2000))
	tips := p.waitTips(t, base+61)
	stop()
	seen := map[string]int{}
	for _, tp := range tips {
		seen[tp.Text]++
	}
	for text, n := range seen {
		if n > 1 {
			t.Errorf("%q became %d tips", text, n)
		}
	}
}

func testUIDValidity(t *testing.T, s server) {
	dir := t.TempDir()
	p := newPipeline(t, dir)
	s.deliver(t, marked(3000), marked(3001))
	stop := p.run(t, s, "")
	_, total := s.flagged(t, "$TiplineIngested")
	p.waitTips(t, total)
	stop()
	s.resetUIDValidity(t)
	stop = p.run(t, s, "")
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if f, n := s.flagged(t, "$TiplineIngested"); f == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("messages not flagged again after the rescan")
		}
	}
	stop()
	if n := len(p.pub.Tips(t)); n != total {
		t.Errorf("%d tips after the rescan, want %d (no duplicates)", n, total)
	}
	if got := testutil.ToFloat64(p.metrics.Duplicates.WithLabelValues("test")); got < float64(total) {
		t.Errorf("duplicates metric %v, want %d", got, total)
	}
}

func TestMailboxInMemory(t *testing.T) { runMailboxSuite(t, memServer(t)) }

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
