package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Writer publishes messages and waits for all in-sync replicas to acknowledge them.
type Writer struct {
	w *kafka.Writer
}

// NewWriter returns a writer for any topic (each Message names its own).
func NewWriter(cfg Config) *Writer {
	cfg = cfg.WithDefaults()
	return &Writer{w: &kafka.Writer{
		Addr:         kafka.TCP(cfg.Brokers...),
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: cfg.BatchTimeout,
		// Murmur2 is the Java client's partitioner: tools in other languages put a tip's key on
		// the same partition, which keeps per-tip order across producers.
		Balancer:     &kafka.Murmur2Balancer{},
		MaxAttempts:  5,
		WriteTimeout: 10 * time.Second,
		ReadTimeout:  10 * time.Second,
		Transport:    &kafka.Transport{ClientID: cfg.ClientID},
		// Topics are created explicitly with their partition count; auto-creation would hide a
		// misspelt topic name behind a one-partition topic.
		AllowAutoTopicCreation: false,
	}}
}

// Write publishes msgs and returns once all are acknowledged by every in-sync replica. Any
// failure is returned; a failure of the cluster rather than of a message wraps ErrUnavailable.
func (w *Writer) Write(ctx context.Context, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	km := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		km[i] = kafka.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Headers: toHeaders(m.Headers)}
	}
	err := w.w.WriteMessages(ctx, km...)
	if err == nil {
		return nil
	}
	var tooLarge kafka.MessageTooLargeError
	if errors.As(err, &tooLarge) || errors.Is(err, kafka.MessageSizeTooLarge) {
		return fmt.Errorf("bus: write: %w", err)
	}
	return fmt.Errorf("bus: write %d messages: %w: %w", len(msgs), ErrUnavailable, err)
}

// Close flushes and closes the writer.
func (w *Writer) Close() error {
	if err := w.w.Close(); err != nil {
		return fmt.Errorf("bus: close writer: %w", err)
	}
	return nil
}

func toHeaders(h map[string]string) []kafka.Header {
	if len(h) == 0 {
		return nil
	}
	out := make([]kafka.Header, 0, len(h))
	for k, v := range h {
		out = append(out, kafka.Header{Key: k, Value: []byte(v)})
	}
	return out
}

func fromHeaders(hs []kafka.Header) map[string]string {
	if len(hs) == 0 {
		return nil
	}
	out := make(map[string]string, len(hs))
	for _, h := range hs {
		out[h.Key] = string(h.Value)
	}
	return out
}
