package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
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
		Tasks      []json.Number       `json:"tasks"`
		Extra      [][]json.RawMessage `json:"extra"`
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
	if len(w.Tasks)%taskWidth != 0 {
		return fmt.Errorf("console: %d numbers in tasks, not a multiple of %d", len(w.Tasks), taskWidth)
	}
	s.Tasks = make([]Task, 0, len(w.Tasks)/taskWidth)
	for i := 0; i < len(w.Tasks); i += taskWidth {
		t, err := decodeTask(w.Tasks[i:i+taskWidth], w.Time, w.Names, w.Groups, w.Sites)
		if err != nil {
			return fmt.Errorf("console: task %d: %w", i/taskWidth, err)
		}
		s.Tasks = append(s.Tasks, t)
	}
	for _, e := range w.Extra {
		var i int
		if len(e) != 2 || json.Unmarshal(e[0], &i) != nil || i < 0 || i >= len(s.Tasks) {
			return errors.New("console: an extra is not [task index, {...}]")
		}
		if err := decodeExtra(&s.Tasks[i], e[1]); err != nil {
			return fmt.Errorf("console: task %d: %w", i, err)
		}
	}
	for _, st := range w.Stats {
		s.Stats = append(s.Stats, async.TaskStat{Name: st.Name, Live: st.Live, Settled: st.Settled, Failed: st.Failed,
			P50: fromMS(st.P50MS), P99: fromMS(st.P99MS)})
	}
	return nil
}

// taskWidth is how many numbers a task is in the tasks array.
const taskWidth = 8

var errBadTask = errors.New("not id, name, state, parent, group, site, ageMs, durationMs with indexes in their tables")

func decodeTask(a []json.Number, now time.Time, names, groups, sites []string) (Task, error) {
	var t Task
	var err error
	u64 := func(n json.Number) uint64 {
		v, e := strconv.ParseUint(string(n), 10, 64)
		if e != nil && err == nil {
			err = errBadTask
		}
		return v
	}
	idx := func(n json.Number) int {
		v, e := strconv.Atoi(string(n))
		if e != nil && err == nil {
			err = errBadTask
		}
		return v
	}
	float := func(n json.Number) float64 {
		v, e := n.Float64()
		if e != nil && err == nil {
			err = errBadTask
		}
		return v
	}
	t.ID, t.Parent = u64(a[0]), u64(a[3])
	name, state, group, site := idx(a[1]), idx(a[2]), idx(a[4]), idx(a[5])
	age, dur := float(a[6]), float(a[7])
	if err != nil {
		return t, err
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
	return t, nil
}

// decodeExtra reads a task's optional fields into t.
func decodeExtra(t *Task, b json.RawMessage) error {
	{
		var x struct {
			Awaiting  []uint64            `json:"awaiting"`
			BlockedMS float64             `json:"blockedMs"`
			Waiting   string              `json:"waiting"`
			Err       string              `json:"err"`
			InCycle   bool                `json:"inCycle"`
			Waits     [][]json.RawMessage `json:"waits"`
		}
		if err := json.Unmarshal(b, &x); err != nil {
			return err
		}
		t.Awaiting, t.Blocked, t.Waiting, t.Err, t.InCycle = x.Awaiting, fromMS(x.BlockedMS), x.Waiting, x.Err, x.InCycle
		for _, wa := range x.Waits {
			var at, ms float64
			var w async.WaitSpan
			if len(wa) != 4 {
				return errBadTask
			}
			for i, v := range []any{&at, &ms, &w.On, &w.What} {
				if err := json.Unmarshal(wa[i], v); err != nil {
					return err
				}
			}
			w.Start, w.Duration = t.Started.Add(fromMS(at)), fromMS(ms)
			t.Waits = append(t.Waits, w)
		}
	}
	return nil
}

// fromMS turns milliseconds with microsecond precision back into a
// duration.
func fromMS(ms float64) time.Duration {
	return time.Duration(math.Round(ms*1000)) * time.Microsecond
}
