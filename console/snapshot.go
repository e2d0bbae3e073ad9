package console

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/goasync/async"
)

// Snapshot is what the console shows: the tasks, await cycles, pools and
// per-name statistics at one time. The JSON API serves it in a compact
// form that its UnmarshalJSON reads:
//
//	{"time": RFC 3339, "intervalMs": until the next snapshot, "debug": bool,
//	 "tasks": [id, name, state, parent, group, site, ageMs, durationMs, id, ...],
//	 "extra": [[task index, {...}], ...],
//	 "names": [...], "groups": [...], "sites": [...],
//	 "cycles": [[id, ...], ...], "pools": [{...}, ...],
//	 "stats": [{"name", "live", "settled", "failed", "p50Ms", "p99Ms"}, ...]}
//
// The tasks are one flat array of numbers, eight per task, in order of id:
// name, group and site are indexes into the names, groups and sites tables
// (index 0 is ""), state indexes [async.TaskState]'s values (0 pending, 1
// running, 2 blocked, 3 done, 4 failed), parent is 0 for none, ageMs is how
// long before the snapshot's time the task started, durationMs how long it
// ran (until now if it is live). A task with more to say has an entry in
// extra, by its index in the list (0 for the first task): an object with
// any of "awaiting" (ids), "blockedMs", "waiting", "err", "inCycle" and
// "waits" ([[atMs after the start, ms, [ids], what], ...]). A snapshot of
// 100,000 tasks is about 4 MB, and one array of numbers is quick for a
// browser to parse and cheap for its garbage collector.
type Snapshot struct {
	Time     time.Time
	Interval time.Duration // until the next snapshot
	Debug    bool          // false: debug mode is off, so no tasks are recorded
	Tasks    []Task
	Cycles   [][]uint64 // await cycles: each task awaits the next, the last the first
	Pools    []Pool
	Stats    []async.TaskStat
}

// Task is one task of a [Snapshot]: [async.TaskInfo] with the error as
// its first line of text, and whether it is in an await cycle.
type Task struct {
	ID       uint64
	Name     string
	State    async.TaskState
	Parent   uint64
	Group    string
	Started  time.Time
	Duration time.Duration
	Awaiting []uint64
	Blocked  time.Duration
	Waiting  string
	Waits    []async.WaitSpan
	Spawn    string
	Err      string
	InCycle  bool
}

// Pool is one pool of a [Snapshot].
type Pool struct {
	ID   uint64 `json:"id"`
	Name string `json:"name"`
	async.PoolStats
}

const (
	baseInterval = 500 * time.Millisecond
	maxInterval  = 5 * time.Second
	// tasksPerStep is how many more tasks add one baseInterval.
	tasksPerStep = 25_000
)

// interval is how long a snapshot of n tasks serves before the next.
func interval(n int) time.Duration {
	return min(baseInterval+baseInterval*time.Duration(n/tasksPerStep), maxInterval)
}

// hub keeps the latest snapshot, encoded once and shared by every client.
type hub struct {
	mu   sync.Mutex
	last *encoded
	seq  uint64
}

// encoded is a snapshot as an event-stream frame whose data is the JSON.
type encoded struct {
	frame []byte // never changed once made: clients write it concurrently
	seq   uint64
	next  time.Time // when the next snapshot is due
}

const framePrefix = "event: snapshot\ndata: "

func (e *encoded) json() []byte { return e.frame[len(framePrefix) : len(e.frame)-2] }

// latest returns the current snapshot, taking a new one if the last is due
// for replacement. One caller takes it while the others wait for it.
func (h *hub) latest() *encoded {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if h.last != nil && now.Before(h.last.next) {
		return h.last
	}
	infos := async.Tasks()
	h.seq++
	iv := interval(len(infos))
	b := make([]byte, 0, len(framePrefix)+400+len(infos)*estimatedTaskBytes)
	b = append(b, framePrefix...)
	b = appendSnapshot(b, now, iv, infos, async.Pools(), async.TaskStats())
	b = append(b, "\n\n"...)
	h.last = &encoded{frame: b, seq: h.seq, next: now.Add(iv)}
	return h.last
}

// estimatedTaskBytes sizes the buffer for a snapshot: a task's JSON is
// about this long, so that the buffer rarely grows.
const estimatedTaskBytes = 64

// table numbers distinct strings in order of first use; 0 is "".
type table struct {
	index map[string]int
	list  []string
}

func (t *table) id(s string) int {
	if s == "" {
		return 0
	}
	if t.index == nil {
		t.index = map[string]int{}
	}
	i, ok := t.index[s]
	if !ok {
		t.list = append(t.list, s)
		i = len(t.list)
		t.index[s] = i
	}
	return i
}

func (t *table) appendTo(b []byte, key string) []byte {
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":[""`...)
	for _, s := range t.list {
		b = append(b, ',')
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendSnapshot appends the JSON of a [Snapshot] of infos, pools and
// stats. It is written by hand, without reflection, because encoding/json
// costs several times the bytes it writes for a large snapshot.
func appendSnapshot(b []byte, now time.Time, iv time.Duration, infos []async.TaskInfo, pools []async.PoolInfo, stats []async.TaskStat) []byte {
	cycles := async.AwaitCycles(infos)
	var inCycle map[uint64]bool
	if len(cycles) > 0 {
		inCycle = map[uint64]bool{}
		for _, c := range cycles {
			for _, id := range c {
				inCycle[id] = true
			}
		}
	}
	var names, groups, sites table
	b = append(b, `{"time":"`...)
	b = now.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","intervalMs":`...)
	b = appendMS(b, iv)
	b = append(b, `,"debug":`...)
	b = strconv.AppendBool(b, infos != nil)
	b = append(b, `,"tasks":[`...)
	var extras []int // indexes of the tasks with an extra
	for i := range infos {
		if i > 0 {
			b = append(b, ',')
		}
		t := &infos[i]
		b = strconv.AppendUint(b, t.ID, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(names.id(t.Name)), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(t.State), 10)
		b = append(b, ',')
		b = strconv.AppendUint(b, t.Parent, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(groups.id(t.Group)), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(sites.id(t.Spawn)), 10)
		b = append(b, ',')
		b = appendMS(b, now.Sub(t.Started))
		b = append(b, ',')
		b = appendMS(b, t.Duration)
		if hasExtra(t, inCycle[t.ID]) {
			extras = append(extras, i)
		}
	}
	b = append(b, `],"extra":[`...)
	for j, i := range extras {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ',')
		b = appendExtra(b, &infos[i], inCycle[infos[i].ID])
		b = append(b, ']')
	}
	b = append(b, ']')
	b = names.appendTo(b, "names")
	b = groups.appendTo(b, "groups")
	b = sites.appendTo(b, "sites")
	b = append(b, `,"cycles":[`...)
	for i, c := range cycles {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendIDs(b, c)
	}
	b = append(b, `],"pools":[`...)
	for i, p := range pools {
		if i > 0 {
			b = append(b, ',')
		}
		pb, _ := json.Marshal(Pool{ID: p.ID, Name: p.Name, PoolStats: p.Stats}) // few, and of plain fields: cannot fail
		b = append(b, pb...)
	}
	b = append(b, `],"stats":[`...)
	for i, st := range stats {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendString(b, st.Name)
		b = append(b, `,"live":`...)
		b = strconv.AppendInt(b, int64(st.Live), 10)
		b = append(b, `,"settled":`...)
		b = strconv.AppendInt(b, int64(st.Settled), 10)
		b = append(b, `,"failed":`...)
		b = strconv.AppendInt(b, int64(st.Failed), 10)
		b = append(b, `,"p50Ms":`...)
		b = appendMS(b, st.P50)
		b = append(b, `,"p99Ms":`...)
		b = appendMS(b, st.P99)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// hasExtra reports whether a task has optional fields.
func hasExtra(t *async.TaskInfo, inCycle bool) bool {
	return len(t.Awaiting) > 0 || t.Blocked > 0 || t.Waiting != "" || t.Err != nil || inCycle || len(t.Waits) > 0
}

// appendExtra appends a task's optional fields as an object.
func appendExtra(b []byte, t *async.TaskInfo, inCycle bool) []byte {
	b = append(b, '{')
	start := len(b)
	sep := func() {
		if len(b) > start {
			b = append(b, ',')
		}
	}
	if len(t.Awaiting) > 0 {
		sep()
		b = append(b, `"awaiting":`...)
		b = appendIDs(b, t.Awaiting)
	}
	if t.Blocked > 0 {
		sep()
		b = append(b, `"blockedMs":`...)
		b = appendMS(b, t.Blocked)
	}
	if t.Waiting != "" {
		sep()
		b = append(b, `"waiting":`...)
		b = appendString(b, t.Waiting)
	}
	if t.Err != nil {
		if e := firstLine(t.Err.Error()); e != "" {
			sep()
			b = append(b, `"err":`...)
			b = appendString(b, e)
		}
	}
	if inCycle {
		sep()
		b = append(b, `"inCycle":true`...)
	}
	if len(t.Waits) > 0 {
		sep()
		b = append(b, `"waits":[`...)
		for i, w := range t.Waits {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendMS(b, w.Start.Sub(t.Started))
			b = append(b, ',')
			b = appendMS(b, w.Duration)
			b = append(b, ',')
			b = appendIDs(b, w.On)
			b = append(b, ',')
			b = appendString(b, w.What)
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendIDs(b []byte, ids []uint64) []byte {
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, id, 10)
	}
	return append(b, ']')
}

func appendMS(b []byte, d time.Duration) []byte {
	return strconv.AppendFloat(b, ms(d), 'f', -1, 64)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// firstLine keeps an error's first line: a panic's message, not its stack.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json writes it:
// control characters, <, > and & escaped (so that the JSON is safe inside
// HTML too), U+2028 and U+2029 escaped, and invalid UTF-8 replaced by
// U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
