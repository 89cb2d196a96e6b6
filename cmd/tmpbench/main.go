package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/bus"
)

func main() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "tb")
	defer os.RemoveAll(dir)
	var brokers []string
	if len(os.Args) > 1 {
		brokers = []string{os.Args[1]}
	} else {
		e, err := bus.StartEmbedded(dir + "/k")
		if err != nil { panic(err) }
		defer e.Close()
		brokers = e.Brokers()
	}
	cfg := bus.Config{Brokers: brokers, Partitions: 6}
	topic := fmt.Sprintf("t%d", time.Now().UnixNano())
	if err := bus.EnsureTopics(ctx, cfg, topic); err != nil { panic(err) }
	w := bus.NewWriter(cfg)
	val := bytes.Repeat([]byte("x"), 1500)
	for _, conc := range []int{1, 32} {
		n := 1000
		t := time.Now()
		var wg sync.WaitGroup
		ch := make(chan int)
		for range conc {
			wg.Go(func() {
				for i := range ch {
					if err := w.Write(ctx, bus.Message{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: val}); err != nil { panic(err) }
				}
			})
		}
		for i := range n { ch <- i }
		close(ch); wg.Wait()
		fmt.Printf("kafka write conc=%d: %.0f/s\n", conc, float64(n)/time.Since(t).Seconds())
	}
	a, _ := archive.OpenLocal(dir + "/a")
	for _, conc := range []int{1, 32} {
		n := 1000
		t := time.Now()
		var wg sync.WaitGroup
		ch := make(chan int)
		for range conc {
			wg.Go(func() {
				for i := range ch {
					b := append([]byte(fmt.Sprint(i, conc)), val...)
					if _, err := a.Put(ctx, bytes.NewReader(b)); err != nil { panic(err) }
					if err := a.PutRecord(ctx, fmt.Sprintf("tips/x/%d-%d.json", conc, i), b); err != nil { panic(err) }
				}
			})
		}
		for i := range n { ch <- i }
		close(ch); wg.Wait()
		fmt.Printf("archive put+record conc=%d: %.0f/s\n", conc, float64(n)/time.Since(t).Seconds())
	}
}
