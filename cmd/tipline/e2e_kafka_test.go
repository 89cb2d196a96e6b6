//go:build integration

package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tipline/tipline/internal/bus"
)

// kafkaFlags points tipline at the real Apache Kafka broker that scripts/kafka.sh started, with
// topics and groups of its own so tests never see each other's tips. A broker that does not
// answer fails the test: under the integration tag nothing is skipped.
func kafkaFlags(t *testing.T) []string {
	t.Helper()
	brokers := os.Getenv("TIPLINE_TEST_KAFKA")
	if brokers == "" {
		brokers = "127.0.0.1:19092"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := bus.Ping(ctx, bus.Config{Brokers: strings.Split(brokers, ",")}); err != nil {
		t.Fatalf("real Kafka is not reachable at %s (start it with scripts/kafka.sh start): %v", brokers, err)
	}
	suffix := fmt.Sprintf("%s-%d", strings.ToLower(t.Name()), time.Now().UnixNano())
	return []string{"--kafka", brokers, "--partitions", "3",
		"--topic-raw", "tips.raw." + suffix, "--topic-classified", "tips.classified." + suffix,
		"--topic-dlq", "tips.dlq." + suffix, "--topic-ocr", "tips.ocr." + suffix, "--group-prefix", "tipline-" + suffix}
}

func TestEndToEndKafka(t *testing.T) { runEndToEnd(t, kafkaFlags(t)...) }

func TestRestartAfterSIGTERMKafka(t *testing.T) { runRestart(t, syscall.SIGTERM, kafkaFlags(t)...) }

func TestRestartAfterSIGKILLKafka(t *testing.T) { runRestart(t, syscall.SIGKILL, kafkaFlags(t)...) }
