package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goasync/async"
	"github.com/goasync/async/stream"
)

// Workload I: a pipeline. n JSON lines are parsed by pipeWorkers workers,
// the records batched by pipeBatch or pipeWait, whichever comes first, and
// each batch handed to a sink that now and then stalls (as a database
// write does). `raw` is the same pipeline written with channels by hand:
// a producer, workers between two channels, and a batching loop with a
// timer. goasync's is one range over stream.BatchResults(stream.Map(...)).
const (
	pipeWorkers = 4
	pipeBatch   = 500
	pipeWait    = 50 * time.Millisecond
	pipeStall   = 2 * time.Millisecond // every pipeStallEvery-th batch
	pipeEvery   = 20
)

type pipeRecord struct {
	ID    int      `json:"id"`
	Name  string   `json:"name"`
	Score float64  `json:"score"`
	Tags  []string `json:"tags"`
}

// pipeLines are the distinct lines the input cycles through: the input is
// produced lazily, so its own memory does not weigh on the comparison.
var pipeLines = func() [][]byte {
	ls := make([][]byte, 1024)
	for i := range ls {
		ls[i] = fmt.Appendf(nil, `{"id":%d,"name":"user-%d","score":%d.5,"tags":["a","b%d"]}`, i, i, i%100, i%7)
	}
	return ls
}()

func pipeInput(n int) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for i := range n {
			if !yield(pipeLines[i%len(pipeLines)]) {
				return
			}
		}
	}
}

func pipeParse(_ context.Context, line []byte) (pipeRecord, error) {
	var r pipeRecord
	err := json.Unmarshal(line, &r)
	return r, err
}

// pipeWant is the checksum: the sum of the records' ids.
func pipeWant(n int) int {
	s := 0
	for i := range n {
		s += i % len(pipeLines)
	}
	return s
}

// pipePeak is the largest live heap a sink saw in the current benchmark.
var pipePeak atomic.Uint64

var pipeSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
var pipeSampleMu sync.Mutex

// pipeSink consumes one batch: it checksums it, notes the live heap, and
// stalls every pipeEvery-th batch.
type pipeSink struct{ batches, sum int }

func (s *pipeSink) put(batch []pipeRecord) {
	for _, r := range batch {
		s.sum += r.ID
	}
	s.batches++
	pipeSampleMu.Lock()
	metrics.Read(pipeSample)
	h := pipeSample[0].Value.Uint64()
	pipeSampleMu.Unlock()
	for p := pipePeak.Load(); h > p && !pipePeak.CompareAndSwap(p, h); p = pipePeak.Load() {
	}
	if s.batches%pipeEvery == 0 {
		time.Sleep(pipeStall)
	}
}

// rawPipeline is the hand-written channels version: it stops at the first
// parse failure too (there is none here), without ordering the records.
func rawPipeline(n int) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lines := make(chan []byte, 64)
	recs := make(chan pipeRecord, 64)
	errc := make(chan error, 1)
	go func() {
		defer close(lines)
		for l := range pipeInput(n) {
			select {
			case lines <- l:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	wg.Add(pipeWorkers)
	for range pipeWorkers {
		go func() {
			defer wg.Done()
			for l := range lines {
				r, err := pipeParse(ctx, l)
				if err != nil {
					select {
					case errc <- err:
					default:
					}
					cancel()
					return
				}
				select {
				case recs <- r:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(recs) }()
	var sink pipeSink
	batch := make([]pipeRecord, 0, pipeBatch)
	timer := time.NewTimer(pipeWait)
	timer.Stop()
	var due <-chan time.Time
	flush := func() {
		sink.put(batch)
		batch = make([]pipeRecord, 0, pipeBatch)
		timer.Stop()
		due = nil
	}
	for {
		select {
		case r, ok := <-recs:
			if !ok {
				if len(batch) > 0 {
					flush()
				}
				select {
				case err := <-errc:
					panic(err)
				default:
				}
				return sink.sum
			}
			if len(batch) == 0 {
				timer.Reset(pipeWait)
				due = timer.C
			}
			batch = append(batch, r)
			if len(batch) == pipeBatch {
				flush()
			}
		case <-due:
			flush()
		}
	}
}

func streamPipeline(n int, opts ...async.StreamOption) int {
	ctx := context.Background()
	var sink pipeSink
	recs := stream.Map(ctx, pipeInput(n), pipeParse, append(opts, async.Limit(pipeWorkers))...)
	for batch, err := range stream.BatchResults(ctx, recs, pipeBatch, pipeWait) {
		if err != nil {
			panic(err)
		}
		sink.put(batch)
	}
	return sink.sum
}

var workloadI = register(workload{
	name: "I_Pipeline1M",
	want: pipeWant,
	variants: func(n int) []variant {
		return []variant{
			simple("raw", func() int { return rawPipeline(n) }),
			simple("async-stream", func() int { return streamPipeline(n) }),
			simple("async-stream-unordered", func() int { return streamPipeline(n, async.Unordered()) }),
		}
	},
}, 10_000)

// BenchmarkI_Pipeline1M reports, besides time per record, the peak live heap
// the sink saw (peak-heap-B).
func BenchmarkI_Pipeline1M(b *testing.B) {
	const n = 1_000_000
	for _, v := range workloadI.variants(n) {
		b.Run(v.name, func(b *testing.B) {
			op := v.setup(b)
			b.ReportAllocs()
			pipePeak.Store(0)
			for b.Loop() {
				sink += op()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/task")
			b.ReportMetric(float64(pipePeak.Load()), "peak-heap-B")
		})
	}
}
