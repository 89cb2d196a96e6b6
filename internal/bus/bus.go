// Package bus carries tips between stages over Kafka. It is the only package that imports
// segmentio/kafka-go, so a client upgrade or swap touches nothing else.
//
// The contract: a Writer call returns only after every replica in sync acknowledged the
// messages, or with an error; a Consumer commits an offset only after its handler finished the
// side effect for that message (or dead-lettered it). An ungraceful stop may deliver a message
// twice, never lose one, so every handler is idempotent by tip id.
package bus

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Message is one Kafka record as stages see it.
type Message struct {
	Topic     string
	Partition int
	Offset    int64
	Key       []byte
	Value     []byte
	Headers   map[string]string
	Time      time.Time
}

// Topics names the pipeline's topics.
type Topics struct {
	OCR        string // ingest → OCR → raw: scans and tips with images
	Raw        string // ingest → classify
	Classified string // classify → index
	DLQ        string // any stage → operators
}

// DefaultTopics are the topic names DESIGN.md gives.
func DefaultTopics() Topics {
	return Topics{OCR: "tips.ocr", Raw: "tips.raw", Classified: "tips.classified", DLQ: "tips.dlq"}
}

// All lists the topics in creation order.
func (t Topics) All() []string { return []string{t.OCR, t.Raw, t.Classified, t.DLQ} }

// Config is what every bus client needs.
type Config struct {
	// Brokers are the bootstrap addresses, host:port.
	Brokers []string
	// Partitions for topics this process creates (default 6). Partitions bound how many
	// instances of one stage can work in parallel.
	Partitions int
	// ReplicationFactor for created topics (default 1; use 3 on a real cluster).
	ReplicationFactor int
	// BatchTimeout is how long the writer waits to fill a batch (default 2ms). kafka-go's
	// default of 1s would put a second on every acknowledgement.
	BatchTimeout time.Duration
	// ClientID names this process to the brokers (default "tipline").
	ClientID string
}

// WithDefaults fills zero fields with their documented defaults.
func (c Config) WithDefaults() Config {
	c.Partitions = cmp.Or(c.Partitions, 6)
	c.ReplicationFactor = cmp.Or(c.ReplicationFactor, 1)
	c.BatchTimeout = cmp.Or(c.BatchTimeout, 2*time.Millisecond)
	c.ClientID = cmp.Or(c.ClientID, "tipline")
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("bus: no brokers")
	}
	for _, b := range c.Brokers {
		if !strings.Contains(b, ":") {
			return fmt.Errorf("bus: broker %q is not host:port", b)
		}
	}
	if c.Partitions < 0 || c.ReplicationFactor < 0 || c.BatchTimeout < 0 {
		return errors.New("bus: partitions, replication factor and batch timeout must not be negative")
	}
	return nil
}

// ErrUnavailable marks a failure of the bus or of what a stage writes to (broker down, no
// leader, index on a full disk), as opposed to a problem with one message. Consumers retry
// these until they clear and never dead-letter for them: a fault of the system must not send
// every tip behind it to the dead-letter topic.
var ErrUnavailable = errors.New("bus: unavailable")

// Dead-letter headers: why a message was dead-lettered and where it came from.
const (
	HeaderReason    = "tipline-dlq-reason" // a closed-list code, see Reject
	HeaderError     = "tipline-dlq-error"  // the error text
	HeaderStage     = "tipline-dlq-stage"
	HeaderTopic     = "tipline-dlq-topic"
	HeaderPartition = "tipline-dlq-partition"
	HeaderOffset    = "tipline-dlq-offset"
	HeaderTime      = "tipline-dlq-time"
)

// Dead-letter reasons: label values for metrics, so the list is closed.
const (
	ReasonDecode  = "decode"  // the payload is not a tip event
	ReasonInvalid = "invalid" // a tip event that breaks an invariant
	ReasonProcess = "process" // the stage failed on it after retries
)

// Reasons lists every dead-letter reason.
func Reasons() []string { return []string{ReasonDecode, ReasonInvalid, ReasonProcess} }
