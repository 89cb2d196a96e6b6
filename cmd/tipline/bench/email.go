package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/tipline/tipline/ingest/email"
	"github.com/tipline/tipline/internal/bus"
)

// benchEmail measures e-mail ingestion from a real IMAP server: messages per second from
// delivery to searchable (a mix of plain messages and 200 KB messages with attachments), and
// the time from the delivery of a single message to its being searchable, with IDLE.
func benchEmail(ctx context.Context, b Config, dir string, tr *tracker, out io.Writer) error {
	password := b.IMAPPassword
	c, err := imapclient.DialInsecure(b.IMAPAddr, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login(b.IMAPUser, password).Wait(); err != nil {
		return fmt.Errorf("imap login: %w", err)
	}
	if err := emptyInbox(c); err != nil {
		return err
	}
	cfg := b.pipelineConfig(dir)
	cfg.Kafka, cfg.Topics = nil, bus.DefaultTopics()
	cfg.Mailboxes = []email.Config{{Name: "bench", Addr: b.IMAPAddr, User: b.IMAPUser, Password: password, TLS: "none", Poll: 5 * time.Second}}
	run := cfg.GroupPrefix
	_, stop, err := startBenchPipeline(ctx, cfg, tr)
	if err != nil {
		return err
	}
	defer stop()
	time.Sleep(2 * time.Second) // connected and idling

	// Throughput: deliver as fast as the server takes them; every fifth message is 200 KB.
	t0 := time.Now()
	var large int
	for i := range b.Messages {
		var msg []byte
		if i%5 == 4 {
			msg = largeMail(run, i)
			large++
		} else {
			msg = plainMail(run, i)
		}
		if err := appendMail(c, msg); err != nil {
			return err
		}
	}
	delivered := time.Now()
	last, err := tr.waitMarked(withTimeout(ctx, 5*time.Minute), run, b.Messages)
	if err != nil {
		return err
	}
	rate := float64(b.Messages) / last.Sub(t0).Seconds()

	// Latency: one message at a time, delivery to searchable.
	const singles = 20
	var lat []time.Duration
	for i := range singles {
		mark := fmt.Sprintf("%s-single-%d", run, i)
		if err := appendMail(c, plainMail(mark, i)); err != nil {
			return err
		}
		at := time.Now()
		when, err := tr.waitMarked(withTimeout(ctx, time.Minute), mark, 1)
		if err != nil {
			return err
		}
		lat = append(lat, when.Sub(at))
		time.Sleep(200 * time.Millisecond)
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "tipline bench: e-mail from %s, IDLE\t\n", b.IMAPAddr)
	fmt.Fprintf(w, "  %d messages (%d of 200 KB with attachments) delivered in\t%s\n", b.Messages, large, delivered.Sub(t0).Round(time.Millisecond))
	fmt.Fprintf(w, "  ingested and searchable\t%.0f messages/s\n", rate)
	fmt.Fprintf(w, "  delivery→searchable, %d single messages: p50 / max\t%s / %s\n", singles, pct(lat, 50), pct(lat, 100))
	if err := w.Flush(); err != nil {
		return err
	}
	return stop()
}

func emptyInbox(c *imapclient.Client) error {
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		return err
	}
	if sel.NumMessages == 0 {
		return nil
	}
	all := imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}
	if err := c.Store(all, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		return err
	}
	return c.Expunge().Close()
}

func appendMail(c *imapclient.Client, raw []byte) error {
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err := cmd.Wait()
	return err
}

func plainMail(mark string, i int) []byte {
	return []byte(fmt.Sprintf("From: a%d@example.cn\r\nSubject: tip %d\r\nMessage-ID: <%s-%d@example.cn>\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n编号 %s-%d\r\n", i, i, mark, i, benchText(i, 1024), mark, i))
}

// largeMail is about 200 KB: a text, a screenshot and an installer, base64-encoded.
func largeMail(mark string, i int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: a%d@example.cn\r\nSubject: tip %d\r\nMessage-ID: <%s-%d@example.cn>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n编号 %s-%d\r\n",
		i, i, mark, i, benchText(i, 2048), mark, i)
	for _, a := range []struct {
		name, typ string
		size      int
	}{{"screenshot.png", "image/png", 100 << 10}, {"loan.apk", "application/vnd.android.package-archive", 45 << 10}} {
		data := make([]byte, a.size)
		for j := range data {
			data[j] = byte(rand.IntN(256))
		}
		enc := base64.StdEncoding.EncodeToString(data)
		fmt.Fprintf(&b, "--B\r\nContent-Type: %s\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", a.typ, a.name)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	}
	b.WriteString("--B--\r\n")
	return b.Bytes()
}

// waitMarked waits until n indexed tips contain mark and returns when the last became searchable.
func (tr *tracker) waitMarked(ctx context.Context, mark string, n int) (time.Time, error) {
	for {
		tr.mu.Lock()
		var last time.Time
		count := 0
		for text, at := range tr.texts {
			if strings.Contains(text, mark) {
				count++
				if at.After(last) {
					last = at
				}
			}
		}
		tr.mu.Unlock()
		if count >= n {
			return last, nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("%d of %d messages searchable: %w", count, n, ctx.Err())
		case <-tr.changed:
		case <-time.After(100 * time.Millisecond):
		}
	}
}
