package main

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// A target is a performance goal of the project. Either a ratio of a
// variant to a baseline in the same group (base != ""), or an absolute bound
// on one of the variant's units. Met means the median is within the bound.
type target struct {
	area    string // the part of the library it measures
	goal    string
	group   string
	variant string
	unit    string  // tidied unit: sec/op, sec/task, B/op, allocs/op, B/task
	base    string  // baseline variant for a ratio target
	max     float64 // the bound: a ratio, or an absolute value in unit
	note    string  // how the report measures it, where that differs from the goal's wording
	pkg     string  // the package whose benchmark it is; "" for the bench suite
	// baseGroup, if set, is the group of the baseline variant (a
	// cross-language job, XL_*), whose ops do the same work as the
	// variant's.
	baseGroup string
}

// targets lists every performance goal that a ratio or an upper bound on
// time or bytes expresses (dist's latency percentiles and redelivery time
// are custom metrics, shown in their group's table): it is what
// BENCHMARKS.md reports as met or missed.
var targets = []target{
	// Futures and combinators.
	{area: "core", goal: "Go + Await of a trivial fn ≤ 1.0× raw goroutine + chan", group: "A_Spawn", variant: "async", unit: "sec/op", base: "raw", max: 1.0},
	{area: "core", goal: "Go + Await: ahead of errgroup", group: "A_Spawn", variant: "async", unit: "sec/op", base: "errgroup", max: 1.0},
	{area: "core", goal: "Go + Await: ahead of conc", group: "A_Spawn", variant: "async", unit: "sec/op", base: "conc", max: 1.0},
	{area: "core", goal: "Go + Await: ahead of lo", group: "A_Spawn", variant: "async", unit: "sec/op", base: "lo", max: 1.0},
	{area: "core", goal: "Go + Await: ≤ 3 allocs", group: "A_Spawn", variant: "async", unit: "allocs/op", max: 3},
	{area: "core", goal: "Go + Await: ≤ 200 B", group: "A_Spawn", variant: "async", unit: "B/op", max: 200},
	{area: "core", goal: "An async function's call + Await (Func): ≤ 2 allocs", group: "A_Spawn", variant: "async-func", unit: "allocs/op", max: 2},
	{area: "core", goal: "Await on a settled future ≤ 20 ns", group: "A_AwaitSettled", variant: "async", unit: "sec/op", max: 20e-9},
	{area: "core", goal: "Await on a settled future: 0 allocations", group: "A_AwaitSettled", variant: "async", unit: "allocs/op", max: 0},
	{area: "core", goal: "Go + All over 10k futures ≤ 1.05× raw WaitGroup + slice", group: "B_All10k", variant: "async-all", unit: "sec/op", base: "raw", max: 1.05},
	{area: "core", goal: "Go + All over 10k futures: ≤ 150 B per task", group: "B_All10k", variant: "async-all", unit: "B/op", max: 150 * 10_000,
		note: "150 B per task read as 1.5 MB per operation of 10k tasks (futures, closures, the futures' and results' slices)"},
	{area: "core", goal: "A pending future with its parked goroutine ≤ 2.8 KB (1M pending)", group: "E_Pending1M", variant: "async", unit: "B/task", max: 2800,
		note: "2.8 KB read as 2800 B; heap + stack bytes per task after a GC, fresh process per run"},
	// Scopes and pools.
	{area: "scopes, pools", goal: "Scope without limit, 10k trivial children ≤ 1.1× raw WaitGroup", group: "B_All10k", variant: "async-scope", unit: "sec/op", base: "raw", max: 1.1},
	{area: "scopes, pools", goal: "Scope without limit: no slower than errgroup", group: "B_All10k", variant: "async-scope", unit: "sec/op", base: "errgroup", max: 1.0},
	{area: "scopes, pools", goal: "Scope with Limit(8), 10k children ≤ 0.5× errgroup.SetLimit(8)", group: "C_Limit10k/8", variant: "async-scope", unit: "sec/op", base: "errgroup", max: 0.5},
	{area: "scopes, pools", goal: "Pool Submit+Await of a trivial task ≤ 250 ns/task with 2 workers", group: "C_Limit10k/2", variant: "async-pool", unit: "sec/task", max: 250e-9,
		note: "10k Submits to a 2-worker pool, then All over their futures"},
	{area: "scopes, pools", goal: "Pool: 10k Submit + All on 2 workers ≤ 0.55× a goroutine per task behind a 2-slot channel semaphore", group: "C_Limit10k/2", variant: "async-pool", unit: "sec/op", base: "raw-sem", max: 0.55},
	{area: "scopes, pools", goal: "A queued pool task ≤ 150 B", group: "E_Pending1M", variant: "async-pool-queued", unit: "B/task", max: 150,
		note: "1M tasks queued behind one busy worker"},
	{area: "scopes, pools", goal: "1k children each sleeping 1 ms: within 5 % of errgroup", group: "D_Sleep1k", variant: "async-scope", unit: "sec/op", base: "errgroup", max: 1.05},
	// Map, streams and Queue.
	{area: "streams", goal: "async.Map over 100k trivial elements, Limit = GOMAXPROCS: ≤ 40 ns/element", group: "H_Map100k", variant: "async-map", unit: "sec/task", max: 40e-9},
	{area: "streams", goal: "async.Map: match or beat conc's iter.Map", group: "H_Map100k", variant: "async-map", unit: "sec/op", base: "conc-iter", max: 1.0},
	{area: "streams", goal: "stream.Map ordered: ≤ 300 ns/element", group: "G_Stream1M/ordered", variant: "async-stream", unit: "sec/task", max: 300e-9,
		note: "measured over 1M items with Limit(8), not 100k"},
	{area: "streams", goal: "Pipeline of 1M JSON lines (4 parsers, batches of 500 or 50 ms, a stalling sink): stream ≥ 1.0× the hand-written channels version's throughput", group: "I_Pipeline1M", variant: "async-stream", unit: "sec/op", base: "raw", max: 1.0,
		note: "≥ 1.0× records/s read as ≤ 1.0× raw's time for the same 1M records"},
	{area: "streams", goal: "Pipeline: the same peak memory as the channels version", group: "I_Pipeline1M", variant: "async-stream", unit: "peak-heap-B", base: "raw", max: 1.1,
		note: "the largest live heap the sink saw; same read as within 10 %"},
	{area: "streams", goal: "Queue Put+Get pair, uncontended ≤ 1.2× a buffered channel", group: "Q_Queue", variant: "async", unit: "sec/op", base: "raw", max: 1.2},
	// The event loop.
	{area: "event loop", goal: "Switching between two loop tasks (Queue ping-pong) ≤ 2× a goroutine ping-pong over an unbuffered channel", group: "LoopSwitch", variant: "async-loop-queue", unit: "sec/op", base: "raw", max: 2, pkg: rootModule},
	{area: "event loop", goal: "100k loop tasks each awaiting a trivial child, gathered with All: ≥ 10× faster than CPython asyncio.gather", group: "LoopGather", variant: "async-loop-func", unit: "sec/op", base: "python", baseGroup: "XL_LoopGather100k", max: 0.1,
		note: "≥ 10× faster read as ≤ 0.1× asyncio's time for the same 100k tasks; task and child written as async functions (Func), as the scripts write them", pkg: rootModule},
	{area: "event loop", goal: "100k loop tasks each awaiting a trivial child, gathered with All: ≥ 2× faster than Node Promise.all", group: "LoopGather", variant: "async-loop-func", unit: "sec/op", base: "node", baseGroup: "XL_LoopGather100k", max: 0.5,
		note: "≥ 2× faster read as ≤ 0.5× Node's time for the same 100k tasks; task and child written as async functions (Func), as the scripts write them", pkg: rootModule},
	{area: "event loop", goal: "The same job with each task and child started by Go and a closure: ≥ 2× faster than Node Promise.all", group: "LoopGather", variant: "async-loop", unit: "sec/op", base: "node", baseGroup: "XL_LoopGather100k", max: 0.5,
		note: "not the scripts' form (they make no closure per task); shown so that the closure form's cost is visible", pkg: rootModule},
	// dist (embedded server, file storage, 4 workers; the raw baseline keeps
	// 16 tasks in flight per worker and confirms each result write before
	// the ack, as dist does).
	{area: "dist", goal: "Throughput with 4 workers ≥ 10,000 tasks/s", group: "DistThroughput", variant: "async-dist", unit: "sec/op", max: 100e-6,
		note: "≥ 10k tasks/s read as ≤ 100 µs per task", pkg: distModule},
	{area: "dist", goal: "Throughput ≥ 0.9× raw JetStream doing the same work", group: "DistThroughput", variant: "async-dist", unit: "sec/op", base: "raw", max: 1 / 0.9,
		note: "≥ 0.9× raw's tasks/s read as ≤ 1.11× raw's time per task", pkg: distModule},
	{area: "dist", goal: "On a 3-node cluster (Replicas 3) ≥ 0.8× raw JetStream on the same cluster", group: "DistCluster", variant: "async-dist", unit: "sec/op", base: "raw", max: 1 / 0.8,
		note: "three nats-server processes on loopback; ≥ 0.8× raw's tasks/s read as ≤ 1.25× raw's time per task", pkg: distModule},
}

// A verdict is a target's outcome in one report.
type verdict struct {
	t        target
	status   string // met, missed, not measured, not evaluated
	measured string // the value or ratio, with its interval
	value    float64
}

// findGroupIn finds the group name of package pkg's benchmarks.
func findGroupIn(groups []*group, pkg, name string) *group {
	for _, g := range groups {
		if g.pkg == pkg && g.name == name {
			return g
		}
	}
	return nil
}

func findGroup(groups []*group, name string) *group {
	for _, g := range groups {
		if g.name == name && !strings.HasPrefix(g.name, "XL_") && (g.pkg == benchModule || g.pkg == "") {
			return g
		}
	}
	return nil
}

func evaluate(groups []*group, quick bool) []verdict {
	var out []verdict
	for _, t := range targets {
		v := verdict{t: t, status: "not measured"}
		g := findGroup(groups, t.group)
		if t.pkg != "" {
			g = findGroupIn(groups, t.pkg, t.group)
		}
		var x *variant
		if g != nil {
			x = g.variant(t.variant)
		}
		switch {
		case x == nil:
			v.measured = "no `" + t.group + "/" + t.variant + "` result (API not landed, or its run failed)"
		case t.base != "":
			b := g.variant(t.base)
			if t.baseGroup != "" {
				b = nil
				if bg := findXL(groups, t.baseGroup); bg != nil {
					b = bg.variant(t.base)
				}
			}
			r, ok := compare(x, b, t.unit)
			if !ok {
				v.measured = "no `" + t.base + "` baseline"
				break
			}
			v.value = r.center
			v.measured = fmt.Sprintf("%s× %s", fmtRatio(r.center), t.base) + ratioCI(r)
			v.status = judge(r.center, r.lo, r.hi, t.max)
		default:
			s, ok := x.summary(t.unit)
			if !ok {
				v.measured = "no " + t.unit + " measurement"
				break
			}
			v.value = s.Center
			v.measured = fmtValue(s.Center, t.unit)
			if s.Lo != s.Hi && !math.IsInf(s.Lo, 0) {
				v.measured += fmt.Sprintf(" [%s, %s]", fmtValue(s.Lo, t.unit), fmtValue(s.Hi, t.unit))
			}
			v.status = judge(s.Center, s.Lo, s.Hi, t.max)
		}
		if quick && v.status != "not measured" {
			v.status = "not evaluated (quick mode)"
		}
		out = append(out, v)
	}
	return out
}

// judge says met or missed from the median, and adds "within noise" when
// the interval straddles the bound.
func judge(center, lo, hi, bound float64) string {
	const eps = 1e-12
	s := "met"
	if center > bound+eps*math.Max(1, math.Abs(bound)) {
		s = "missed"
	}
	if lo <= bound && hi > bound && lo != hi {
		s += " (within noise)"
	}
	return s
}

func boundString(t target) string {
	if t.baseGroup != "" {
		return fmt.Sprintf("≤ %s× %s", fmtRatio(t.max), t.base)
	}
	if t.base != "" {
		return fmt.Sprintf("≤ %s× %s", fmtRatio(t.max), t.base)
	}
	return "≤ " + fmtValue(t.max, t.unit)
}

// printTargets prints the targets to the terminal at the end of a run.
func printTargets(w io.Writer, groups []*group, quick bool) {
	fmt.Fprintln(w, "targets:")
	for _, v := range evaluate(groups, quick) {
		fmt.Fprintf(w, "  %-13s %-28s %-14s %s (%s)\n", v.t.area, v.status, boundString(v.t), v.t.goal, v.measured)
	}
}
