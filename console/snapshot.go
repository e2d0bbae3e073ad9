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

// Snapshot is what the console shows, as its JSON API serves it.
type Snapshot struct {
	Time       time.Time `json:"time"`
	IntervalMS float64   `json:"intervalMs"` // when the next snapshot is due
	Debug      bool      `json:"debug"`      // false: debug mode is off, so no tasks are recorded
	Tasks      []Task    `json:"tasks"`
	// Sites are the tasks' spawn sites, "function (file:line)", each
	// listed once: a task's Site is its index here plus one.
	Sites  []string   `json:"sites"`
	Cycles [][]uint64 `json:"cycles"` // await cycles: each task awaits the next, the last the first
	Pools  []Pool     `json:"pools"`
}

// Task is one task of a [Snapshot]: [async.TaskInfo] with durations in
// milliseconds and the error as text.
type Task struct {
	ID         uint64          `json:"id"`
	Name       string          `json:"name"`
	State      async.TaskState `json:"state"`
	Parent     uint64          `json:"parent,omitempty"`
	Group      string          `json:"group,omitempty"`
	Started    time.Time       `json:"started"`
	DurationMS float64         `json:"durationMs"`
	Awaiting   []uint64        `json:"awaiting,omitempty"`
	BlockedMS  float64         `json:"blockedMs,omitempty"`
	Waiting    string          `json:"waiting,omitempty"` // what it waits on that is not a task: "Sleep 2s", "Queue.Get"...
	Site       int             `json:"site,omitempty"`    // its spawn site: Snapshot.Sites[Site-1]; 0 if unknown
	Err        string          `json:"err,omitempty"`
	InCycle    bool            `json:"inCycle,omitempty"`
}

// Spawn returns where t was started, "function (file:line)", or "".
func (s *Snapshot) Spawn(t *Task) string {
	if t.Site > 0 && t.Site <= len(s.Sites) {
		return s.Sites[t.Site-1]
	}
	return ""
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
	b = appendSnapshot(b, now, iv, infos, async.Pools())
	b = append(b, "\n\n"...)
	h.last = &encoded{frame: b, seq: h.seq, next: now.Add(iv)}
	return h.last
}

// estimatedTaskBytes sizes the buffer for a snapshot: a task's JSON is
// about this long, so that the buffer rarely grows.
const estimatedTaskBytes = 160

// appendSnapshot appends the JSON of a [Snapshot] of infos and pools. It is
// written by hand because encoding/json's reflection costs several times
// the bytes it writes for a large snapshot; TestEncodingMatchesJSON holds it
// to encoding/json's output.
func appendSnapshot(b []byte, now time.Time, iv time.Duration, infos []async.TaskInfo, pools []async.PoolInfo) []byte {
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
	b = append(b, `{"time":"`...)
	b = now.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","intervalMs":`...)
	b = appendMS(b, iv)
	b = append(b, `,"debug":`...)
	b = strconv.AppendBool(b, infos != nil)
	b = append(b, `,"tasks":[`...)
	sites := map[string]int{}
	var siteList []string
	for i := range infos {
		if i > 0 {
			b = append(b, ',')
		}
		site := 0
		if sp := infos[i].Spawn; sp != "" {
			if site = sites[sp]; site == 0 {
				siteList = append(siteList, sp)
				site = len(siteList)
				sites[sp] = site
			}
		}
		b = appendTask(b, &infos[i], site, inCycle[infos[i].ID])
	}
	b = append(b, `],"sites":[`...)
	for i, sp := range siteList {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, sp)
	}
	b = append(b, `],"cycles":[`...)
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
	return append(b, "]}"...)
}

func appendTask(b []byte, t *async.TaskInfo, site int, inCycle bool) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, t.ID, 10)
	b = append(b, `,"name":`...)
	b = appendString(b, t.Name)
	b = append(b, `,"state":"`...)
	b = append(b, t.State.String()...)
	b = append(b, '"')
	if t.Parent != 0 {
		b = append(b, `,"parent":`...)
		b = strconv.AppendUint(b, t.Parent, 10)
	}
	if t.Group != "" {
		b = append(b, `,"group":`...)
		b = appendString(b, t.Group)
	}
	b = append(b, `,"started":"`...)
	b = t.Started.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","durationMs":`...)
	b = appendMS(b, t.Duration)
	if len(t.Awaiting) > 0 {
		b = append(b, `,"awaiting":`...)
		b = appendIDs(b, t.Awaiting)
	}
	if ms(t.Blocked) != 0 {
		b = append(b, `,"blockedMs":`...)
		b = appendMS(b, t.Blocked)
	}
	if t.Waiting != "" {
		b = append(b, `,"waiting":`...)
		b = appendString(b, t.Waiting)
	}
	if site != 0 {
		b = append(b, `,"site":`...)
		b = strconv.AppendInt(b, int64(site), 10)
	}
	if t.Err != nil {
		if e := firstLine(t.Err.Error()); e != "" {
			b = append(b, `,"err":`...)
			b = appendString(b, e)
		}
	}
	if inCycle {
		b = append(b, `,"inCycle":true`...)
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
