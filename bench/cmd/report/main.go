// Command report runs goasync's benchmark suite, the root module's own
// benchmarks and the cross-language scripts in one invocation, summarises
// them with golang.org/x/perf's benchfmt and benchmath (the statistics
// benchstat uses), and writes BENCHMARKS.md with a table and a chart per
// workload and the performance targets shown as met or missed.
//
// From the repository root:
//
//	go run ./bench/cmd/report            # full run, -count 6: writes BENCHMARKS.md and docs/bench/
//	go run ./bench/cmd/report -quick -out /tmp/bench/BENCHMARKS.md   # one run of each, for CI
//	go run ./bench/cmd/report -from docs/bench/results.txt           # re-render saved results
//
// Quick mode runs every benchmark once (-benchtime=1x), evaluates no target
// and refuses to write the committed BENCHMARKS.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"
)

type options struct {
	quick     bool
	count     int
	out       string
	from      string
	bench     string
	crosslang bool
	args      []string // the command line, for the report
}

func main() {
	var o options
	flag.BoolVar(&o.quick, "quick", false, "run each benchmark once (-benchtime=1x, -count 1); evaluate no target; for CI")
	flag.IntVar(&o.count, "count", 6, "runs of each benchmark (at least 6 for a full report)")
	flag.StringVar(&o.out, "out", "", "report file (default BENCHMARKS.md at the repository root; required with -quick)")
	flag.StringVar(&o.from, "from", "", "re-render the report from a saved results file instead of running")
	flag.StringVar(&o.bench, "bench", "", "only run top-level benchmarks matching this regexp (a partial report)")
	flag.BoolVar(&o.crosslang, "crosslang", true, "run the Node and Python scripts of bench/crosslang")
	flag.Parse()
	o.args = os.Args[1:]

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	committed := filepath.Join(root, "BENCHMARKS.md")
	if o.quick {
		o.count = 1
		if o.out == "" {
			return fmt.Errorf("-quick needs -out: quick results must not replace the committed BENCHMARKS.md")
		}
	} else if o.count < 6 && o.from == "" {
		return fmt.Errorf("-count %d: a full report needs at least 6 runs of each benchmark (use -quick for a smoke run)", o.count)
	}
	if o.out == "" {
		o.out = committed
	}
	out, err := filepath.Abs(o.out)
	if err != nil {
		return err
	}
	if o.quick && out == committed {
		return fmt.Errorf("-quick must not overwrite %s", committed)
	}
	chartDir := filepath.Join(filepath.Dir(out), "docs", "bench")
	if err := os.MkdirAll(chartDir, 0o755); err != nil {
		return err
	}

	started := time.Now()
	m := readMachine(root)
	var raw []byte
	var runLog []string
	failures := 0
	if o.from != "" {
		raw, err = os.ReadFile(o.from)
		if err != nil {
			return err
		}
		runLog = append(runLog, "re-rendered from "+o.from)
	} else {
		r := &runner{root: root, quick: o.quick, count: o.count, filter: o.bench, crosslang: o.crosslang}
		raw, err = r.runAll(ctx)
		runLog, failures = r.log, r.failures
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(chartDir, "results.txt"), raw, 0o644); err != nil {
			return err
		}
	}
	m.LoadEnd = loadAvg()
	m.Duration = time.Since(started)

	groups, err := analyze(raw)
	if err != nil {
		return err
	}
	charts, err := drawCharts(groups, chartDir)
	if err != nil {
		return err
	}
	rel, _ := filepath.Rel(filepath.Dir(out), chartDir)
	doc := renderMarkdown(report{
		machine:  m,
		command:  "go run ./bench/cmd/report " + strings.Join(o.args, " "),
		quick:    o.quick,
		count:    o.count,
		groups:   groups,
		charts:   charts,
		chartRel: filepath.ToSlash(rel),
		log:      runLog,
		notes:    readNotes(filepath.Join(root, notesDir)),
	})
	if err := os.WriteFile(out, []byte(doc), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s (%d workloads, charts in %s) in %s\n", out, len(groups), chartDir, m.Duration.Round(time.Second))
	printTargets(os.Stdout, groups, o.quick)
	if failures > 0 {
		return fmt.Errorf("%d benchmark runs failed (see the run log in %s)", failures, out)
	}
	return nil
}
