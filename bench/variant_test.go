package bench

import (
	"testing"
)

// A variant is one way to run a workload: raw goroutines, a peer, or goasync.
// setup prepares what the variant keeps across operations (a pool, say),
// registers its release with tb.Cleanup, and returns one operation, which
// returns the workload's checksum.
type variant struct {
	name  string
	setup func(tb testing.TB) func() int
}

// simple wraps an operation that needs no setup.
func simple(name string, op func() int) variant {
	return variant{name, func(testing.TB) func() int { return op }}
}

// A workload is a set of variants doing the same work, n tasks per operation.
type workload struct {
	name     string
	variants func(n int) []variant
	want     func(n int) int // the checksum every variant must return
}

// runVariants benchmarks each variant as a sub-benchmark. When tasks > 0 it
// also reports ns/task.
func runVariants(b *testing.B, w workload, n int) {
	for _, v := range w.variants(n) {
		b.Run(v.name, func(b *testing.B) {
			op := v.setup(b)
			b.ReportAllocs()
			for b.Loop() {
				sink += op()
			}
			if n > 1 {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/task")
			}
		})
	}
}

// extras holds, per workload name, functions that add variants of goasync
// APIs living in files of their own (Scope, Pool, Map, stream.Map), so each
// API's variants come in one file.
var extras = map[string][]func(n int, in []int) []variant{}

func addExtra(workload string, f func(n int, in []int) []variant) {
	extras[workload] = append(extras[workload], f)
}

func extraVariants(workload string, n int, in []int) []variant {
	var vs []variant
	for _, f := range extras[workload] {
		vs = append(vs, f(n, in)...)
	}
	return vs
}

// pendingExtras are workload E's variants of such APIs.
var pendingExtras []pendingVariant

// workloads lists every workload with its test size (small enough for -race,
// which allows at most 8128 live goroutines).
var workloads []struct {
	w    workload
	size int
}

func register(w workload, testSize int) workload {
	workloads = append(workloads, struct {
		w    workload
		size int
	}{w, testSize})
	return w
}

// TestWorkloads runs every variant of every workload once and checks that it
// did the same work as the others.
func TestWorkloads(t *testing.T) {
	for _, x := range workloads {
		t.Run(x.w.name, func(t *testing.T) {
			want := x.w.want(x.size)
			seen := map[string]bool{}
			for _, v := range x.w.variants(x.size) {
				if seen[v.name] {
					t.Errorf("two variants named %q", v.name)
				}
				seen[v.name] = true
				t.Run(v.name, func(t *testing.T) {
					op := v.setup(t)
					for range 2 {
						if got := op(); got != want {
							t.Fatalf("checksum %d, want %d", got, want)
						}
					}
				})
			}
		})
	}
}
