package async

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// TaskStat sums up the tasks of one name, as [TaskStats] returns it: what
// tokio-console shows per kind of task.
type TaskStat struct {
	Name     string        // "" for unnamed tasks; "(other names)" past 1024 names
	Live     int           // started and not settled
	Settled  int           // settled since debug mode was turned on
	Failed   int           // of those, failed (an error, a panic or a cancellation)
	P50, P99 time.Duration // percentiles of the settled tasks' durations, to within 3%
}

// FailureRate returns Failed/Settled, or 0 if none settled.
func (s TaskStat) FailureRate() float64 {
	if s.Settled == 0 {
		return 0
	}
	return float64(s.Failed) / float64(s.Settled)
}

// TaskStats returns, for each task name, how many tasks of that name are
// live, how many settled and failed, and the median and 99th percentile of
// their durations, counting the tasks started in debug mode (see
// [SetDebug]) since it was last turned on; names in order. It returns nil
// when debug mode is off. Durations are kept in a histogram of 16 buckets
// per doubling, so percentiles are within 3% and memory stays bounded: 2.4
// KB per name, for at most 1024 names (later names are counted together).
func TaskStats() []TaskStat {
	reg := debugRegistry()
	if reg == nil {
		return nil
	}
	reg.mu.Lock()
	out := make([]TaskStat, 0, len(reg.byName))
	for name, h := range reg.byName {
		s := TaskStat{Name: name, Live: h.live, Settled: h.settled, Failed: h.failed}
		if h.settled > 0 {
			s.P50, s.P99 = h.quantile(0.5), h.quantile(0.99)
		}
		out = append(out, s)
	}
	reg.mu.Unlock()
	slices.SortFunc(out, func(a, b TaskStat) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

const (
	statBucketsPerDoubling = 16
	statBuckets            = 40 * statBucketsPerDoubling // from 1 µs to 2^40 µs (12 days)
	maxStatNames           = 1024
	otherNames             = "(other names)"
)

// nameStats is the registry's count of the tasks of one name.
type nameStats struct {
	live, settled, failed int
	hist                  [statBuckets]uint32
}

func statBucket(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	return min(int(math.Log2(us)*statBucketsPerDoubling), statBuckets-1)
}

// quantile returns the duration below which a fraction q of the settled
// tasks fall: the geometric middle of the bucket where it lies.
func (h *nameStats) quantile(q float64) time.Duration {
	rank := uint32(math.Ceil(q * float64(h.settled)))
	var seen uint32
	for i, n := range h.hist {
		if seen += n; seen >= rank && n > 0 {
			return time.Duration(math.Exp2((float64(i)+0.5)/statBucketsPerDoubling) * float64(time.Microsecond))
		}
	}
	return 0
}

// statsFor returns the stats of name, made if needed. Called with r.mu held.
func (r *registry) statsFor(name string) *nameStats {
	h := r.byName[name]
	if h == nil {
		if len(r.byName) >= maxStatNames {
			name = otherNames
			if h = r.byName[name]; h != nil {
				return h
			}
		}
		h = new(nameStats)
		r.byName[name] = h
	}
	return h
}
