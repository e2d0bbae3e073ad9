package bench

import (
	"errors"
	"flag"
	"testing"

	"go.uber.org/goleak"
)

// pendingTasks is how many tasks workload E holds pending at once. The report
// lowers it in quick mode.
var pendingTasks = flag.Int("pending", 1_000_000, "tasks held pending at once by workload E")

func TestMain(m *testing.M) {
	// ants starts its default pool's two housekeeping goroutines when it is
	// imported; they are not ours to stop.
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"))
}

// sink keeps every checksum alive so that no work is optimised away.
var sink int

// input is read from a variable so the compiler cannot fold the work.
var input = 20

// work is the trivial task every workload runs: the same for everyone.
func work(x int) int { return x*2 + 1 }

// sumWork is the checksum of work over 0..n-1.
func sumWork(n int) int { return n * n }

// errFail is what a failing task returns in workload F.
var errFail = errors.New("task failed")

// countFailures counts the errFail leaves of an error tree, following both
// Unwrap() error and Unwrap() []error.
func countFailures(err error) int {
	switch e := err.(type) {
	case nil:
		return 0
	case interface{ Unwrap() []error }:
		n := 0
		for _, x := range e.Unwrap() {
			n += countFailures(x)
		}
		return n
	}
	if err == errFail {
		return 1
	}
	return countFailures(errors.Unwrap(err))
}
