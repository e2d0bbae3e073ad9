package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/goasync/async"
)

// reference encodes a snapshot with encoding/json, as the console did
// before it wrote its JSON by hand.
func reference(now time.Time, iv time.Duration, infos []async.TaskInfo, pools []async.PoolInfo) []byte {
	s := Snapshot{Time: now, IntervalMS: ms(iv), Debug: infos != nil, Tasks: []Task{}, Sites: []string{}, Cycles: async.AwaitCycles(infos), Pools: []Pool{}}
	if s.Cycles == nil {
		s.Cycles = [][]uint64{}
	}
	inCycle := map[uint64]bool{}
	for _, c := range s.Cycles {
		for _, id := range c {
			inCycle[id] = true
		}
	}
	for _, ti := range infos {
		t := Task{ID: ti.ID, Name: ti.Name, State: ti.State, Parent: ti.Parent, Group: ti.Group, Started: ti.Started,
			DurationMS: ms(ti.Duration), Awaiting: ti.Awaiting, BlockedMS: ms(ti.Blocked), Waiting: ti.Waiting, InCycle: inCycle[ti.ID]}
		if ti.Spawn != "" {
			t.Site = slices.Index(s.Sites, ti.Spawn) + 1
			if t.Site == 0 {
				s.Sites = append(s.Sites, ti.Spawn)
				t.Site = len(s.Sites)
			}
		}
		if ti.Err != nil {
			t.Err = firstLine(ti.Err.Error())
		}
		s.Tasks = append(s.Tasks, t)
	}
	for _, p := range pools {
		s.Pools = append(s.Pools, Pool{ID: p.ID, Name: p.Name, PoolStats: p.Stats})
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestEncodingMatchesJSON(t *testing.T) {
	now := time.Date(2026, 12, 3, 6, 0, 0, 123456789, time.UTC)
	infos := []async.TaskInfo{
		{ID: 1, Name: "plain", State: async.TaskRunning, Started: now.Add(-time.Second), Duration: time.Second, Spawn: "main.f (/x/main.go:12)"},
		{ID: 8, Name: "same site", State: async.TaskRunning, Spawn: "main.g (/x/<main>.go:13)"},
		{ID: 9, Name: "same site", State: async.TaskRunning, Spawn: "main.f (/x/main.go:12)"},
		{ID: 2, Name: "<script>\"q\"\\ \u2028 \x01 \xff & é", State: async.TaskBlocked, Parent: 1, Group: `pool "p"`,
			Started: now.In(time.FixedZone("X", 3600)), Duration: 1500 * time.Microsecond, Awaiting: []uint64{3, 1}, Blocked: 7 * time.Microsecond},
		{ID: 3, State: async.TaskFailed, Err: errors.New("boom\nstack"), Duration: 3 * time.Hour},
		{ID: 4, State: async.TaskFailed, Err: errors.New("\nonly a stack")},
		{ID: 5, State: async.TaskBlocked, Awaiting: []uint64{6}},
		{ID: 6, State: async.TaskBlocked, Awaiting: []uint64{5}},
		{ID: 7, State: async.TaskDone, Blocked: 400 * time.Nanosecond},
		{ID: 10, State: async.TaskBlocked, Waiting: `Queue.Put "<jobs>"`, Blocked: time.Second},
	}
	pools := []async.PoolInfo{{ID: 9, Name: "p", Stats: async.PoolStats{Workers: 2, Running: 1, Queued: 3, Completed: 4, Failed: 1}}}
	for _, tc := range []struct {
		infos []async.TaskInfo
		pools []async.PoolInfo
	}{{infos, pools}, {nil, nil}, {[]async.TaskInfo{}, nil}} {
		got := appendSnapshot(nil, now, 2500*time.Millisecond, tc.infos, tc.pools)
		want := reference(now, 2500*time.Millisecond, tc.infos, tc.pools)
		if !bytes.Equal(got, want) {
			t.Errorf("hand-written JSON differs from encoding/json's:\n got %s\nwant %s", got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a", "<>&", "\u2028\u2029", "\xff\xfe", "\"\\", "\x00\x1f\x7f", "é\u00a0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s; encoding/json writes %s", s, got, want)
		}
	})
}

func TestInterval(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 500 * time.Millisecond, 24_999: 500 * time.Millisecond, 25_000: time.Second,
		100_000: 2500 * time.Millisecond, 10_000_000: 5 * time.Second} {
		if got := interval(n); got != want {
			t.Errorf("interval(%d) = %v; want %v", n, got, want)
		}
	}
}
