package dist

import (
	"context"
	"testing"
	"time"

	"github.com/goasync/async"
	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkDistCluster is BenchmarkDistThroughput on a 3-node JetStream
// cluster of nats-server processes on loopback, with every stream and
// bucket kept on all three nodes (Replicas 3), beside the raw baseline on
// the same cluster in the same run. The servers run in processes of their
// own, so cpu-µs/task counts only the client's and workers' CPU time.
func BenchmarkDistCluster(b *testing.B) {
	cl := startClusterProcs(b, 3)
	b.Run("raw", func(b *testing.B) {
		r := newRawQueueOn(b, cl.URLs(), 3)
		b.ReportAllocs()
		b.ResetTimer()
		start, cpu := time.Now(), cpuTime()
		r.submitAll(b, b.N)
		r.waitResults(b, b.N)
		reportThroughput(b, start, cpu)
	})
	b.Run("async-dist", func(b *testing.B) {
		nc := connect(b, cl.URLs())
		b.Cleanup(func() { // after the client and workers stop: the next run starts afresh
			js, _ := jetstream.New(nc)
			l := newLayout("ASYNC")
			for _, name := range []string{l.tasksStream, l.deadStream, l.resultsStream(), "KV_" + l.workers} {
				_ = js.DeleteStream(context.Background(), name)
			}
		})
		for range benchWorkers {
			runWorker(b, cl.URLs(), func(w *Worker) {
				Register(w, "echo", func(ctx context.Context, s string) (string, error) { return s, nil })
			}, Replicas(3))
		}
		c := newClient(b, nc, Replicas(3))
		futures := make([]*async.Future[string], b.N)
		b.ReportAllocs()
		b.ResetTimer()
		start, cpu := time.Now(), cpuTime()
		for i := range futures {
			futures[i] = Call[string, string](context.Background(), c, "echo", payload)
		}
		if _, err := async.All(context.Background(), futures...); err != nil {
			b.Fatal(err)
		}
		reportThroughput(b, start, cpu)
	})
}
