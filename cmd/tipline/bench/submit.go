package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// benchSubmit measures the web form's tips end to end: throughput in phase 1, latency at a
// fixed offered rate in phase 2.
func benchSubmit(ctx context.Context, b Config, dir string, tr *tracker, out io.Writer) error {
	p, stop, err := startBenchPipeline(ctx, b.pipelineConfig(dir), tr)
	if err != nil {
		return err
	}
	defer stop()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: b.Concurrency + 64}}
	broker := "embedded broker (kfake, fsync per batch)"
	if len(b.Kafka) > 0 {
		broker = "Apache Kafka at " + strings.Join(b.Kafka, ",")
	}
	fmt.Fprintf(out, "tipline bench: %s; %d-byte Chinese tips", broker, b.Size)
	if b.AttachKB > 0 {
		fmt.Fprintf(out, ", each with a %d KiB recording (multipart)", b.AttachKB)
	}
	fmt.Fprintln(out)
	body := tipBody(b.Size, b.AttachKB)

	// Warm up: the consumer groups join and the first batches settle.
	warm, err := submitN(ctx, client, p.Public, body, 50, 8, nil)
	if err != nil {
		return err
	}
	if _, err := tr.waitAll(withTimeout(ctx, time.Minute), warm.ids); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}

	// Phase 1: throughput, repeated; this machine's disk makes single runs vary by ±15%.
	var ingestRates, e2eRates []float64
	var acks []time.Duration
	var runP99 []string
	for range max(b.Runs, 1) {
		t0 := time.Now()
		res, err := submitN(ctx, client, p.Public, body, b.Tips, b.Concurrency, nil)
		if err != nil {
			return err
		}
		acked := time.Now()
		last, err := tr.waitAll(withTimeout(ctx, 5*time.Minute), res.ids)
		if err != nil {
			return err
		}
		ingestRates = append(ingestRates, float64(b.Tips)/acked.Sub(t0).Seconds())
		e2eRates = append(e2eRates, float64(b.Tips)/last.Sub(t0).Seconds())
		acks = append(acks, res.ack...)
		runP99 = append(runP99, pct(res.ack, 99))
	}

	// Phase 2: latency at a fixed offered rate.
	n := int(b.Rate * b.Duration.Seconds())
	lat, err := submitN(ctx, client, p.Public, body, n, b.RateClients, &b.Rate)
	if err != nil {
		return err
	}
	if _, err := tr.waitAll(withTimeout(ctx, 5*time.Minute), lat.ids); err != nil {
		return err
	}
	var e2e []time.Duration
	tr.mu.Lock()
	for i, id := range lat.ids {
		e2e = append(e2e, tr.indexed[id].Sub(lat.sent[i]))
	}
	tr.mu.Unlock()

	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "phase 1: %d runs of %d tips, %d submitters\t\n", len(e2eRates), b.Tips, b.Concurrency)
	fmt.Fprintf(w, "  ingest throughput (201 received), median\t%.0f tips/s\t(runs: %s)\n", median(ingestRates), joinFloats(ingestRates, "%.0f"))
	fmt.Fprintf(w, "  end-to-end throughput (searchable), median\t%.0f tips/s\t(runs: %s)\n", median(e2eRates), joinFloats(e2eRates, "%.0f"))
	fmt.Fprintf(w, "  submit→201 p50 / p99, all runs\t%s / %s\t(p99 by run: %s)\n", pct(acks, 50), pct(acks, 99), strings.Join(runP99, ", "))
	clients := "a request per tip"
	if b.RateClients > 0 {
		clients = fmt.Sprintf("%d clients", b.RateClients)
	}
	fmt.Fprintf(w, "phase 2: %.0f tips/s offered for %s (%d tips, %s)\t\n", b.Rate, b.Duration, n, clients)
	fmt.Fprintf(w, "  submit→201 p50 / p99\t%s / %s\n", pct(lat.ack, 50), pct(lat.ack, 99))
	fmt.Fprintf(w, "  submit→searchable p50 / p90 / p99 / max\t%s / %s / %s / %s\n", pct(e2e, 50), pct(e2e, 90), pct(e2e, 99), pct(e2e, 100))
	if err := w.Flush(); err != nil {
		return err
	}
	return stop()
}

type submitResult struct {
	ids  []string
	sent []time.Time     // when each request was sent, by index of ids
	ack  []time.Duration // submit→201 of each
}

// tipBody returns the request of the i-th tip: JSON, or multipart with a recording attached
// whose bytes differ from every other tip's (the archive would keep one copy of equal files).
func tipBody(size, attachKB int) func(i int) (contentType string, body []byte) {
	if attachKB == 0 {
		return func(i int) (string, []byte) {
			body, _ := json.Marshal(map[string]any{"text": benchText(i, size), "anonymous": true})
			return "application/json", body
		}
	}
	audio := make([]byte, attachKB<<10)
	copy(audio, "ID3\x03\x00\x00\x00\x00\x00\x0a")
	for j := 10; j+4 <= len(audio); j += 4 {
		copy(audio[j:], []byte{0xFF, 0xFB, 0x90, byte(j)})
	}
	return func(i int) (string, []byte) {
		buf := bytes.NewBuffer(make([]byte, 0, len(audio)+size+1024))
		mw := multipart.NewWriter(buf)
		meta, _ := json.Marshal(map[string]any{"text": benchText(i, size), "anonymous": true})
		w, _ := mw.CreateFormField("tip")
		w.Write(meta)
		w, _ = mw.CreateFormFile("files", fmt.Sprintf("录音%d.mp3", i))
		w.Write(audio[:len(audio)-16])
		fmt.Fprintf(w, "%016d", i)
		mw.Close()
		return mw.FormDataContentType(), buf.Bytes()
	}
}

// submitN submits n tips, either with a fixed number of workers (rate nil) or at a fixed rate.
func submitN(ctx context.Context, client *http.Client, base string, tipBody func(int) (string, []byte), n, workers int, rate *float64) (submitResult, error) {
	var mu sync.Mutex
	var res submitResult
	var firstErr error
	// one sends tip i; its latency counts from due (the scheduled time, when paced), so a
	// client held up by a slow answer does not hide the delay it causes (coordinated omission).
	one := func(i int, due time.Time) {
		contentType, body := tipBody(i)
		sent := time.Now()
		if due.IsZero() || due.After(sent) {
			due = sent
		}
		id, err := post(ctx, client, base, contentType, body)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return
		}
		res.ids = append(res.ids, id)
		res.sent = append(res.sent, due)
		res.ack = append(res.ack, time.Since(due))
	}
	var wg sync.WaitGroup
	switch {
	case rate == nil:
		jobs := make(chan int)
		for range workers {
			wg.Go(func() {
				for i := range jobs {
					one(i, time.Time{})
				}
			})
		}
		for i := range n {
			jobs <- i
		}
		close(jobs)
	case workers > 0:
		interval := time.Duration(float64(time.Second) / *rate)
		start := time.Now()
		for k := range workers {
			wg.Go(func() {
				for i := k; i < n; i += workers {
					due := start.Add(time.Duration(i) * interval)
					time.Sleep(time.Until(due))
					one(i, due)
				}
			})
		}
	default:
		interval := time.Duration(float64(time.Second) / *rate)
		start := time.Now()
		for i := range n {
			// Scheduled from the start, not from the previous send, so the offered rate holds.
			due := start.Add(time.Duration(i) * interval)
			time.Sleep(time.Until(due))
			wg.Go(func() { one(i, due) })
		}
	}
	wg.Wait()
	if firstErr != nil {
		return res, fmt.Errorf("submit: %w", firstErr)
	}
	return res, nil
}

func post(ctx context.Context, client *http.Client, base, contentType string, body []byte) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/tips", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		ID    string `json:"id"`
		Error string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	_, _ = io.Copy(io.Discard, resp.Body) // to the end, so the connection is reused
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, out.Error)
	}
	if out.ID == "" {
		return "", errors.New("201 without an id")
	}
	return out.ID, nil
}

var benchPhrases = []string{
	"网友约我裸聊，偷偷录屏，还让我装了一个木马，现在说要把不雅视频发给你的亲友。",
	"在一个714高炮平台借款三千，被扣了砍头息，逾期一天就要违约金。",
	"催收的人用呼死你打爆我的电话，还爆通讯录给我同事群发P图。",
	"一个职业打假的人来店里买了东西，要十倍赔偿，不给就给差评。",
	"某自媒体说要曝光我们，要公关费才肯有偿删帖。",
	"竞争对手雇水军控评、刷评，还在网上造谣。",
	"事情经过如下，时间地点人物都记得很清楚，请警察同志核查处理。",
}

// benchText is about size bytes of Chinese text, different for each i.
func benchText(i, size int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "第%d条线索：", i)
	for j := i; b.Len() < size; j++ {
		b.WriteString(benchPhrases[j%len(benchPhrases)])
	}
	return b.String()
}
