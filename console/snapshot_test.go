package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/goasync/async"
)

// expected is the Snapshot that decoding the JSON of infos must give.
func expected(now time.Time, iv time.Duration, infos []async.TaskInfo, pools []async.PoolInfo, stats []async.TaskStat) Snapshot {
	us := func(d time.Duration) time.Duration { return d.Round(time.Microsecond) }
	s := Snapshot{Time: now, Interval: iv, Debug: infos != nil, Tasks: []Task{}, Cycles: async.AwaitCycles(infos), Stats: stats}
	inCycle := map[uint64]bool{}
	for _, c := range s.Cycles {
		for _, id := range c {
			inCycle[id] = true
		}
	}
	for _, ti := range infos {
		t := Task{ID: ti.ID, Name: ti.Name, State: ti.State, Parent: ti.Parent, Group: ti.Group, Started: now.Add(-us(now.Sub(ti.Started))),
			Duration: us(ti.Duration), Awaiting: ti.Awaiting, Blocked: us(ti.Blocked), Waiting: ti.Waiting, Spawn: ti.Spawn, InCycle: inCycle[ti.ID]}
		if ti.Err != nil {
			t.Err = firstLine(ti.Err.Error())
		}
		for _, w := range ti.Waits {
			t.Waits = append(t.Waits, async.WaitSpan{Start: t.Started.Add(us(w.Start.Sub(ti.Started))), Duration: us(w.Duration), On: w.On, What: w.What})
		}
		s.Tasks = append(s.Tasks, t)
	}
	for _, p := range pools {
		s.Pools = append(s.Pools, Pool{ID: p.ID, Name: p.Name, PoolStats: p.Stats})
	}
	return s
}

// What the console encodes by hand decodes to the snapshot it describes.
func TestSnapshotRoundTrip(t *testing.T) {
	now := time.Date(2026, 12, 3, 6, 0, 0, 123456000, time.UTC)
	infos := []async.TaskInfo{
		{ID: 1, Name: "plain", State: async.TaskRunning, Started: now.Add(-time.Second), Duration: time.Second, Spawn: "main.f (/x/main.go:12)"},
		{ID: 8, Name: "same site", State: async.TaskRunning, Started: now, Spawn: "main.g (/x/<main>.go:13)"},
		{ID: 9, Name: "same site", State: async.TaskRunning, Started: now, Spawn: "main.f (/x/main.go:12)"},
		{ID: 2, Name: "<script>\"q\"\\ \u2028 \x01 & é", State: async.TaskBlocked, Parent: 1, Group: `pool "p"`,
			Started: now.Add(-1500 * time.Microsecond), Duration: 1500 * time.Microsecond, Awaiting: []uint64{3, 1}, Blocked: 7 * time.Microsecond},
		{ID: 3, State: async.TaskFailed, Err: errors.New("boom\nstack"), Started: now.Add(-4 * time.Hour), Duration: 3 * time.Hour},
		{ID: 4, State: async.TaskFailed, Err: errors.New("\nonly a stack"), Started: now},
		{ID: 5, State: async.TaskBlocked, Awaiting: []uint64{6}, Started: now},
		{ID: 6, State: async.TaskBlocked, Awaiting: []uint64{5}, Started: now},
		{ID: 7, State: async.TaskDone, Started: now.Add(-time.Minute), Duration: time.Second, Waits: []async.WaitSpan{
			{Start: now.Add(-time.Minute + 10*time.Millisecond), Duration: 300 * time.Millisecond, On: []uint64{1}},
			{Start: now.Add(-time.Minute + 500*time.Millisecond), Duration: 200 * time.Millisecond, What: "Sleep 200ms"}}},
		{ID: 10, State: async.TaskBlocked, Waiting: `Queue.Put "<jobs>"`, Blocked: time.Second, Started: now},
	}
	pools := []async.PoolInfo{{ID: 9, Name: "p", Stats: async.PoolStats{Workers: 2, Running: 1, Queued: 3, Completed: 4, Failed: 1}}}
	stats := []async.TaskStat{{Name: "plain", Live: 1, Settled: 3, Failed: 1, P50: 2 * time.Millisecond, P99: 3500 * time.Microsecond}}
	for _, tc := range []struct {
		infos []async.TaskInfo
		pools []async.PoolInfo
		stats []async.TaskStat
	}{{infos, pools, stats}, {nil, nil, nil}, {[]async.TaskInfo{}, nil, nil}} {
		b := appendSnapshot(nil, now, 2500*time.Millisecond, tc.infos, tc.pools, tc.stats)
		if !json.Valid(b) {
			t.Fatalf("invalid JSON: %s", b)
		}
		var got Snapshot
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%v in %s", err, b)
		}
		want := expected(now, 2500*time.Millisecond, tc.infos, tc.pools, tc.stats)
		if !reflect.DeepEqual(normal(got), normal(want)) {
			t.Errorf("decoded\n %+v\nwant\n %+v\nfrom %s", got, want, b)
		}
	}
}

// normal makes empty and nil slices alike.
func normal(s Snapshot) string { return fmt.Sprintf("%+v", s) }

// Hostile input: a snapshot that does not hold together is an error, never
// a panic.
func TestDecodeRejectsBadTasks(t *testing.T) {
	for _, in := range []string{
		`{"tasks":[1]}`,
		`{"tasks":[1,5,0,0,0,0,0,0],"names":[""]}`,
		`{"tasks":[1,-1,0,0,0,0,0,0]}`,
		`{"tasks":[1,0,9,0,0,0,0,0]}`,
		`{"tasks":[1,0,0,0,0,3,0,0],"sites":["","a"]}`,
		`{"tasks":[1.5,0,0,0,0,0,0,0]}`,
		`{"tasks":[1,0,0,0,0,0,0,0],"extra":[[0,{"waits":[[1]]}]]}`,
		`{"tasks":[1,0,0,0,0,0,0,0],"extra":[[1,{}]]}`,
		`{"tasks":[1,0,0,0,0,0,0,0],"extra":[[-1,{}]]}`,
		`{"tasks":[1,0,0,0,0,0,0,0],"extra":[[0]]}`,
		`{"tasks":["x",0,0,0,0,0,0,0]}`,
	} {
		var s Snapshot
		if err := json.Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("%s decoded without an error", in)
		}
	}
}

func FuzzSnapshotDecode(f *testing.F) {
	f.Add([]byte(`{"tasks":[1,1,0,0,0,0,1.5,2],"extra":[[0,{"awaiting":[2],"waits":[[0,1,[],"x"]]}]],"names":["","a"]}`))
	f.Add(appendSnapshot(nil, time.Unix(0, 0), time.Second, []async.TaskInfo{{ID: 1, Name: "a", Spawn: "s"}}, nil, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Snapshot
		_ = json.Unmarshal(b, &s) // must not panic
	})
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
