// Package bench holds goasync's benchmark suite: the same workloads run
// through raw goroutines (the floor), the peer libraries that offer the
// feature, and goasync, in one `go test -bench` run.
//
// Sub-benchmark names follow one convention that the report command
// (bench/cmd/report) parses: `/raw` is the floor (plain goroutines,
// WaitGroup, channels), `/raw-<variant>` another hand-written baseline,
// `/errgroup`, `/conc`, `/pond`, `/ants`, `/lo` (optionally with a
// `-<variant>` suffix) are the peers, and goasync's start with `/async`.
//
// The workloads live in the package's test files, so that none of the peers
// is a dependency of anything but this module's tests. Each workload is also
// run once, at a small size, by TestWorkloads, which checks that every variant
// computes the same checksum: the same work for everyone, and nothing
// optimised away.
//
// Run everything and write BENCHMARKS.md with:
//
//	go run ./bench/cmd/report
package bench
