package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// EnsureTopics creates the topics that do not exist yet, with cfg's partition count and
// replication factor. Existing topics are left as they are.
func EnsureTopics(ctx context.Context, cfg Config, topics ...string) error {
	cfg = cfg.WithDefaults()
	client := &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Timeout: 15 * time.Second,
		Transport: &kafka.Transport{ClientID: cfg.ClientID}}
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{
			Topic: t, NumPartitions: cfg.Partitions, ReplicationFactor: cfg.ReplicationFactor,
		})
	}
	resp, err := client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("bus: create topics: %w: %w", ErrUnavailable, err)
	}
	for t, err := range resp.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("bus: create topic %s: %w", t, err)
		}
	}
	return nil
}

// Ping checks that a broker answers a metadata request, for readiness probes.
func Ping(ctx context.Context, cfg Config) error {
	var firstErr error
	for _, b := range cfg.Brokers {
		client := &kafka.Client{Addr: kafka.TCP(b), Timeout: 5 * time.Second}
		if _, err := client.Metadata(ctx, &kafka.MetadataRequest{Addr: kafka.TCP(b), Topics: []string{}}); err == nil {
			return nil
		} else if firstErr == nil {
			firstErr = err
		}
	}
	return fmt.Errorf("bus: ping: %w: %w", ErrUnavailable, firstErr)
}
