package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tipline/tipline/internal/bus"
)

// showTopics prints, for each topic and partition, the messages it holds and how many of them
// the stage that reads it has not committed yet.
func showTopics(ctx context.Context, out io.Writer, cfg bus.Config, topics bus.Topics, prefix string) error {
	readers := map[string]string{topics.OCR: prefix + "-ocr", topics.Raw: prefix + "-classify", topics.Classified: prefix + "-index"}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "topic\tpartition\tmessages\tread by\tlag\t")
	for _, topic := range topics.All() {
		offsets, err := bus.PartitionOffsets(ctx, cfg, topic)
		if err != nil {
			return err
		}
		group := readers[topic]
		var lags map[int]int64
		if group != "" {
			if lags, err = bus.PartitionLag(ctx, cfg, group, topic); err != nil {
				return err
			}
		}
		parts := make([]int, 0, len(offsets))
		for p := range offsets {
			parts = append(parts, p)
		}
		slices.Sort(parts)
		var total, totalLag int64
		for _, p := range parts {
			n := offsets[p][1] - offsets[p][0]
			total += n
			lag := "-"
			if group != "" {
				totalLag += lags[p]
				lag = fmt.Sprint(lags[p])
			}
			fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\t\n", topic, p, n, orDash(group), lag)
		}
		lag := "-"
		if group != "" {
			lag = fmt.Sprint(totalLag)
		}
		fmt.Fprintf(w, "%s\tall %d\t%d\t%s\t%s\t\n", topic, len(parts), total, orDash(group), lag)
	}
	return w.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func topicsCommand() *ffcli.Command {
	fs := newFlags("topics")
	var kafka, prefix string
	var topics bus.Topics
	def := bus.DefaultTopics()
	fs.StringVar(&kafka, "kafka", "", "comma-separated Kafka brokers (the embedded broker's address is in tipline serve's first log line)")
	fs.StringVar(&prefix, "group-prefix", "tipline", "prefix of the consumer groups, as tipline serve --group-prefix")
	fs.StringVar(&topics.OCR, "topic-ocr", def.OCR, "topic of tips waiting for OCR")
	fs.StringVar(&topics.Raw, "topic-raw", def.Raw, "topic of ingested tips")
	fs.StringVar(&topics.Classified, "topic-classified", def.Classified, "topic of classified tips")
	fs.StringVar(&topics.DLQ, "topic-dlq", def.DLQ, "dead-letter topic")
	return command(fs, withEnv, about{usage: "tipline topics --kafka HOST:PORT",
		short: "show tipline's Kafka topics, their partitions and messages, and each stage's lag"},
		func(ctx context.Context, _ []string) error {
			brokers := splitList(kafka)
			if len(brokers) == 0 {
				return errors.New("--kafka is required")
			}
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			return showTopics(ctx, os.Stdout, bus.Config{Brokers: brokers}, topics, prefix)
		})
}
