//go:build integration

package bus

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestKafkaConformance runs the suite against real Apache Kafka (scripts/kafka.sh start). Under
// the integration tag a missing broker fails the test: it never skips.
func TestKafkaConformance(t *testing.T) {
	brokers := os.Getenv("TIPLINE_TEST_KAFKA")
	if brokers == "" {
		brokers = "127.0.0.1:19092"
	}
	cfg := Config{Brokers: strings.Split(brokers, ","), Partitions: 3}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Ping(ctx, cfg); err != nil {
		t.Fatalf("real Kafka is not reachable at %s (start it with scripts/kafka.sh start): %v", brokers, err)
	}
	runConformance(t, cfg)
}
