//go:build integration

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/tip"
)

func dovecotAddr(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("TIPLINE_TEST_IMAP")
	if addr == "" {
		addr = "127.0.0.1:11143"
	}
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("Dovecot is not reachable at %s (start it with scripts/dovecot.sh start): %v", addr, err)
	}
	c.Close()
	return addr
}

// imapSession logs in to the test Dovecot and empties its INBOX.
func imapSession(t *testing.T, addr string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("tipline", "tipline-test").Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages > 0 {
		all := imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}
		if err := c.Store(all, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Expunge().Close(); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func appendMessage(t *testing.T, c *imapclient.Client, raw []byte) {
	t.Helper()
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

func mailWithMarker(mark string, n int) []byte {
	return []byte(fmt.Sprintf("From: =?utf-8?B?5byg5LiJ?= <a%d@example.cn>\r\nTo: tips@example.gov.cn\r\nSubject: =?utf-8?B?5Li+5oql?=\r\n"+
		"Message-ID: <%s@example.cn>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n网贷平台714高炮，借了三千要还一万二，催收天天打电话。编号 %s\r\n", n, mark, mark))
}

// TestEmailEndToEndDovecot: mail delivered to Dovecot becomes searchable tips, and a tipline
// killed (SIGKILL) in the middle of a mailbox still turns every message into exactly one tip.
func TestEmailEndToEndDovecot(t *testing.T) {
	addr := dovecotAddr(t)
	c := imapSession(t, addr)
	run := strconv36(time.Now().UnixNano() % 1e6)
	const n = 150
	for i := range n {
		appendMessage(t, c, mailWithMarker(fmt.Sprintf("em%s%04d", run, i), i))
	}
	gbk, err := os.ReadFile(filepath.Join("..", "..", "ingest", "email", "testdata", "gbk.eml"))
	if err != nil {
		t.Fatal(err)
	}
	appendMessage(t, c, gbk)

	dir := t.TempDir()
	flags := []string{"--imap-addr", addr, "--imap-user", "tipline", "--imap-tls", "none", "--imap-office", "liunan", "--imap-poll", "1s"}
	inst := start(t, dir, flags...)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if scrape(t, inst.ops)["tipline_email_tips_published_total"]["mailbox=tipline@"+addr+"/INBOX"] >= n/3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("mail is not being ingested")
		}
	}
	inst.stop(t, syscall.SIGKILL)
	inst = start(t, dir, flags...)
	waitSearchable(t, inst.analyst, n+1, 2*time.Minute)
	for i := range n {
		mark := fmt.Sprintf("em%s%04d", run, i)
		r := search(t, inst.analyst, url.Values{"q": {mark}})
		if r.Total != 1 {
			t.Errorf("message %s became %d tips", mark, r.Total)
		}
	}
	r := search(t, inst.analyst, url.Values{"q": {`"镕字也要能读"`}, "office": {"liunan"}, "source": {"email"}, "category": {"predatory_loan"}})
	if r.Total != 1 {
		t.Errorf("the GBK message is not searchable by its decoded text: %+v", r)
	}
	// The sender's address is reporter data: not searchable.
	if r := search(t, inst.analyst, url.Values{"q": {"a1@example.cn"}}); r.Total != 0 {
		t.Errorf("the sender's address is in the index")
	}
	sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	flagged, err := c.UIDSearch(&imap.SearchCriteria{Flag: []imap.Flag{"$TiplineIngested"}}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(flagged.AllUIDs()); got != int(sel.NumMessages) {
		t.Errorf("%d of %d messages flagged", got, sel.NumMessages)
	}
	inst.stop(t, syscall.SIGTERM)
}

func strconv36(n int64) string { return strings.ToLower(fmt.Sprintf("%x", n)) }

// TestIngestEmailStage runs the e-mail stage on its own against real Kafka: mail delivered to
// Dovecot arrives on the raw topic as tips, and the stage stops cleanly on SIGTERM.
func TestIngestEmailStage(t *testing.T) {
	addr := dovecotAddr(t)
	brokers := kafkaFlags(t)[1] // --kafka value
	c := imapSession(t, addr)
	topic := fmt.Sprintf("tips.raw.ingest-email-%d", time.Now().UnixNano())
	stage := startStage(t, "ingest", "email", "--kafka", brokers, "--topic-raw", topic, "--data-dir", t.TempDir(),
		"--imap-addr", addr, "--imap-user", "tipline", "--imap-tls", "none", "--imap-office", "rongan")
	for i := range 3 {
		appendMessage(t, c, mailWithMarker(fmt.Sprintf("stage%d-%d", time.Now().UnixNano(), i), i))
	}
	got := consumeTips(t, brokers, topic, 3, 90*time.Second)
	for _, tp := range got {
		if tp.Source != tip.SourceEmail || tp.Office != tip.Rongan || tp.Routing.Reason != tip.RouteMailbox || tp.Verdict != nil {
			t.Errorf("raw tip %+v", tp)
		}
	}
	stage.stop(t)
}

// stageProcess is one stage run on its own ("tipline ingest email", "tipline ocr", ...).
type stageProcess struct {
	cmd    *exec.Cmd
	ops    string
	stderr *lockedWriter
}

// startStage runs tipline with args (an ops listener on a free port is added) and waits until
// it prints its metrics address.
func startStage(t *testing.T, args ...string) *stageProcess {
	t.Helper()
	cmd := exec.Command(binary(t), append(args, "--ops-addr", "127.0.0.1:0")...)
	cmd.Env = append(os.Environ(), "TIPLINE_IMAP_PASSWORD=tipline-test")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &stageProcess{cmd: cmd, stderr: &lockedWriter{w: &bytes.Buffer{}}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("tipline %s stderr:\n%s", strings.Join(args[:1], " "), tail(p.stderr.String(), 30))
		}
	})
	sc := bufio.NewScanner(stdout)
	for p.ops == "" && sc.Scan() {
		if m := urlLine.FindString(sc.Text()); m != "" {
			u, _ := url.Parse(m)
			p.ops = u.Scheme + "://" + u.Host
		}
	}
	go io.Copy(io.Discard, stdout)
	if p.ops == "" {
		t.Fatalf("tipline %v did not start:\n%s", args[:2], p.stderr.String())
	}
	return p
}

// stop sends SIGTERM and expects a clean exit.
func (p *stageProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, p.stderr.String())
	}
}

// consumeTips reads n tips from topic on the real broker.
func consumeTips(t *testing.T, brokers, topic string, n int, within time.Duration) []*tip.Tip {
	t.Helper()
	cfg := bus.Config{Brokers: []string{brokers}}
	consumer, err := bus.NewConsumer(bus.ConsumerConfig{Config: cfg, Group: "check-" + topic, Topic: topic, Stage: "test", DLQ: topic + ".dlq"},
		bus.NewWriter(cfg), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var got []*tip.Tip
	_ = consumer.Run(ctx, func(_ context.Context, msgs []bus.Message) ([]bus.Reject, error) {
		for _, m := range msgs {
			tp, err := tip.Unmarshal(m.Value)
			if err != nil {
				t.Error(err)
				continue
			}
			got = append(got, tp)
		}
		if len(got) >= n {
			cancel()
		}
		return nil, nil
	})
	if len(got) != n {
		t.Fatalf("%d tips on %s, want %d", len(got), topic, n)
	}
	return got
}
