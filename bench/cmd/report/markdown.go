package main

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

type report struct {
	machine  machine
	command  string
	quick    bool
	count    int
	groups   []*group
	charts   map[*group]string // file name of each group's chart
	chartRel string            // chart directory relative to the report
	log      []string
	// notes are written analyses kept beside the generated tables (where
	// a workload's time goes, say), keyed by group name: see readNotes.
	notes map[string]string
}

// descriptions explain each workload of the suite, keyed by group name.
var descriptions = map[string]string{
	"A_Spawn":              "**A.** Start one task that computes a trivial value, and wait for that value. Pools (pond, ants) are created once, outside the timed loop.",
	"A_AwaitSettled":       "Await a future that has already settled (the fast path). Raw: receive from a closed channel, then read the value.",
	"B_All10k":             "**B.** 10,000 trivial tasks, results collected in input order. `raw`, `errgroup`, `conc`, `pond`, `lo` and `async-all` start one goroutine (or pool task) per task; `raw-workers`, `conc-iter` and `async-map` use GOMAXPROCS workers that claim indices, each library's way to map a slice. `raw-cells` is `raw` plus one heap cell per task for its value and error, the least any API that returns a future per task allocates: a reference for what such an API can reach.",
	"C_Limit10k/8":         "**C.** 10,000 trivial tasks, at most 8 running at once. `raw` is 8 goroutines claiming indices from an atomic counter (the floor); `raw-sem` is a goroutine per task behind a channel semaphore (the classic idiom).",
	"C_Limit10k/2":         "**C.** The same with at most 2 at once (= GOMAXPROCS here).",
	"D_Sleep1k":            "**D.** 1,000 tasks that each wait 1 ms (`time.Sleep`, for everyone) and then compute: I/O-shaped fan-out. The floor is the 1 ms itself plus the cost of starting 1,000 goroutines.",
	"E_Pending1M":          "**E.** Memory of 1,000,000 pending tasks: each task has started and is parked on a channel. Heap + stack bytes per task (`runtime.MemStats` HeapAlloc + StackInuse, after a GC, minus the same before), each run in a fresh process so that no variant reuses another's goroutines. `raw` is a goroutine writing into a slice slot; `raw-chan` a goroutine with its own result channel (the raw shape of a future). Time per op is the time to start, measure and release 1M tasks, shown for information.",
	"F_FailFast10k":        "**F.** 10,000 tasks of which 1 % fail; report the first failure (fail-fast). Tasks check their context first, so variants that cancel on failure (raw with a cancel-cause context, errgroup.WithContext, conc WithCancelOnError, pond groups, scopes, Map) skip work; `async-all` returns at the first failure without waiting for or cancelling the rest (by design), so part of its tasks finish after the timed operation.",
	"F_CollectAll10k":      "**F.** 10,000 tasks of which 1 % fail; run them all and report every failure. errgroup and pond keep only the first error, so they have no variant here.",
	"G_Stream1M/ordered":   "**G.** Map a lazily produced stream of 1,000,000 items through a trivial function with at most 8 in flight, consuming results in input order. `raw` is the classic channel-of-result-channels pipeline; conc's `stream` calls callbacks in order; `async-stream-settled` is `stream.MapSettled` (no fail-fast, a Result per item).",
	"G_Stream1M/unordered": "**G.** The same, results in completion order. `raw` is 8 workers between an input and an output channel.",
	"H_Map100k":            "Map over 100,000 trivial elements with GOMAXPROCS workers: `raw` is workers claiming indices, `conc-iter` is conc's `iter.Map`, `lo` is `lo/parallel.Map` (a goroutine per element). `async-map-timeout`, `-attempts` and `-timeout-attempts` are the same Map with per-call options (a context with a deadline per call; the retry wrapper, which never retries here), `raw-timeout` the raw workers with a `context.WithTimeoutCause` per call under a cancelable run context, written by hand; `async-mapsettled` is MapSettled (a result and a recover per element).",
	"I_Pipeline1M":         "**I.** A pipeline: 1,000,000 JSON lines parsed by 4 workers, the records batched by 500 or 50 ms, each batch handed to a sink that stalls 2 ms every 20th batch. `raw` is the same pipeline written with channels by hand (producer, workers between two channels, a batching loop with a timer; unordered); `async-stream` is one range over `stream.BatchResults(stream.Map(...))` (ordered), `async-stream-unordered` the same with `Unordered()`. `peak-heap-B` is the largest live heap the sink saw.",
	"Q_Queue":              "One uncontended Put and Get of a queue: `raw` is a buffered channel.",
	"X_Gather100k":         "100,000 trivial async functions gathered: the Go side of the cross-language job (`async.Go` ×100k + `async.All`; raw: goroutines + WaitGroup + slice).",
}

func renderMarkdown(r report) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m := r.machine

	w("# Benchmarks\n\n")
	w("<!-- Generated by bench/cmd/report: do not edit by hand; run `go run ./bench/cmd/report` instead. -->\n\n")
	if r.quick {
		w("> **Quick mode**: every benchmark ran once (`-benchtime=1x`, `-count 1`, 100k pending tasks in E). The numbers only show that the suite works; no target is evaluated.\n\n")
	}
	w("Every workload runs the same work through raw goroutines (the floor, `raw`), each peer library that has the feature (`errgroup` = golang.org/x/sync/errgroup, `conc` = sourcegraph/conc, `pond` = alitto/pond/v2, `ants` = panjf2000/ants/v2, `lo` = samber/lo), and goasync (`async…`), in one `go test -bench` run per workload. ")
	w("Ratios are to `raw` unless a column says otherwise; lower is better. Where we lose, the tables say so.\n\n")

	w("## How this was measured\n\n")
	w("| | |\n|---|---|\n")
	w("| date | %s |\n", m.Date.Format("2006-01-02 15:04 UTC"))
	w("| machine | %s, `nproc` = %s, GOMAXPROCS = %d (the same for every variant: they run in one process) |\n", m.CPU, m.NProc, m.GOMAXPROCS)
	w("| system | %s |\n", m.Kernel)
	w("| Go | %s |\n", m.GoVersion)
	w("| Node / Python | %s / %s |\n", m.Node, m.Python)
	w("| command | `%s` |\n", strings.TrimSpace(r.command))
	w("| runs | -count %d per benchmark; %s |\n", r.count, durationNote(r))
	w("| load average (1, 5, 15 min) | %s at the start, %s at the end |\n\n", m.LoadStart, m.LoadEnd)
	if busy(m) {
		w("**The machine was busy**: the load averages show other work on its 2 cores besides each benchmark (the report's own builds and scripts, and on a shared VM possibly other tenants); absolute times are noisier and slower than on an idle machine. Compare ratios, whose variants ran seconds apart in the same process, and mind the intervals.\n\n")
	}
	w("Statistics come from golang.org/x/perf (the library behind benchstat): each cell is the median of the runs; `±` is the half-width of its %d %% confidence interval; a ratio's interval divides the ends of the two medians' intervals (conservative); `p` is the Mann-Whitney U test's p-value for \"same distribution\" (benchstat's test); a ratio whose p ≥ 0.05 is not a significant difference. Raw results: [`%s/results.txt`](%s/results.txt) (feed it to benchstat).\n\n",
		int(confidence*100), r.chartRel, r.chartRel)

	w("Same work for everyone: every variant runs the same trivial function (`x*2+1`) or the same 1 ms sleep, returns a checksum that `TestWorkloads` checks is equal across variants and that the benchmark adds to a global (so nothing is optimised away), and runs in the same process with the same GOMAXPROCS. Peers are used as their documentation shows: long-lived pools (pond, ants) are made once outside the timed loop, single-use groups (errgroup, conc) per operation. Warm-up: a check pass runs every benchmark once before the measured pass, and Go's benchmark loop grows the iteration count before it settles; the Node and Python scripts run untimed rounds first.\n\n")

	// Targets.
	w("## Performance targets\n\n")
	w("| area | target | bound | measured | status |\n|---|---|---|---|---|\n")
	for _, v := range evaluate(r.groups, r.quick) {
		goal := v.t.goal
		if v.t.note != "" {
			goal += " (" + v.t.note + ")"
		}
		w("| %s | %s | %s | %s | %s |\n", v.t.area, goal, boundString(v.t), v.measured, statusCell(v.status))
	}
	w("\n")

	// Losses.
	suite := suiteGroups(r.groups)
	w("## Where goasync loses\n\n")
	losses := lossesOf(suite)
	if r.quick {
		w("Not evaluated in quick mode.\n\n")
	} else if len(losses) == 0 {
		w("In no workload is a peer significantly faster than goasync's best variant.\n\n")
	} else {
		w("Peers significantly faster (U test p < 0.05) than goasync's best variant of the same workload:\n\n")
		for _, l := range losses {
			w("- %s\n", l)
		}
		w("\n")
	}

	w("## Workloads\n\n")
	for _, g := range suite {
		writeGroup(&b, r, g)
	}

	writeCrossLanguage(&b, r)

	var pkgGroups []*group
	for _, g := range r.groups {
		if g.pkg != benchModule && !strings.HasPrefix(g.name, "XL_") {
			pkgGroups = append(pkgGroups, g)
		}
	}
	if len(pkgGroups) > 0 {
		w("## The packages' own benchmarks\n\n")
		w("The root module's packages keep their own benchmarks beside their code (`go test -bench . -benchmem` in each); the report runs them with the same count.\n\n")
		for _, g := range pkgGroups {
			writeGroup(&b, r, g)
		}
	}

	if len(r.log) > 0 {
		w("## Run log\n\n```\n")
		for _, l := range r.log {
			w("%s\n", l)
		}
		w("```\n")
	}
	return b.String()
}

func durationNote(r report) string {
	return "the whole report took " + r.machine.Duration.Round(1e9).String()
}

// busy reports whether the 1-minute load average exceeded half the CPUs at
// either end of the run.
func busy(m machine) bool {
	n, err := strconv.Atoi(m.NProc)
	if err != nil {
		return false
	}
	for _, l := range []string{m.LoadStart, m.LoadEnd} {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil && v > float64(n)/2 {
			return true
		}
	}
	return false
}

func statusCell(s string) string {
	switch {
	case strings.HasPrefix(s, "met"):
		return "✅ " + s
	case strings.HasPrefix(s, "missed"):
		return "❌ **" + s + "**"
	}
	return s
}

// suiteGroups are the workloads of bench/ (not the packages' own, nor the
// cross-language ones), in the order they ran.
func suiteGroups(groups []*group) []*group {
	var out []*group
	for _, g := range groups {
		if g.pkg == benchModule {
			out = append(out, g)
		}
	}
	return out
}

// primaryUnit is what a group is compared on: bytes per task for the memory
// workload, time per operation otherwise.
func primaryUnit(g *group) string {
	for _, v := range g.variants {
		if _, ok := v.values["B/task"]; ok {
			return "B/task"
		}
	}
	return "sec/op"
}

// bestAsync is goasync's variant with the lowest median in unit.
func bestAsync(g *group, unit string) *variant {
	var best *variant
	bestV := math.Inf(1)
	for _, v := range g.variants {
		if kindOf(v.name) != kindAsync {
			continue
		}
		if s, ok := v.summary(unit); ok && s.Center < bestV {
			best, bestV = v, s.Center
		}
	}
	return best
}

// lossesOf lists, per workload, the peers that beat goasync's best variant
// with significance.
func lossesOf(groups []*group) []string {
	var out []string
	for _, g := range groups {
		unit := primaryUnit(g)
		best := bestAsync(g, unit)
		if best == nil {
			continue
		}
		var beaten []string
		for _, v := range g.variants {
			if kindOf(v.name) != kindPeer {
				continue
			}
			r, ok := compare(best, v, unit)
			if ok && r.center > 1 && r.significant() {
				beaten = append(beaten, fmt.Sprintf("`%s` (goasync's `%s` is %s× it%s, %s)", v.name, best.name, fmtRatio(r.center), ratioCI(r), r.cmp.String()))
			}
		}
		if len(beaten) > 0 {
			out = append(out, fmt.Sprintf("**%s** (%s): %s", g.name, unitWord(unit), strings.Join(beaten, "; ")))
		}
	}
	return out
}

func unitWord(unit string) string {
	switch unit {
	case "B/task":
		return "memory per task"
	case "sec/op":
		return "time"
	}
	return unit
}

func writeGroup(b *strings.Builder, r report, g *group) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	title := g.name
	if g.pkg != benchModule && g.pkg != "" {
		title = g.pkg + " " + g.name
	}
	w("### %s\n\n", title)
	if d, ok := descriptions[g.name]; ok && g.pkg == benchModule {
		w("%s\n\n", d)
	}
	if f, ok := r.charts[g]; ok {
		w("![%s](%s/%s)\n\n", g.name, r.chartRel, f)
	}
	unit := primaryUnit(g)
	units := columns(g, unit)
	base := g.variant("raw")

	w("| variant | %s | |", unitHeader(unit))
	for _, u := range units[1:] {
		w(" %s |", unitHeader(u))
	}
	w(" × raw (%s) | p |\n|---|--:|--:|", unitWord(unit))
	for range units[1:] {
		w("--:|")
	}
	w("--:|--:|\n")
	for _, v := range g.variants {
		name := v.name
		if name == "" {
			name = "—"
		}
		switch kindOf(v.name) {
		case kindAsync:
			name = "**" + name + "**"
		case kindRaw:
			name = "*" + name + "*"
		}
		ratioCell, pCell := "", ""
		if base != nil && v != base {
			if rt, ok := compare(v, base, unit); ok {
				ratioCell = fmtRatio(rt.center) + "×" + ratioCI(rt)
				if rt.runs >= 2 {
					pCell = fmt.Sprintf("%.3f", rt.cmp.P)
				}
			}
		}
		w("| %s | %s | %s |", name, cell(v, unit), pctCI(v, unit))
		for _, u := range units[1:] {
			w(" %s |", cell(v, u))
		}
		w(" %s | %s |\n", ratioCell, pCell)
	}
	w("\n")
	if n := r.notes[title]; n != "" {
		w("%s\n\n", strings.TrimSpace(n))
	}
}

// columns orders a group's units: the primary one, time per task, any
// custom metric, then B/op and allocs/op.
func columns(g *group, primary string) []string {
	seen := map[string]bool{primary: true}
	var custom []string
	for _, v := range g.variants {
		for _, val := range sortedUnits(v) {
			if !seen[val] {
				seen[val] = true
				custom = append(custom, val)
			}
		}
	}
	rank := func(u string) int {
		switch u {
		case "sec/op":
			return 0
		case "sec/task":
			return 1
		case "B/op":
			return 3
		case "allocs/op":
			return 4
		}
		return 2
	}
	sort.SliceStable(custom, func(i, j int) bool { return rank(custom[i]) < rank(custom[j]) })
	return append([]string{primary}, custom...)
}

func sortedUnits(v *variant) []string {
	units := make([]string, 0, len(v.values))
	for u := range v.values {
		units = append(units, u)
	}
	sort.Strings(units)
	return units
}

// unitHeader names a column for a reader.
func unitHeader(unit string) string {
	switch unit {
	case "sec/op":
		return "time/op"
	case "sec/task":
		return "per task"
	}
	return unit
}

// cell is a variant's median in unit, or "" if it has none.
func cell(v *variant, unit string) string {
	s, ok := v.summary(unit)
	if !ok {
		return ""
	}
	return fmtValue(s.Center, unit)
}

// crossLang pairs each cross-language workload with its Go group and
// goasync variant.
var crossLang = []struct {
	xl, goGroup, async, what string
	tasks                    int
	pkg                      string // the Go group's package; "" for the bench suite
}{
	{"XL_A_Spawn", "A_Spawn", "async", "A: spawn one task, await it", 1, ""},
	{"XL_B_All10k", "B_All10k", "async-all", "B: 10k tasks, ordered results", 10_000, ""},
	{"XL_D_Sleep1k", "D_Sleep1k", "async-all", "D: 1k tasks sleeping 1 ms", 1_000, ""},
	{"XL_X_Gather100k", "X_Gather100k", "async", "100k trivial async functions gathered", 100_000, ""},
	{"XL_LoopGather100k", "LoopGather", "async-loop-func", "event loop: 100k tasks each awaiting a trivial child, gathered (async functions, as the scripts)", 100_000, rootModule},
	{"XL_LoopGather100k", "LoopGather", "async-loop", "the same, each task and child started with `Go` and a closure", 100_000, rootModule},
}

func writeCrossLanguage(b *strings.Builder, r report) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	var xls []*group
	for _, g := range r.groups {
		if strings.HasPrefix(g.name, "XL_") {
			xls = append(xls, g)
		}
	}
	if len(xls) == 0 {
		return
	}
	w("## Cross-language\n\n")
	w("The same jobs as async functions in Node (`Promise.all`) and CPython asyncio (`asyncio.gather`), from [`bench/crosslang`](bench/crosslang), run by the same report. Time per task (median); the ratios divide Node's and Python's time by goasync's (above 1: goasync is faster). Node and asyncio run every task on one thread; goasync runs them on GOMAXPROCS = %d threads, as a Go program would. A JavaScript async function that does not await runs to completion at once and its promise settles on the microtask queue, with no thread or stack of its own, while every Go task is a goroutine that the scheduler may run on another thread: that is why Node can win the trivial jobs. The last two rows are the event loop's job: goasync runs it inside `RunLoop`, one task at a time like Node and asyncio, where a task that does not block costs no goroutine of its own and a child awaited before it started runs at once in its parent's turn; each task awaits a trivial child (in asyncio, a coroutine awaited directly, its cheapest form). The scripts write the task and the child as async functions called with an argument; the first of the two rows does the same with `async.Func` (the README's equivalent of an async function: one allocation per call), the second starts each with `Go` and a closure capturing the argument (two allocations per call).\n\n", r.machine.GOMAXPROCS)
	w("| job | raw Go | goasync | Node | Python | Node ÷ goasync | Python ÷ goasync |\n|---|--:|--:|--:|--:|--:|--:|\n")
	for _, c := range crossLang {
		gx := findXL(xls, c.xl)
		gg := findGroup(r.groups, c.goGroup)
		if c.pkg != "" {
			gg = findGroupIn(r.groups, c.pkg, c.goGroup)
		}
		var raw, as, node, py *variant
		if gg != nil {
			raw, as = gg.variant("raw"), gg.variant(c.async)
		}
		if gx != nil {
			node, py = gx.variant("node"), gx.variant("python")
		}
		per := func(v *variant) string {
			if v == nil {
				return "—"
			}
			s, ok := v.summary("sec/op")
			if !ok {
				return "—"
			}
			return fmtValue(s.Center/float64(c.tasks), "sec/task")
		}
		rat := func(v *variant) string {
			if v == nil || as == nil {
				return "—"
			}
			rt, ok := compare(v, as, "sec/op")
			if !ok {
				return "—"
			}
			return fmtRatio(rt.center) + "×" + ratioCI(rt)
		}
		w("| %s | %s | %s | %s | %s | %s | %s |\n", c.what, per(raw), per(as), per(node), per(py), rat(node), rat(py))
	}
	w("\n")
}

func findXL(groups []*group, name string) *group {
	for _, g := range groups {
		if g.name == name {
			return g
		}
	}
	return nil
}
