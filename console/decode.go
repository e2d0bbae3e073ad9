package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/goasync/async"
)

// UnmarshalJSON reads a snapshot as the JSON API serves it (see
// [Snapshot]). It treats its input as untrusted: an index out of its table
// or a malformed task is an error.
func (s *Snapshot) UnmarshalJSON(b []byte) error {
	var w struct {
		Time       time.Time           `json:"time"`
		IntervalMS float64             `json:"intervalMs"`
		Debug      bool                `json:"debug"`
		Tasks      [][]json.RawMessage `json:"tasks"`
		Names      []string            `json:"names"`
		Groups     []string            `json:"groups"`
		Sites      []string            `json:"sites"`
		Cycles     [][]uint64          `json:"cycles"`
		Pools      []Pool              `json:"pools"`
		Stats      []struct {
			Name                  string
			Live, Settled, Failed int
			P50MS, P99MS          float64
		} `json:"stats"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*s = Snapshot{Time: w.Time, Interval: fromMS(w.IntervalMS), Debug: w.Debug, Cycles: w.Cycles, Pools: w.Pools}
	s.Tasks = make([]Task, 0, len(w.Tasks))
	for i, a := range w.Tasks {
		t, err := decodeTask(a, w.Time, w.Names, w.Groups, w.Sites)
		if err != nil {
			return fmt.Errorf("console: task %d: %w", i, err)
		}
		s.Tasks = append(s.Tasks, t)
	}
	for _, st := range w.Stats {
		s.Stats = append(s.Stats, async.TaskStat{Name: st.Name, Live: st.Live, Settled: st.Settled, Failed: st.Failed,
			P50: fromMS(st.P50MS), P99: fromMS(st.P99MS)})
	}
	return nil
}

var errBadTask = errors.New("not [id, name, state, parent, group, site, ageMs, durationMs, extra?] with indexes in their tables")

func decodeTask(a []json.RawMessage, now time.Time, names, groups, sites []string) (Task, error) {
	var t Task
	if len(a) != 8 && len(a) != 9 {
		return t, errBadTask
	}
	var name, state, group, site int
	var age, dur float64
	for i, v := range []any{&t.ID, &name, &state, &t.Parent, &group, &site, &age, &dur} {
		if err := json.Unmarshal(a[i], v); err != nil {
			return t, err
		}
	}
	pick := func(table []string, i int) (string, bool) {
		if i == 0 {
			return "", true
		}
		if i < 0 || i >= len(table) {
			return "", false
		}
		return table[i], true
	}
	var ok1, ok2, ok3 bool
	t.Name, ok1 = pick(names, name)
	t.Group, ok2 = pick(groups, group)
	t.Spawn, ok3 = pick(sites, site)
	if !ok1 || !ok2 || !ok3 || state < 0 || state > int(async.TaskFailed) {
		return t, errBadTask
	}
	t.State = async.TaskState(state)
	t.Started = now.Add(-fromMS(age))
	t.Duration = fromMS(dur)
	if len(a) == 9 {
		var x struct {
			Awaiting  []uint64            `json:"awaiting"`
			BlockedMS float64             `json:"blockedMs"`
			Waiting   string              `json:"waiting"`
			Err       string              `json:"err"`
			InCycle   bool                `json:"inCycle"`
			Waits     [][]json.RawMessage `json:"waits"`
		}
		if err := json.Unmarshal(a[8], &x); err != nil {
			return t, err
		}
		t.Awaiting, t.Blocked, t.Waiting, t.Err, t.InCycle = x.Awaiting, fromMS(x.BlockedMS), x.Waiting, x.Err, x.InCycle
		for _, wa := range x.Waits {
			var at, ms float64
			var w async.WaitSpan
			if len(wa) != 4 {
				return t, errBadTask
			}
			for i, v := range []any{&at, &ms, &w.On, &w.What} {
				if err := json.Unmarshal(wa[i], v); err != nil {
					return t, err
				}
			}
			w.Start, w.Duration = t.Started.Add(fromMS(at)), fromMS(ms)
			t.Waits = append(t.Waits, w)
		}
	}
	return t, nil
}

// fromMS turns milliseconds with microsecond precision back into a
// duration.
func fromMS(ms float64) time.Duration {
	return time.Duration(math.Round(ms*1000)) * time.Microsecond
}
