// Package batch spreads the per-item work of a batch over the CPUs. Stages receive batches of
// hundreds of tips whose decoding and analysis are independent; doing them one after another
// leaves the second core idle while the stage is the pipeline's bottleneck.
package batch

import (
	"runtime"
	"sync"
)

// minPerWorker keeps small batches on one goroutine, where spreading costs more than it saves.
const minPerWorker = 32

// Each calls fn for every index below n, in chunks over the CPUs when n is large enough. fn
// must be safe to call concurrently for different indexes; Each returns when all calls have.
func Each(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/minPerWorker)
	if workers < 2 {
		for i := range n {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				fn(i)
			}
		})
	}
	wg.Wait()
}
