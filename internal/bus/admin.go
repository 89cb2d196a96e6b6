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

// Lag is how many messages of topic the consumer group has not committed yet, summed over
// partitions (a partition the group never committed counts from its first offset).
func Lag(ctx context.Context, cfg Config, group, topic string) (int64, error) {
	parts, err := PartitionLag(ctx, cfg, group, topic)
	var lag int64
	for _, l := range parts {
		lag += l
	}
	return lag, err
}

// PartitionLag is Lag for each partition of topic.
func PartitionLag(ctx context.Context, cfg Config, group, topic string) (map[int]int64, error) {
	offsets, err := PartitionOffsets(ctx, cfg, topic)
	if err != nil {
		return nil, fmt.Errorf("bus: lag: %w", err)
	}
	lag := map[int]int64{}
	if len(offsets) == 0 {
		return lag, nil
	}
	parts := make([]int, 0, len(offsets))
	for p := range offsets {
		parts = append(parts, p)
	}
	client := &kafka.Client{Addr: kafka.TCP(cfg.WithDefaults().Brokers...), Timeout: 10 * time.Second}
	committed, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		return nil, fmt.Errorf("bus: lag: %w", err)
	}
	done := map[int]int64{}
	for _, p := range committed.Topics[topic] {
		done[p.Partition] = p.CommittedOffset
	}
	for p, o := range offsets {
		c, ok := done[p]
		if !ok || c < o[0] { // never committed (-1), or behind what the topic still keeps
			c = o[0]
		}
		lag[p] = max(o[1]-c, 0)
	}
	return lag, nil
}

// PartitionOffsets is where each partition of topic starts and ends: its first offset still
// kept and the offset the next message will get.
func PartitionOffsets(ctx context.Context, cfg Config, topic string) (map[int][2]int64, error) {
	cfg = cfg.WithDefaults()
	client := &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Timeout: 10 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("bus: offsets: %w", err)
	}
	var reqs []kafka.OffsetRequest
	for _, t := range meta.Topics {
		if t.Error != nil {
			return nil, fmt.Errorf("bus: offsets of %s: %w", topic, t.Error)
		}
		for _, p := range t.Partitions {
			reqs = append(reqs, kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
		}
	}
	out := map[int][2]int64{}
	if len(reqs) == 0 {
		return out, nil
	}
	res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("bus: offsets: %w", err)
	}
	// Each partition may come back once per request, each answer filling its own field.
	for _, p := range res.Topics[topic] {
		o := out[p.Partition]
		if p.FirstOffset >= 0 {
			o[0] = p.FirstOffset
		}
		if p.LastOffset >= 0 {
			o[1] = p.LastOffset
		}
		out[p.Partition] = o
	}
	return out, nil
}
