package bus

import (
	"context"
	"testing"
	"time"
)

func TestEmbeddedConformance(t *testing.T) {
	e, err := StartEmbedded("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	runConformance(t, Config{Brokers: e.Brokers(), Partitions: 3})
}

func TestEmbeddedBrokerKeepsMessagesAndOffsetsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	e, err := StartEmbedded(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Brokers: e.Brokers(), Partitions: 2}
	topic, dlq, w := setup(t, cfg)
	write(t, w, topic, keys(10, "a")...)
	consume(t, cfg, "g", topic, dlq, 10, nil) // commits all ten
	write(t, w, topic, keys(5, "b")...)
	w.Close()
	e.Close()

	e, err = StartEmbedded(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	cfg.Brokers = e.Brokers()
	got := consume(t, cfg, "g", topic, dlq, 5, nil)
	ks := uniqueKeys(got)
	for _, k := range keys(5, "b") {
		if !ks[k] {
			t.Errorf("message %s acknowledged before the restart was not delivered after it", k)
		}
	}
	for _, k := range keys(10, "a") {
		if ks[k] {
			t.Errorf("message %s committed before the restart was delivered again", k)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Ping(ctx, cfg); err != nil {
		t.Errorf("ping after restart: %v", err)
	}
}

func TestLag(t *testing.T) {
	e, err := StartEmbedded("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	cfg := Config{Brokers: e.Brokers(), Partitions: 2}
	topic, dlq, w := setup(t, cfg)
	write(t, w, topic, keys(7, "l")...)
	ctx := context.Background()
	if lag, err := Lag(ctx, cfg, "lag-group", topic); err != nil || lag != 7 {
		t.Fatalf("lag before consuming: %d, %v", lag, err)
	}
	consume(t, cfg, "lag-group", topic, dlq, 7, nil)
	if lag, err := Lag(ctx, cfg, "lag-group", topic); err != nil || lag != 0 {
		t.Fatalf("lag after consuming: %d, %v", lag, err)
	}
}
