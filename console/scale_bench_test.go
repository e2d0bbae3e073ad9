package console

import (
	"context"
	"fmt"
	"testing"

	"github.com/goasync/async"
)

// liveTasks starts n blocked tasks in debug mode, under parents of 100
// children each (names repeat, as a real program's do); stop ends them.
func liveTasks(n int) (stop func()) {
	prev := async.SetDebug(true)
	ctx := context.Background()
	release := make(chan struct{})
	started := make(chan struct{}, n/100)
	var fs []*async.Future[int]
	for p := 0; p < n/100; p++ {
		fs = append(fs, async.Go(ctx, func(ctx context.Context) (int, error) {
			kids := make([]*async.Future[int], 100)
			for i := range kids {
				kids[i] = async.Go(ctx, func(context.Context) (int, error) { <-release; return 0, nil }, async.Name(fmt.Sprintf("thumbnail-%d", i%3)))
			}
			started <- struct{}{}
			_, err := async.All(ctx, kids...)
			return 0, err
		}, async.Name("request")))
	}
	for range n / 100 {
		<-started
	}
	return func() {
		close(release)
		async.AllSettled(ctx, fs...)
		async.SetDebug(prev)
	}
}

func BenchmarkSnapshot100k(b *testing.B) {
	stop := liveTasks(100_000)
	defer stop()
	b.ReportAllocs()
	var size int
	for b.Loop() {
		var h hub
		size = len(h.latest().frame)
	}
	b.ReportMetric(float64(size)/1e6, "MB/snapshot")
}
