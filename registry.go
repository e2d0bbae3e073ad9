package async

import (
	"cmp"
	"errors"
	"runtime"
	"runtime/trace"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"weak"
)

// TaskState is where a task is in its life, as [Tasks] reports it.
type TaskState uint8

// The task states.
const (
	// TaskPending: started but its function is not running yet (queued in
	// a pool, a Then waiting for its input), or a Promise not yet settled.
	TaskPending TaskState = iota
	// TaskRunning: its function is running.
	TaskRunning
	// TaskBlocked: its function is waiting in Await or a combinator.
	TaskBlocked
	// TaskDone: settled successfully.
	TaskDone
	// TaskFailed: settled with an error (including a panic or a
	// cancellation).
	TaskFailed
)

var stateNames = [...]string{"pending", "running", "blocked", "done", "failed"}

func (s TaskState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "TaskState(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText returns the state's name, so that JSON shows "running".
func (s TaskState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a state's name.
func (s *TaskState) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n == string(b) {
			*s = TaskState(i)
			return nil
		}
	}
	return errors.New("async: unknown task state " + strconv.Quote(string(b)))
}

// TaskInfo is a snapshot of one task, as [Tasks] returns it.
type TaskInfo struct {
	ID     uint64 // unique in the process, in order of creation
	Name   string // the task's Name, or ""
	State  TaskState
	Parent uint64 // the task whose context started this one, or 0
	// Group is the scope or pool the task belongs to: "scope", "pool",
	// or with a name, `pool "fetchers"`; "" for a task started with Go.
	Group    string
	Started  time.Time
	Duration time.Duration // from Started to now, or to when it settled
	// Awaiting lists the tasks a blocked task is waiting for, and Blocked
	// says for how long it has been waiting.
	Awaiting []uint64
	Blocked  time.Duration
	// Waiting says what a blocked task waits on when that is not (only)
	// a task: "Sleep 2s", "Queue.Get", "Queue.Put" (full), "Event.Wait",
	// "Lazy.Get", "Scope.Wait", `full pool "resizer"` (Submit or Pool.Go
	// waiting for room), "Retry backoff 200ms", "Map or ForEach calls"
	// (Map's caller waiting for the calls on other goroutines), or what a
	// [Promise] was told it awaits
	// ([Promise.Awaits]); "" otherwise.
	Waiting string
	// Waits are the task's last waits that ended (up to 8), oldest first.
	Waits []WaitSpan
	Spawn string // where the task was started: "function (file:line)"
	Err   error  // a failed task's error
}

// recentSettled is how many settled tasks Tasks keeps reporting after they
// settle, so that a viewer sees them finish.
const recentSettled = 128

// registry tracks live tasks in debug mode. Settled tasks leave it (so that
// it keeps no future alive) and are remembered as snapshots.
type registry struct {
	mu     sync.Mutex
	live   map[*task]*regEntry
	recent []*regEntry        // a ring of the last settled tasks
	next   int                // where the ring's next entry goes
	sites  map[uintptr]string // spawn sites, by the first program counter
	byName map[string]*nameStats
}

type regEntry struct {
	id, parent  uint64
	name, group string
	started     time.Time
	running     bool
	awaits      []*awaitRec // newest last
	created     []uintptr
	ended       time.Time  // zero while live
	err         error      // once settled
	waits       []WaitSpan // the last maxWaits waits that ended, oldest first
	stats       *nameStats
}

// maxWaits bounds the waits a task remembers for the console's timeline.
const maxWaits = 8

// WaitSpan is a wait of a task that has ended, as [TaskInfo.Waits] lists it.
type WaitSpan struct {
	Start    time.Time
	Duration time.Duration
	On       []uint64 // the tasks it awaited, if any
	What     string   // what else it waited on, as TaskInfo.Waiting says
}

// awaitRec is one wait: by whom, on what, since when.
type awaitRec struct {
	waiter *task // nil outside a task
	on     []uint64
	what   string    // a wait on something other than tasks (blockBegin, note)
	noted  bool      // made by note: replaced by the next note
	reg    *registry // set by blockBegin, for blockEnd
	since  time.Time
	region *trace.Region
}

// taskIDs numbers tasks across registries, so that ids stay unique when
// debug mode is turned off and on again.
var taskIDs atomic.Uint64

func newRegistry() *registry {
	return &registry{live: make(map[*task]*regEntry), sites: make(map[uintptr]string), byName: make(map[string]*nameStats)}
}

// started registers t and returns its debug record.
func (r *registry) started(t, parent *task) *taskDebug {
	d := &taskDebug{ancestors: ancestorsOf(parent)}
	e := &regEntry{name: t.name(), started: time.Now()}
	if x := t.x.Load(); x != nil {
		e.created = x.created
	}
	if parent != nil {
		if pd := dbgOf(parent); pd != nil {
			e.parent = pd.id
		}
	}
	d.id = taskIDs.Add(1)
	e.id = d.id
	r.mu.Lock()
	r.live[t] = e
	e.stats = r.statsFor(e.name)
	e.stats.live++
	r.mu.Unlock()
	return d
}

func (r *registry) group(t *task, kind, name string) {
	g := kind
	if name != "" {
		g += " " + strconv.Quote(name)
	}
	r.mu.Lock()
	if e := r.live[t]; e != nil {
		e.group = g
	}
	r.mu.Unlock()
}

func (r *registry) running(t *task) {
	r.mu.Lock()
	if e := r.live[t]; e != nil {
		e.running = true
	}
	r.mu.Unlock()
}

func (r *registry) settled(t *task) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.live[t]
	if e == nil {
		return
	}
	delete(r.live, t)
	e.stats.live--
	e.stats.settled++
	if t.err != nil {
		e.stats.failed++
	}
	e.stats.hist[statBucket(now.Sub(e.started))]++
	// Only record the end here, on the task's goroutine: the snapshot is
	// made when someone asks.
	e.awaits, e.ended, e.err = nil, now, t.err
	if len(r.recent) < recentSettled {
		r.recent = append(r.recent, e)
	} else {
		r.recent[r.next] = e
	}
	r.next = (r.next + 1) % recentSettled
}

// forget removes t without listing it as settled.
func (r *registry) forget(t *task) {
	r.mu.Lock()
	if e := r.live[t]; e != nil {
		e.stats.live--
		delete(r.live, t)
	}
	r.mu.Unlock()
}

func (r *registry) awaitBegin(rec *awaitRec, on []*task) {
	if rec.waiter == nil {
		return
	}
	rec.since = time.Now()
	rec.on = make([]uint64, 0, len(on))
	for _, t := range on {
		if d := dbgOf(t); d != nil && d.id != 0 {
			rec.on = append(rec.on, d.id)
		}
	}
	r.mu.Lock()
	if e := r.live[rec.waiter]; e != nil {
		e.awaits = append(e.awaits, rec)
	}
	r.mu.Unlock()
}

func (r *registry) awaitEnd(rec *awaitRec) {
	if rec.waiter == nil {
		return
	}
	now := time.Now()
	r.mu.Lock()
	if e := r.live[rec.waiter]; e != nil {
		if i := slices.Index(e.awaits, rec); i >= 0 {
			e.awaits = slices.Delete(e.awaits, i, i+1)
			if len(e.waits) == maxWaits {
				e.waits = slices.Delete(e.waits, 0, 1)
			}
			e.waits = append(e.waits, WaitSpan{Start: rec.since, Duration: now.Sub(rec.since), On: rec.on, What: rec.what})
		}
	}
	r.mu.Unlock()
}

// note records that t waits on what (Promise.Awaits), replacing what an
// earlier note recorded; "" removes it.
func (r *registry) note(t *task, what string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.live[t]
	if e == nil {
		return
	}
	e.awaits = slices.DeleteFunc(e.awaits, func(a *awaitRec) bool { return a.noted })
	if what != "" {
		e.awaits = append(e.awaits, &awaitRec{waiter: t, what: what, noted: true, since: now})
	}
}

// info snapshots an entry. Called with r.mu held.
func (r *registry) info(e *regEntry, now time.Time) TaskInfo {
	ti := TaskInfo{ID: e.id, Name: e.name, Parent: e.parent, Group: e.group,
		Started: e.started, Duration: now.Sub(e.started), Spawn: r.site(e.created), Waits: slices.Clone(e.waits)}
	switch {
	case !e.ended.IsZero():
		ti.State, ti.Duration = TaskDone, e.ended.Sub(e.started)
		if e.err != nil {
			ti.State, ti.Err = TaskFailed, e.err
		}
	case len(e.awaits) > 0:
		ti.State = TaskBlocked
		first := e.awaits[0]
		ti.Blocked = now.Sub(first.since)
		for _, a := range e.awaits {
			if a.what != "" && ti.Waiting == "" {
				ti.Waiting = a.what // the outermost says most: a Retry's backoff, not its Sleep
			}
			for _, id := range a.on {
				if !slices.Contains(ti.Awaiting, id) {
					ti.Awaiting = append(ti.Awaiting, id)
				}
			}
		}
	case e.running:
		ti.State = TaskRunning
	}
	return ti
}

// site returns the spawn site of pcs, remembering it by its first program
// counter (a task's stack is long, its distinct spawn sites few).
func (r *registry) site(pcs []uintptr) string {
	if len(pcs) == 0 {
		return ""
	}
	// The first few frames decide the site; key on the caller of start
	// and the two above it, which tells apart calls through a wrapper.
	key := pcs[0]
	for _, pc := range pcs[1:min(len(pcs), 4)] {
		key = key*31 + pc
	}
	if s, ok := r.sites[key]; ok {
		return s
	}
	s := spawnSite(pcs)
	if len(r.sites) < 1<<14 {
		r.sites[key] = s
	}
	return s
}

func (r *registry) snapshot() []TaskInfo {
	now := time.Now()
	// Every info is taken in one hold of the lock, so that the snapshot is
	// of one moment: a task awaiting another that started meanwhile is
	// never listed without it.
	r.mu.Lock()
	out := make([]TaskInfo, 0, len(r.live)+len(r.recent))
	for _, e := range r.live {
		out = append(out, r.info(e, now))
	}
	for _, e := range r.recent {
		out = append(out, r.info(e, now))
	}
	r.mu.Unlock()
	// Sort without the lock, which every task takes to start and settle:
	// the ids with their places, then each info moved once into its own
	// (sorting the infos would swap twenty words at a time).
	type idAt struct {
		id uint64
		at int
	}
	order := make([]idAt, len(out))
	for i := range out {
		order[i] = idAt{out[i].ID, i}
	}
	slices.SortFunc(order, func(a, b idAt) int { return cmp.Compare(a.id, b.id) })
	// out[k] takes the info at order[k].at: follow each cycle of that
	// permutation, marking a place done by pointing it at itself.
	for k := range order {
		if order[k].at == k {
			continue
		}
		first := out[k]
		j := k
		for order[j].at != k {
			next := order[j].at
			out[j] = out[next]
			order[j].at = j
			j = next
		}
		out[j] = first
		order[j].at = j
	}
	return out
}

// Tasks returns a snapshot of the tasks started in debug mode (see
// [SetDebug]): every live task and the last 128 that settled, in order of
// creation. It returns nil when debug mode is off. It does not block on the
// tasks; it takes a lock the tasks take briefly when they start, run, wait
// and settle.
//
// Besides futures (Go, Spawn, Submit, Then, promises), it lists the
// functions the library runs without a future: each [Scope.Go] and
// [Scope.TryGo] child (named after its scope, Group `scope "name"`),
// [Run]'s own function (its scope's children are listed under it), each
// [Pool.Go] task (Group `pool "name"`), and each call of [Map] and [ForEach]
// (named "Map" or "ForEach", under the task that called Map). In debug
// mode such a function runs with a context of its own that identifies it,
// so that what it waits on is charged to it: a task in Sleep, Queue.Put or
// Get, Event.Wait, Lazy.Get, Scope.Wait or a full pool's Submit is listed
// as blocked, with [TaskInfo.Waiting] saying on what. Event-loop tasks are
// listed as the loop's tasks.
func Tasks() []TaskInfo {
	h := hooks.Load()
	if h == nil {
		return nil
	}
	hs, ok := h.h.(*hookSet)
	if !ok || hs.reg == nil {
		return nil
	}
	return hs.reg.snapshot()
}

// PoolInfo is a snapshot of one [Pool], as [Pools] returns it.
type PoolInfo struct {
	ID    uint64 // unique in the process, in order of creation
	Name  string // the pool's Name, or ""
	Stats PoolStats
}

// pools tracks every Pool without keeping it alive.
var pools struct {
	sync.Mutex
	lastID uint64
	m      map[uint64]weak.Pointer[Pool]
}

// trackPool lists p for Pools until it is garbage-collected.
func trackPool(p *Pool) {
	pools.Lock()
	pools.lastID++
	id := pools.lastID
	if pools.m == nil {
		pools.m = make(map[uint64]weak.Pointer[Pool])
	}
	pools.m[id] = weak.Make(p)
	pools.Unlock()
	runtime.AddCleanup(p, untrackPool, id)
}

func untrackPool(id uint64) {
	pools.Lock()
	delete(pools.m, id)
	pools.Unlock()
}

// Pools returns a snapshot of every [Pool] that has not been
// garbage-collected, closed or not, in order of creation. It does not depend
// on debug mode.
func Pools() []PoolInfo {
	pools.Lock()
	ps := make(map[uint64]*Pool, len(pools.m))
	for id, w := range pools.m {
		if p := w.Value(); p != nil {
			ps[id] = p
		}
	}
	pools.Unlock()
	out := make([]PoolInfo, 0, len(ps))
	for id, p := range ps {
		out = append(out, PoolInfo{ID: id, Name: p.name, Stats: p.Stats()})
	}
	slices.SortFunc(out, func(a, b PoolInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
