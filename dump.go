package async

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// dumpBlockedAfter is how long a task may wait before Dump flags it.
const dumpBlockedAfter = time.Second

// Dump writes the live tasks of debug mode (see [SetDebug] and [Tasks]) to w
// as a tree, each task under the task that started it, like
// `python -m asyncio pstree`. Each line gives the task's id, name, state and
// age, what a blocked task is awaiting (tasks, or a Sleep, a Queue, an
// Event...) and for how long, its scope or pool,
// and its spawn site. Tasks blocked for more than a second are flagged, and
// await cycles (A awaits B awaits A: a deadlock no goroutine dump shows) are
// flagged on their tasks and listed at the end. With debug mode off, Dump
// writes a line saying so. It returns w's first write error.
//
// Five or more siblings that share a name and a scope or pool are printed
// as one line with their count and states (`"thumbnail" ×271 (#12…#290):
// 3 running, 268 blocked`), and their children together under it, so that
// a program with a hundred thousand tasks dumps in a screenful.
func Dump(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if Tasks() == nil && !debugMode.Load() {
		fmt.Fprintln(bw, "async: debug mode is off: no tasks recorded (set ASYNC_DEBUG=1 or call async.SetDebug(true))")
		return bw.Flush()
	}
	writeDump(bw, Tasks())
	return bw.Flush()
}

func writeDump(w io.Writer, all []TaskInfo) {
	live := make(map[uint64]*TaskInfo)
	var order []uint64
	counts := map[TaskState]int{}
	settled := 0
	for i := range all {
		t := &all[i]
		if t.State == TaskDone || t.State == TaskFailed {
			settled++
			continue
		}
		live[t.ID] = t
		order = append(order, t.ID)
		counts[t.State]++
	}
	cycles := AwaitCycles(all)
	inCycle := map[uint64]bool{}
	for _, c := range cycles {
		for _, id := range c {
			inCycle[id] = true
		}
	}
	fmt.Fprintf(w, "async: %d live tasks (%d running, %d blocked, %d pending), %d recently settled\n",
		len(live), counts[TaskRunning], counts[TaskBlocked], counts[TaskPending], settled)

	children := map[uint64][]uint64{}
	var roots []uint64
	for _, id := range order {
		t := live[id]
		if _, ok := live[t.Parent]; ok && t.Parent != 0 {
			children[t.Parent] = append(children[t.Parent], id)
		} else {
			roots = append(roots, id)
		}
	}
	d := &dumper{w: w, live: live, children: children, inCycle: inCycle}
	for _, u := range d.units(roots, false) {
		d.walk(u, "", "", "")
	}
	if len(cycles) > 0 {
		fmt.Fprintf(w, "\n%d await cycle(s): each task awaits the next, so none of them can finish (deadlock):\n", len(cycles))
		for _, c := range cycles {
			parts := make([]string, 0, len(c)+1)
			for _, id := range append(c, c[0]) {
				parts = append(parts, taskLabel(id, live[id]))
			}
			fmt.Fprintf(w, "  %s\n", strings.Join(parts, " → "))
		}
	}
}

// dumpGroupMin is how many siblings sharing a name and a scope or pool
// Dump prints as one line.
const dumpGroupMin = 5

type dumper struct {
	w        io.Writer
	live     map[uint64]*TaskInfo
	children map[uint64][]uint64
	inCycle  map[uint64]bool
}

// units splits sibling tasks into what Dump prints on one line each: a
// task, or a group of tasks sharing a name and a scope or pool (of at least
// dumpGroupMin, or of any size under a group, whose members' children are
// printed together).
func (d *dumper) units(ids []uint64, underGroup bool) [][]uint64 {
	at := map[[2]string]int{}
	var groups [][]uint64
	for _, id := range ids {
		t := d.live[id]
		k := [2]string{t.Name, t.Group}
		if i, ok := at[k]; ok {
			groups[i] = append(groups[i], id)
		} else {
			at[k] = len(groups)
			groups = append(groups, []uint64{id})
		}
	}
	var out [][]uint64
	for _, g := range groups {
		if len(g) >= dumpGroupMin || underGroup && len(g) > 1 {
			out = append(out, g)
			continue
		}
		for _, id := range g {
			out = append(out, []uint64{id})
		}
	}
	return out
}

func (d *dumper) walk(unit []uint64, prefix, branch, next string) {
	var kids []uint64
	if len(unit) == 1 {
		fmt.Fprintf(d.w, "%s%s%s\n", prefix, branch, dumpLine(d.live[unit[0]], d.live, d.inCycle))
		kids = d.children[unit[0]]
	} else {
		fmt.Fprintf(d.w, "%s%s%s\n", prefix, branch, d.groupLine(unit))
		for _, id := range unit {
			kids = append(kids, d.children[id]...)
		}
	}
	us := d.units(kids, len(unit) > 1)
	for i, u := range us {
		if i == len(us)-1 {
			d.walk(u, prefix+next, "└── ", "    ")
		} else {
			d.walk(u, prefix+next, "├── ", "│   ")
		}
	}
}

// groupLine sums up sibling tasks that share a name:
// `"thumbnail" ×271 (#12…#290): 3 running, 268 blocked in pool "resizer"`.
func (d *dumper) groupLine(ids []uint64) string {
	first := d.live[ids[0]]
	counts := map[TaskState]int{}
	cycle, slow := 0, 0
	for _, id := range ids {
		t := d.live[id]
		counts[t.State]++
		if d.inCycle[id] {
			cycle++
		}
		if t.State == TaskBlocked && t.Blocked > dumpBlockedAfter {
			slow++
		}
	}
	var b strings.Builder
	if first.Name != "" {
		b.WriteString(strconv.Quote(first.Name) + " ")
	}
	fmt.Fprintf(&b, "×%d (#%d…#%d):", len(ids), ids[0], ids[len(ids)-1])
	sep := " "
	for _, st := range []TaskState{TaskRunning, TaskBlocked, TaskPending} {
		if counts[st] > 0 {
			fmt.Fprintf(&b, "%s%d %s", sep, counts[st], st)
			sep = ", "
		}
	}
	if cycle > 0 {
		fmt.Fprintf(&b, " [%d in AWAIT CYCLES]", cycle)
	}
	if slow > 0 {
		fmt.Fprintf(&b, " [%d blocked > %v]", slow, dumpBlockedAfter)
	}
	if first.Group != "" {
		b.WriteString(" in " + first.Group)
	}
	return b.String()
}

func taskLabel(id uint64, t *TaskInfo) string {
	s := "#" + strconv.FormatUint(id, 10)
	if t != nil && t.Name != "" {
		s += " " + strconv.Quote(t.Name)
	}
	return s
}

func dumpLine(t *TaskInfo, live map[uint64]*TaskInfo, inCycle map[uint64]bool) string {
	var b strings.Builder
	b.WriteString(taskLabel(t.ID, t))
	fmt.Fprintf(&b, " %s %v", t.State, roundDuration(t.Duration))
	if t.State == TaskBlocked {
		if t.Waiting != "" {
			b.WriteString(" in " + t.Waiting)
		}
		if len(t.Awaiting) > 0 {
			b.WriteString(" awaiting")
			for _, id := range t.Awaiting {
				b.WriteString(" ")
				b.WriteString(taskLabel(id, live[id]))
			}
		}
		fmt.Fprintf(&b, " for %v", roundDuration(t.Blocked))
	}
	if inCycle[t.ID] {
		b.WriteString(" [AWAIT CYCLE]")
	}
	if t.State == TaskBlocked && t.Blocked > dumpBlockedAfter {
		fmt.Fprintf(&b, " [blocked > %v]", dumpBlockedAfter)
	}
	if t.Parent != 0 {
		if _, ok := live[t.Parent]; !ok {
			fmt.Fprintf(&b, " (parent #%d settled)", t.Parent)
		}
	}
	if t.Group != "" {
		b.WriteString(" in " + t.Group)
	}
	if t.Spawn != "" {
		b.WriteString("  ← " + t.Spawn)
	}
	return b.String()
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

// AwaitCycles returns the await cycles among tasks (a snapshot from
// [Tasks]): lists of task ids in which each task is blocked awaiting the
// next and the last awaits the first. Such tasks can never finish unless
// something outside the cycle cancels one of them (a Race or Any among the
// awaited futures could still be decided by a future outside the cycle).
// There is one cycle per strongly connected group of waiting tasks, starting
// at its smallest id; the cycles are in order of their first id.
func AwaitCycles(tasks []TaskInfo) [][]uint64 {
	edges := map[uint64][]uint64{}
	for _, t := range tasks {
		if t.State == TaskBlocked && len(t.Awaiting) > 0 {
			edges[t.ID] = t.Awaiting
		}
	}
	// Tarjan's strongly connected components.
	index := map[uint64]int{}
	low := map[uint64]int{}
	onStack := map[uint64]bool{}
	var stack []uint64
	var sccs [][]uint64
	var strong func(v uint64)
	strong = func(v uint64) {
		index[v], low[v] = len(index), len(index)
		stack = append(stack, v)
		onStack[v] = true
		for _, u := range edges[v] {
			if _, seen := index[u]; !seen {
				strong(u)
				low[v] = min(low[v], low[u])
			} else if onStack[u] {
				low[v] = min(low[v], index[u])
			}
		}
		if low[v] == index[v] {
			var scc []uint64
			for {
				u := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[u] = false
				scc = append(scc, u)
				if u == v {
					break
				}
			}
			if len(scc) > 1 || slices.Contains(edges[v], v) {
				sccs = append(sccs, scc)
			}
		}
	}
	ids := make([]uint64, 0, len(edges))
	for id := range edges {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if _, seen := index[id]; !seen {
			strong(id)
		}
	}
	var cycles [][]uint64
	for _, scc := range sccs {
		cycles = append(cycles, cycleIn(scc, edges))
	}
	slices.SortFunc(cycles, func(a, b []uint64) int { return cmp.Compare(a[0], b[0]) })
	return cycles
}

// cycleIn returns a shortest cycle through the smallest id of a strongly
// connected component, found breadth first within it.
func cycleIn(scc []uint64, edges map[uint64][]uint64) []uint64 {
	in := map[uint64]bool{}
	for _, id := range scc {
		in[id] = true
	}
	start := slices.Min(scc)
	prev := map[uint64]uint64{}
	queue := []uint64{start}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, u := range edges[v] {
			if !in[u] {
				continue
			}
			if u == start {
				path := []uint64{v}
				for v != start {
					v = prev[v]
					path = append(path, v)
				}
				slices.Reverse(path)
				return path
			}
			if _, seen := prev[u]; !seen {
				prev[u] = v
				queue = append(queue, u)
			}
		}
	}
	return []uint64{start} // unreachable for a real component
}
