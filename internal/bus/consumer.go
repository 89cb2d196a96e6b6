package bus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// Reject names a message of a batch that the handler will never be able to process, with a
// closed-list reason (ReasonDecode, ReasonInvalid, ...) and the error. Rejected messages go to
// the dead-letter topic at once; retrying them cannot help.
type Reject struct {
	Index  int // into the batch handed to the handler
	Reason string
	Err    error
}

// RejectUnreadable is the reject of message i, which could not be taken as what the stage
// reads: ReasonDecode when err is (or wraps) malformed, the stage's sentinel for bytes that do
// not decode, ReasonInvalid otherwise.
func RejectUnreadable(i int, err, malformed error) Reject {
	reason := ReasonInvalid
	if errors.Is(err, malformed) {
		reason = ReasonDecode
	}
	return Reject{Index: i, Reason: reason, Err: err}
}

// Handler performs a stage's side effect for a batch of messages. It returns the messages it
// rejects, and an error when the batch as a whole failed and should be retried. An error that
// wraps ErrUnavailable is retried until it clears; any other error is retried a few times, then
// the batch is retried message by message and each message that still fails is dead-lettered.
type Handler func(ctx context.Context, msgs []Message) ([]Reject, error)

// ConsumerConfig configures one consumer-group member.
type ConsumerConfig struct {
	Config
	Group string // consumer group: instances with the same group share the topic's partitions
	Topic string
	Stage string // stage name for dead-letter headers and metrics, e.g. "classify"
	DLQ   string // dead-letter topic

	MaxBatch int           // most messages per handler call (default 256)
	Linger   time.Duration // how long to wait to fill a batch once one message is in (default 5ms)
	Retries  int           // attempts for a failing batch before going message by message (default 3)
	Backoff  time.Duration // first retry delay, doubled up to 10s (default 100ms)
	// Grace bounds how long in-flight work may take to settle after ctx is cancelled
	// (default 30s).
	Grace time.Duration
}

func (c ConsumerConfig) withDefaults() ConsumerConfig {
	c.Config = c.Config.WithDefaults()
	c.MaxBatch = cmp.Or(c.MaxBatch, 256)
	c.Linger = cmp.Or(c.Linger, 5*time.Millisecond)
	c.Retries = cmp.Or(c.Retries, 3)
	c.Backoff = cmp.Or(c.Backoff, 100*time.Millisecond)
	c.Grace = cmp.Or(c.Grace, 30*time.Second)
	return c
}

// Validate reports a configuration that cannot work.
func (c ConsumerConfig) Validate() error {
	if err := c.Config.Validate(); err != nil {
		return err
	}
	if c.Group == "" || c.Topic == "" || c.Stage == "" || c.DLQ == "" {
		return errors.New("bus: consumer needs group, topic, stage and dead-letter topic")
	}
	return nil
}

// DeadLetterObserver is told about every dead-lettered message (for metrics).
type DeadLetterObserver func(stage, reason string)

// Consumer reads a topic as a member of a consumer group and hands batches to a Handler.
type Consumer struct {
	cfg    ConsumerConfig
	reader *kafka.Reader
	dlq    *Writer
	log    *slog.Logger
	onDead DeadLetterObserver
}

// NewConsumer joins cfg.Group on cfg.Topic. Dead letters are written with dlq.
func NewConsumer(cfg ConsumerConfig, dlq *Writer, log *slog.Logger, onDead DeadLetterObserver) (*Consumer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if onDead == nil {
		onDead = func(string, string) {}
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:  cfg.Brokers,
		GroupID:  cfg.Group,
		Topic:    cfg.Topic,
		MinBytes: 1,
		MaxBytes: 16 << 20,
		MaxWait:  250 * time.Millisecond,
		// Zero means commits are synchronous: CommitMessages returns after the broker stored them.
		CommitInterval: 0,
		// A new group starts at the oldest message so that nothing published before the stage
		// first ran is skipped.
		StartOffset:           kafka.FirstOffset,
		WatchPartitionChanges: true,
		JoinGroupBackoff:      500 * time.Millisecond,
		HeartbeatInterval:     2 * time.Second,
		SessionTimeout:        10 * time.Second,
		RebalanceTimeout:      10 * time.Second,
		ReadBackoffMin:        50 * time.Millisecond,
		ReadBackoffMax:        500 * time.Millisecond,
		Dialer:                &kafka.Dialer{ClientID: cfg.ClientID, Timeout: 10 * time.Second, DualStack: true},
	})
	return &Consumer{cfg: cfg, reader: r, dlq: dlq, log: log.With("stage", cfg.Stage, "topic", cfg.Topic), onDead: onDead}, nil
}

// Run consumes until ctx is cancelled. The batch in hand when that happens is finished (within
// cfg.Grace) and committed before Run returns nil.
func (c *Consumer) Run(ctx context.Context, h Handler) error {
	defer c.reader.Close()
	for {
		batch, err := c.fetchBatch(ctx)
		if len(batch) == 0 {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("bus: %s: fetch: %w", c.cfg.Stage, err)
		}
		// In-flight work settles even though ctx is done; settle bounds it.
		settle, cancel := c.settleContext(ctx)
		err = c.process(settle, ctx, batch, h)
		if err == nil {
			err = c.commit(settle, batch)
		}
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				c.log.Info("stopping with uncommitted messages; they will be redelivered", "messages", len(batch))
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// RunEach is Run for stages whose work per message is slow (OCR takes seconds a page): up to
// workers messages are handled at once, each alone, and a worker that finishes takes the next
// message at once instead of waiting for the slowest of its batch. A partition's offset is
// committed only past messages that are all finished, so a message still in hand when the
// stage stops (or crashes) is redelivered, with the finished ones after it. Retries and dead
// letters are as in Run, message by message.
func (c *Consumer) RunEach(ctx context.Context, workers int, h Handler) error {
	defer c.reader.Close()
	settle, cancel := c.settleContext(ctx)
	defer cancel()
	slots := make(chan struct{}, max(workers, 1))
	var order commitOrder
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		m, err := c.reader.FetchMessage(ctx)
		if err != nil {
			<-slots
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("bus: %s: fetch: %w", c.cfg.Stage, err)
		}
		msg := fromKafka(m)
		e := order.add(msg)
		wg.Go(func() {
			defer func() { <-slots }()
			if err := c.process(settle, ctx, []Message{msg}, h); err != nil {
				c.log.Info("stopping with a message unfinished; it will be redelivered", "partition", msg.Partition, "offset", msg.Offset)
				return
			}
			order.finish(e, func(last Message) { _ = c.commit(settle, []Message{last}) })
		})
	}
}

// commitOrder tracks the messages in hand per partition, in the order fetched, so that
// offsets are committed only past finished messages, and never backwards.
type commitOrder struct {
	mu        sync.Mutex
	parts     map[int][]*inHand
	committed map[int]int64 // highest offset committed per partition
}

type inHand struct {
	msg  Message
	done bool
}

func (o *commitOrder) add(m Message) *inHand {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.parts == nil {
		o.parts, o.committed = map[int][]*inHand{}, map[int]int64{}
	}
	e := &inHand{msg: m}
	o.parts[m.Partition] = append(o.parts[m.Partition], e)
	return e
}

// finish marks e done and, when that completes a prefix of its partition, calls commit with
// the prefix's last message. commit runs under the lock, so commits are made in order.
func (o *commitOrder) finish(e *inHand, commit func(last Message)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e.done = true
	q := o.parts[e.msg.Partition]
	n := 0
	for n < len(q) && q[n].done {
		n++
	}
	if n == 0 {
		return
	}
	o.parts[e.msg.Partition] = q[n:]
	// After a rebalance a partition can come back from an earlier offset while later messages
	// are still in hand; committing those earlier offsets would move the group backwards.
	last := q[n-1].msg
	if prev, ok := o.committed[last.Partition]; ok && last.Offset <= prev {
		return
	}
	o.committed[last.Partition] = last.Offset
	commit(last)
}

func (c *Consumer) settleContext(ctx context.Context) (context.Context, context.CancelFunc) {
	settle, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(c.cfg.Grace, cancel) })
	return settle, func() { stop(); cancel() }
}

func (c *Consumer) fetchBatch(ctx context.Context) ([]Message, error) {
	m, err := c.reader.FetchMessage(ctx)
	if err != nil {
		return nil, err
	}
	batch := []Message{fromKafka(m)}
	linger, cancel := context.WithTimeout(ctx, c.cfg.Linger)
	defer cancel()
	for len(batch) < c.cfg.MaxBatch {
		m, err := c.reader.FetchMessage(linger)
		if err != nil {
			break // linger over, or ctx done: the message stays in the reader for next time
		}
		batch = append(batch, fromKafka(m))
	}
	return batch, nil
}

// process runs h until the batch is done. settle carries the work; stop says when to give up
// retries that wait for the cluster.
func (c *Consumer) process(settle, stop context.Context, batch []Message, h Handler) error {
	backoff := c.cfg.Backoff
	for attempt := 1; ; attempt++ {
		rejects, err := h(settle, batch)
		if err == nil {
			return c.deadLetter(settle, stop, batch, rejects)
		}
		if !errors.Is(err, ErrUnavailable) && attempt >= c.cfg.Retries {
			if len(batch) == 1 {
				return c.deadLetter(settle, stop, batch, []Reject{{Index: 0, Reason: ReasonProcess, Err: err}})
			}
			c.log.Warn("batch keeps failing; retrying message by message", "messages", len(batch), "err", err)
			for i := range batch {
				if err := c.process(settle, stop, batch[i:i+1], h); err != nil {
					return err
				}
			}
			return nil
		}
		c.log.Warn("batch failed; retrying", "attempt", attempt, "messages", len(batch), "backoff", backoff, "err", err)
		if !sleep(stop, backoff) {
			return fmt.Errorf("bus: %s: gave up at shutdown: %w", c.cfg.Stage, err)
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// deadLetter writes the rejected messages to the dead-letter topic, retrying until it succeeds
// or the consumer stops: a message is committed only once it is dead-lettered.
func (c *Consumer) deadLetter(settle, stop context.Context, batch []Message, rejects []Reject) error {
	if len(rejects) == 0 {
		return nil
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	out := make([]Message, 0, len(rejects))
	for _, r := range rejects {
		if r.Index < 0 || r.Index >= len(batch) {
			return fmt.Errorf("bus: %s: handler rejected message %d of a batch of %d", c.cfg.Stage, r.Index, len(batch))
		}
		m := batch[r.Index]
		errText := ""
		if r.Err != nil {
			errText = r.Err.Error()
		}
		out = append(out, Message{Topic: c.cfg.DLQ, Key: m.Key, Value: m.Value, Headers: map[string]string{
			HeaderReason:    r.Reason,
			HeaderError:     errText,
			HeaderStage:     c.cfg.Stage,
			HeaderTopic:     m.Topic,
			HeaderPartition: strconv.Itoa(m.Partition),
			HeaderOffset:    strconv.FormatInt(m.Offset, 10),
			HeaderTime:      now,
		}})
	}
	backoff := c.cfg.Backoff
	for {
		err := c.dlq.Write(settle, out...)
		if err == nil {
			break
		}
		c.log.Error("dead-letter write failed; retrying", "messages", len(out), "err", err)
		if !sleep(stop, backoff) {
			return fmt.Errorf("bus: %s: dead-letter: %w", c.cfg.Stage, err)
		}
		backoff = min(backoff*2, 10*time.Second)
	}
	for _, r := range rejects {
		// Logged without the payload: it may hold a tip's text.
		m := batch[r.Index]
		c.log.Warn("dead-lettered", "reason", r.Reason, "partition", m.Partition, "offset", m.Offset, "key", string(m.Key), "err", r.Err)
		c.onDead(c.cfg.Stage, r.Reason)
	}
	return nil
}

func (c *Consumer) commit(ctx context.Context, batch []Message) error {
	km := make([]kafka.Message, len(batch))
	for i, m := range batch {
		km[i] = kafka.Message{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}
	}
	if err := c.reader.CommitMessages(ctx, km...); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// After a rebalance the partition may belong to another member, which will redeliver
		// these messages; handlers are idempotent, so this costs time, not correctness.
		c.log.Warn("commit failed; messages will be redelivered", "messages", len(batch), "err", err)
	}
	return nil
}

func fromKafka(m kafka.Message) Message {
	return Message{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: m.Value,
		Headers: fromHeaders(m.Headers), Time: m.Time}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
