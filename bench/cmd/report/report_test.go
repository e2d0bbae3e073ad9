package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/perf/benchfmt"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// synthetic builds benchmark output: each variant's values, one line per run.
func synthetic(pkg string, lines map[string][]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "goos: linux\ngoarch: amd64\npkg: %s\n", pkg)
	for _, name := range sortedNames(lines) {
		for _, l := range lines[name] {
			fmt.Fprintf(&b, "Benchmark%s-2 \t 100 \t %s\n", name, l)
		}
	}
	return b.String()
}

func sortedNames(m map[string][]string) []string {
	var names []string
	for k := range m {
		names = append(names, k)
	}
	// Deterministic, raw first so it is the group's first variant.
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			if names[j] < names[i] {
				names[i], names[j] = names[j], names[i]
			}
		}
	}
	return names
}

func runs(format string, vals ...float64) []string {
	var out []string
	for _, v := range vals {
		out = append(out, fmt.Sprintf(format, v))
	}
	return out
}

func TestSplitName(t *testing.T) {
	for _, c := range []struct{ in, g, v string }{
		{"BenchmarkB_All10k/async-all-2", "B_All10k", "async-all"},
		{"BenchmarkC_Limit10k/8/raw-2", "C_Limit10k/8", "raw"},
		{"BenchmarkThenChain-2", "ThenChain", ""},
		{"BenchmarkXL_A_Spawn/node", "XL_A_Spawn", "node"},
	} {
		g, v := splitName(benchfmt.Name(c.in))
		if g != c.g || v != c.v {
			t.Errorf("splitName(%q) = %q, %q; want %q, %q", c.in, g, v, c.g, c.v)
		}
	}
}

func TestKindOf(t *testing.T) {
	for v, want := range map[string]string{
		"raw": kindRaw, "raw-workers": kindRaw, "errgroup": kindPeer, "conc-iter": kindPeer,
		"lo": kindPeer, "async": kindAsync, "async-scope": kindAsync, "node": kindOther,
	} {
		if got := kindOf(v); got != want {
			t.Errorf("kindOf(%q) = %q, want %q", v, got, want)
		}
	}
}

// Ratios come from the medians, with an interval from their intervals.
func TestCompare(t *testing.T) {
	raw := synthetic(benchModule, map[string][]string{
		"A_Spawn/raw":   runs("%v ns/op", 100, 101, 99, 100, 102, 98),
		"A_Spawn/async": runs("%v ns/op", 200, 202, 198, 200, 204, 196),
	})
	groups, err := analyze([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || len(groups[0].variants) != 2 {
		t.Fatalf("got %d groups", len(groups))
	}
	g := groups[0]
	r, ok := compare(g.variant("async"), g.variant("raw"), "sec/op")
	if !ok {
		t.Fatal("no ratio")
	}
	if r.center < 1.99 || r.center > 2.01 {
		t.Errorf("ratio %v, want 2", r.center)
	}
	if !(r.lo <= r.center && r.center <= r.hi) || r.lo == r.hi {
		t.Errorf("interval [%v, %v] does not bracket %v", r.lo, r.hi, r.center)
	}
	if !r.significant() {
		t.Errorf("p = %v: two disjoint samples of 6 should differ", r.cmp.P)
	}
}

func TestEvaluate(t *testing.T) {
	raw := synthetic(benchModule, map[string][]string{
		"A_Spawn/raw":   runs("%v ns/op\t152 B/op\t2 allocs/op", 400, 401, 399, 400, 402, 398),
		"A_Spawn/async": runs("%v ns/op\t160 B/op\t3 allocs/op", 380, 381, 379, 380, 382, 378),
		"B_All10k/raw":  runs("%v ns/op", 100, 101, 99, 100, 102, 98),
		// 1.5× raw: misses 1.05×.
		"B_All10k/async-all":   runs("%v ns/op", 150, 151, 149, 150, 152, 148),
		"E_Pending1M/async":    runs("%v B/task", 2900, 2900, 2900, 2900, 2900, 2900),
		"A_AwaitSettled/async": runs("%v ns/op\t0 B/op\t0 allocs/op", 5, 5, 5, 5, 5, 5),
		"H_Map100k/async-map":  runs("%v ns/task", 30, 31, 29, 30, 30, 30),
		"H_Map100k/conc-iter":  runs("%v ns/op", 1, 1, 1, 1, 1, 1),
	})
	groups, err := analyze([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range evaluate(groups, false) {
		got[v.t.goal] = v.status
	}
	want := map[string]string{
		"Go + Await of a trivial fn ≤ 1.0× raw goroutine + chan":                    "met",
		"Go + Await: ≤ 3 allocs":                                                    "met",
		"Go + Await: ≤ 200 B":                                                       "met",
		"Await on a settled future ≤ 20 ns":                                         "met",
		"Go + All over 10k futures ≤ 1.05× raw WaitGroup + slice":                   "missed",
		"A pending future with its parked goroutine ≤ 2.8 KB (1M pending)":          "missed",
		"async.Map over 100k trivial elements, Limit = GOMAXPROCS: ≤ 40 ns/element": "met",
		"Scope with Limit(8), 10k children ≤ 0.5× errgroup.SetLimit(8)":             "not measured",
	}
	for goal, status := range want {
		if got[goal] != status {
			t.Errorf("%s: %q, want %q", goal, got[goal], status)
		}
	}
	for _, v := range evaluate(groups, true) {
		if strings.HasPrefix(v.status, "met") || strings.HasPrefix(v.status, "missed") {
			t.Errorf("quick mode judged %q: %s", v.t.goal, v.status)
		}
	}
}

func TestJudge(t *testing.T) {
	for _, c := range []struct {
		center, lo, hi, bound float64
		want                  string
	}{
		{1.0, 0.9, 1.05, 1.1, "met"},
		{1.0, 0.9, 1.2, 1.1, "met (within noise)"},
		{1.2, 1.15, 1.3, 1.1, "missed"},
		{1.15, 1.05, 1.3, 1.1, "missed (within noise)"},
		{3, 3, 3, 3, "met"},
	} {
		if got := judge(c.center, c.lo, c.hi, c.bound); got != c.want {
			t.Errorf("judge(%v, %v, %v, %v) = %q, want %q", c.center, c.lo, c.hi, c.bound, got, c.want)
		}
	}
}

// The whole pipeline on a real quick run: parse, charts, markdown.
func TestRenderQuickRun(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "quick.txt"))
	if err != nil {
		t.Fatal(err)
	}
	groups, err := analyze(raw)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	charts, err := drawCharts(groups, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(charts) == 0 {
		t.Fatal("no chart drawn")
	}
	for _, f := range charts {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("chart %s: %v", f, err)
		}
	}
	doc := renderMarkdown(report{quick: true, count: 1, groups: groups, charts: charts, chartRel: "docs/bench", machine: machine{NProc: "2"}})
	for _, want := range []string{"## Performance targets", "### A_Spawn", "### B_All10k", "![A_Spawn](docs/bench/A_Spawn.svg)", "## Cross-language", "not evaluated (quick mode)"} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if out := os.Getenv("REPORT_TEST_PNG"); out != "" {
		// For looking at a chart by hand: REPORT_TEST_PNG=/tmp/x.png go test -run RenderQuick.
		name := os.Getenv("REPORT_TEST_GROUP")
		if name == "" {
			name = "B_All10k"
		}
		if _, err := drawChart(findGroup(groups, name), out); err != nil {
			t.Fatal(err)
		}
	}
}
