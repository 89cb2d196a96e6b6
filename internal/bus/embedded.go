package bus

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is a single-node Kafka-protocol broker running inside this process (franz-go's kfake),
// for the all-in-one mode and for fast tests. With a data folder it writes every batch to disk
// with fsync before acknowledging, so a restart, or a crash, loses nothing acknowledged.
type Embedded struct {
	cluster *kfake.Cluster
}

// StartEmbedded starts the broker on a free port of 127.0.0.1. dir is its data folder; an empty
// dir keeps everything in memory (tests only).
func StartEmbedded(dir string) (*Embedded, error) {
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.ClusterID("tipline-embedded")}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("bus: embedded broker: %w", err)
		}
		opts = append(opts, kfake.DataDir(dir), kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("bus: embedded broker: %w", err)
	}
	return &Embedded{cluster: c}, nil
}

// Brokers returns the broker's address.
func (e *Embedded) Brokers() []string { return e.cluster.ListenAddrs() }

// Close stops the broker after flushing its state to disk.
func (e *Embedded) Close() { e.cluster.Close() }

// LogStart tells the operator what they are running on and how to change it.
func (e *Embedded) LogStart(log *slog.Logger, dir string) {
	log.Warn("using the embedded single-node Kafka-protocol broker (franz-go kfake): fine for one machine, "+
		"no replication; to use a Kafka cluster set --kafka host:port[,host:port] (or TIPLINE_KAFKA)",
		"addr", e.Brokers()[0], "data", dir)
}
