package dist

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goasync/async"
	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkDistCluster is BenchmarkDistThroughput on a 3-node JetStream
// cluster of nats-server processes on loopback, with every stream and
// bucket kept on all three nodes (Replicas 3), beside the raw baseline on
// the same cluster in the same run. The servers run in processes of their
// own: cpu-µs/task counts the client's and workers' CPU time,
// server-cpu-µs/task the three servers' (Linux only).
func BenchmarkDistCluster(b *testing.B) {
	cl := startClusterProcs(b, 3)
	b.Run("raw", func(b *testing.B) {
		r := newRawQueueOn(b, cl.URLs(), 3)
		b.ReportAllocs()
		b.ResetTimer()
		start, cpu, scpu := time.Now(), cpuTime(), cl.serverCPU()
		r.submitAll(b, b.N)
		r.waitResults(b, b.N)
		reportThroughput(b, start, cpu)
		reportServerCPU(b, cl, scpu)
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
		start, cpu, scpu := time.Now(), cpuTime(), cl.serverCPU()
		for i := range futures {
			futures[i] = Call[string, string](context.Background(), c, "echo", payload)
		}
		if _, err := async.All(context.Background(), futures...); err != nil {
			b.Fatal(err)
		}
		reportThroughput(b, start, cpu)
		reportServerCPU(b, cl, scpu)
	})
}

// serverCPU is the CPU time the cluster's server processes have used, read
// from /proc (zero where there is none).
func (cl *clusterProcs) serverCPU() time.Duration {
	var total time.Duration
	for _, p := range cl.nodes {
		if p.cmd == nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
		if err != nil {
			return 0
		}
		// The fields after the command's closing parenthesis start with
		// the state (field 3); utime and stime are fields 14 and 15.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 13 {
			return 0
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(u+s) * time.Second / 100 // USER_HZ
	}
	return total
}

// reportServerCPU reports the servers' CPU time per task since cpu0.
func reportServerCPU(b *testing.B, cl *clusterProcs, cpu0 time.Duration) {
	if cpu0 == 0 {
		return
	}
	b.ReportMetric(float64((cl.serverCPU()-cpu0).Microseconds())/float64(b.N), "server-cpu-µs/task")
}
