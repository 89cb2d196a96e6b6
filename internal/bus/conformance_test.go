package bus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The conformance suite: every broker tipline runs on (the embedded one always, real Apache
// Kafka under the integration tag) must pass it.

var topicSeq atomic.Int64

func uniqueTopic(t *testing.T) string {
	return fmt.Sprintf("conf-%d-%d", time.Now().UnixNano(), topicSeq.Add(1))
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func runConformance(t *testing.T, cfg Config) {
	t.Run("delivers every message once it is acknowledged", func(t *testing.T) { testDelivery(t, cfg) })
	t.Run("redelivers uncommitted messages to the next member", func(t *testing.T) { testRedelivery(t, cfg) })
	t.Run("dead-letters rejected messages with reason and origin", func(t *testing.T) { testDeadLetter(t, cfg) })
	t.Run("dead-letters a message that keeps failing without blocking the rest", func(t *testing.T) { testPoison(t, cfg) })
	t.Run("keeps order per key", func(t *testing.T) { testOrder(t, cfg) })
	t.Run("RunEach works in parallel and commits only past finished messages", func(t *testing.T) { testRunEach(t, cfg) })
}

func testRunEach(t *testing.T, cfg Config) {
	topic, dlq, w := setup(t, cfg)
	const n, workers, stuck = 12, 4, 5
	msgs := make([]Message, n)
	for i := range msgs { // one key: one partition, in order
		msgs[i] = Message{Topic: topic, Key: []byte("k"), Value: []byte(fmt.Sprintf("v%d", i))}
	}
	if err := w.Write(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	group := "g-" + topic
	c, err := NewConsumer(ConsumerConfig{Config: cfg, Group: group, Topic: topic, Stage: "test", DLQ: dlq,
		Backoff: 10 * time.Millisecond, Grace: 50 * time.Millisecond}, NewWriter(cfg), quiet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var running, most, finished atomic.Int64
	done := make(chan error, 1)
	go func() {
		done <- c.RunEach(ctx, workers, func(ctx context.Context, batch []Message) ([]Reject, error) {
			if len(batch) != 1 {
				t.Errorf("RunEach handed over %d messages at once", len(batch))
			}
			now := running.Add(1)
			defer running.Add(-1)
			for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
			}
			if string(batch[0].Value) == fmt.Sprintf("v%d", stuck) {
				<-ctx.Done() // this one never finishes
				return nil, fmt.Errorf("interrupted: %w", ErrUnavailable)
			}
			time.Sleep(100 * time.Millisecond)
			if finished.Add(1) == n-1 {
				cancel()
			}
			return nil, nil
		})
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if finished.Load() != n-1 || most.Load() != workers {
		t.Errorf("%d finished, at most %d at once; want %d and %d", finished.Load(), most.Load(), n-1, workers)
	}
	// The next member starts at the unfinished message: the ones before it were committed,
	// the ones after it (finished, but behind it) come again.
	got := consume(t, cfg, group, topic, dlq, n-stuck, nil)
	if string(got[0].Value) != fmt.Sprintf("v%d", stuck) || len(got) != n-stuck {
		var vs []string
		for _, m := range got {
			vs = append(vs, string(m.Value))
		}
		t.Errorf("redelivered %v, want v%d to v%d", vs, stuck, n-1)
	}
}

func setup(t *testing.T, cfg Config) (topic, dlq string, w *Writer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topic, dlq = uniqueTopic(t), uniqueTopic(t)
	if err := EnsureTopics(ctx, cfg, topic, dlq); err != nil {
		t.Fatal(err)
	}
	w = NewWriter(cfg)
	t.Cleanup(func() { w.Close() })
	return topic, dlq, w
}

// consume runs a consumer until want messages were handled by h (which may be nil) or the
// timeout passes, and returns the handled messages in the order the handler saw them.
func consume(t *testing.T, cfg Config, group, topic, dlq string, want int, h Handler) []Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := NewConsumer(ConsumerConfig{Config: cfg, Group: group, Topic: topic, Stage: "test", DLQ: dlq,
		Backoff: 10 * time.Millisecond}, NewWriter(cfg), quiet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []Message
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, func(ctx context.Context, msgs []Message) ([]Reject, error) {
			var rejects []Reject
			if h != nil {
				var err error
				if rejects, err = h(ctx, msgs); err != nil {
					return nil, err
				}
			}
			mu.Lock()
			defer mu.Unlock()
			got = append(got, msgs...)
			if len(got) >= want {
				cancel()
			}
			return rejects, nil
		})
	}()
	if err := <-done; err != nil {
		t.Fatalf("consumer: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) < want {
		t.Fatalf("consumed %d messages, want %d", len(got), want)
	}
	return got
}

func write(t *testing.T, w *Writer, topic string, keys ...string) {
	t.Helper()
	msgs := make([]Message, len(keys))
	for i, k := range keys {
		msgs[i] = Message{Topic: topic, Key: []byte(k), Value: []byte("value-" + k)}
	}
	if err := w.Write(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

func keys(n int, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

func testDelivery(t *testing.T, cfg Config) {
	topic, dlq, w := setup(t, cfg)
	want := keys(200, "k")
	write(t, w, topic, want...)
	got := consume(t, cfg, "g-"+topic, topic, dlq, len(want), nil)
	seen := map[string]int{}
	for _, m := range got {
		seen[string(m.Key)]++
		if string(m.Value) != "value-"+string(m.Key) {
			t.Errorf("message %s has value %q", m.Key, m.Value)
		}
	}
	for _, k := range want {
		if seen[k] != 1 {
			t.Errorf("key %s delivered %d times, want 1", k, seen[k])
		}
	}
	// The group committed: a new member of it has nothing to read, while the topic still has
	// messages for a new group.
	write(t, w, topic, "after")
	again := consume(t, cfg, "g-"+topic, topic, dlq, 1, nil)
	if string(again[0].Key) != "after" {
		t.Errorf("after commit the group read %q first, want the new message", again[0].Key)
	}
}

func testRedelivery(t *testing.T, cfg Config) {
	topic, dlq, w := setup(t, cfg)
	want := keys(20, "r")
	write(t, w, topic, want...)
	group := "g-" + topic

	// The first member sees the messages but stops before its side effect completes: it must
	// not commit, so the next member gets the same messages.
	ctx, cancel := context.WithCancel(context.Background())
	c, err := NewConsumer(ConsumerConfig{Config: cfg, Group: group, Topic: topic, Stage: "test", DLQ: dlq, Grace: 50 * time.Millisecond}, NewWriter(cfg), quiet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var seen atomic.Int64
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, func(ctx context.Context, msgs []Message) ([]Reject, error) {
			seen.Add(int64(len(msgs)))
			cancel()
			<-ctx.Done() // the side effect never finishes
			return nil, fmt.Errorf("side effect interrupted: %w", ErrUnavailable)
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("first member did not stop")
	}
	if seen.Load() == 0 {
		t.Fatal("first member saw nothing")
	}
	got := consume(t, cfg, group, topic, dlq, len(want), nil)
	if string(got[0].Key) != "r0" && !containsKey(got, "r0") {
		t.Errorf("uncommitted message r0 was not redelivered")
	}
	if len(uniqueKeys(got)) != len(want) {
		t.Errorf("redelivered %d distinct messages, want %d", len(uniqueKeys(got)), len(want))
	}
}

func testDeadLetter(t *testing.T, cfg Config) {
	topic, dlq, w := setup(t, cfg)
	write(t, w, topic, "good-1", "bad", "good-2")
	var observed atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := NewConsumer(ConsumerConfig{Config: cfg, Group: "g-" + topic, Topic: topic, Stage: "test", DLQ: dlq},
		NewWriter(cfg), quiet(), func(stage, reason string) {
			if stage == "test" && reason == ReasonDecode {
				observed.Add(1)
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	var handled atomic.Int64
	go func() {
		_ = c.Run(ctx, func(ctx context.Context, msgs []Message) ([]Reject, error) {
			var rejects []Reject
			for i, m := range msgs {
				if string(m.Key) == "bad" {
					rejects = append(rejects, Reject{Index: i, Reason: ReasonDecode, Err: errors.New("not a tip")})
				}
			}
			if handled.Add(int64(len(msgs))) >= 3 {
				cancel()
			}
			return rejects, nil
		})
	}()
	dead := consume(t, cfg, "dlq-"+dlq, dlq, uniqueTopic(t), 1, nil)
	m := dead[0]
	if string(m.Key) != "bad" || string(m.Value) != "value-bad" {
		t.Errorf("dead letter is %q=%q, want the original message", m.Key, m.Value)
	}
	for k, v := range map[string]string{HeaderReason: ReasonDecode, HeaderError: "not a tip", HeaderStage: "test", HeaderTopic: topic} {
		if m.Headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, m.Headers[k], v)
		}
	}
	for _, k := range []string{HeaderPartition, HeaderOffset} {
		if _, err := strconv.ParseInt(m.Headers[k], 10, 64); err != nil {
			t.Errorf("header %s = %q: %v", k, m.Headers[k], err)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, m.Headers[HeaderTime]); err != nil {
		t.Errorf("time header %q: %v", m.Headers[HeaderTime], err)
	}
	<-ctx.Done()
	if observed.Load() != 1 {
		t.Errorf("observer saw %d dead letters, want 1", observed.Load())
	}
}

func testPoison(t *testing.T, cfg Config) {
	topic, dlq, w := setup(t, cfg)
	write(t, w, topic, keys(10, "p")...)
	var attempts atomic.Int64
	got := consume(t, cfg, "g-"+topic, topic, dlq, 9, func(_ context.Context, msgs []Message) ([]Reject, error) {
		for _, m := range msgs {
			if string(m.Key) == "p3" {
				attempts.Add(1)
				return nil, errors.New("index refused the document")
			}
		}
		return nil, nil
	})
	if containsKey(got, "p3") {
		t.Error("the failing message was handled")
	}
	if len(uniqueKeys(got)) != 9 {
		t.Errorf("handled %d distinct messages, want the 9 good ones", len(uniqueKeys(got)))
	}
	if attempts.Load() < 3 {
		t.Errorf("failing message tried %d times, want at least the 3 retries", attempts.Load())
	}
	dead := consume(t, cfg, "dlq-"+dlq, dlq, uniqueTopic(t), 1, nil)
	if string(dead[0].Key) != "p3" || dead[0].Headers[HeaderReason] != ReasonProcess ||
		dead[0].Headers[HeaderError] != "index refused the document" {
		t.Errorf("dead letter %q with headers %v", dead[0].Key, dead[0].Headers)
	}
}

func testOrder(t *testing.T, cfg Config) {
	topic, dlq, w := setup(t, cfg)
	const n = 300
	// Three keys interleaved, written in several calls so they span batches.
	for i := 0; i < n; i += 30 {
		var ks []string
		for j := i; j < i+30; j++ {
			ks = append(ks, fmt.Sprintf("key%d", j%3))
		}
		msgs := make([]Message, len(ks))
		for j, k := range ks {
			msgs[j] = Message{Topic: topic, Key: []byte(k), Value: []byte(strconv.Itoa(i + j))}
		}
		if err := w.Write(context.Background(), msgs...); err != nil {
			t.Fatal(err)
		}
	}
	got := consume(t, cfg, "g-"+topic, topic, dlq, n, nil)
	last := map[string]int{}
	for _, m := range got {
		v, _ := strconv.Atoi(string(m.Value))
		if prev, ok := last[string(m.Key)]; ok && v <= prev {
			t.Fatalf("key %s: value %d after %d", m.Key, v, prev)
		}
		last[string(m.Key)] = v
	}
}

func containsKey(ms []Message, k string) bool {
	for _, m := range ms {
		if string(m.Key) == k {
			return true
		}
	}
	return false
}

func uniqueKeys(ms []Message) map[string]bool {
	out := map[string]bool{}
	for _, m := range ms {
		out[string(m.Key)] = true
	}
	return out
}
