package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// A setting is how long each top-level benchmark whose name starts with
// prefix runs (go test's -benchtime). The workloads differ by five orders of
// magnitude in time per operation, so one -benchtime cannot suit them all;
// these keep a full report under about 15 minutes on 2 cores.
type setting struct {
	prefix    string
	benchtime string
	// isolate runs each sub-benchmark, and each of its -count runs, in a
	// process of its own (workload E: a process reuses the runtime's
	// goroutine descriptors, so only a first measurement is honest).
	isolate bool
}

var settings = []setting{
	{prefix: "BenchmarkA_", benchtime: "300ms"},
	{prefix: "BenchmarkB_", benchtime: "300ms"},
	{prefix: "BenchmarkC_", benchtime: "300ms"},
	{prefix: "BenchmarkD_", benchtime: "300ms"},
	{prefix: "BenchmarkE_", benchtime: "1x", isolate: true},
	{prefix: "BenchmarkF_", benchtime: "300ms"},
	{prefix: "BenchmarkG_", benchtime: "2x"},
	{prefix: "BenchmarkH_", benchtime: "300ms"},
	{prefix: "BenchmarkI_", benchtime: "1x"}, // 1M records: seconds per op
	{prefix: "BenchmarkX_", benchtime: "300ms"},
	// dist on a 3-node cluster: a fixed count of tasks, enough to outlast
	// the cluster's first moments after the streams are made.
	{prefix: "BenchmarkDistCluster", benchtime: "5000x"},
	{prefix: "Benchmark", benchtime: "300ms"}, // everything else
}

func settingFor(name string) setting {
	for _, s := range settings {
		if strings.HasPrefix(name, s.prefix) {
			return s
		}
	}
	return settings[len(settings)-1]
}

// A pkg is a compiled test binary with benchmarks.
type pkg struct {
	importPath string
	dir        string
	binary     string
	benchmarks []string // top-level names
	subs       map[string][]string
}

type runner struct {
	root      string
	quick     bool
	count     int
	filter    string
	crosslang bool
	log       []string // what ran, and what failed, for the report
	failures  int      // benchmarks or scripts that failed

	tmp      string
	bar      *progressbar.ProgressBar
	barState string
	out      bytes.Buffer
}

func (r *runner) logf(format string, args ...any) {
	r.log = append(r.log, fmt.Sprintf(format, args...))
}

// fail logs a failure and counts it.
func (r *runner) fail(format string, args ...any) {
	r.failures++
	msg := fmt.Sprintf("FAILED: "+format, args...)
	r.log = append(r.log, msg)
	fmt.Fprintln(os.Stderr, "\n"+msg)
}

// runAll builds every test binary with benchmarks, runs each benchmark once
// to check it works and to learn its sub-benchmarks, then (unless quick) runs
// them all -count times, then the cross-language scripts. It returns the
// combined output in Go's benchmark format.
func (r *runner) runAll(ctx context.Context) ([]byte, error) {
	var err error
	r.tmp, err = os.MkdirTemp("", "goasync-report-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(r.tmp)

	pkgs, err := r.buildAll(ctx)
	if err != nil {
		return nil, err
	}
	var filter *regexp.Regexp
	if r.filter != "" {
		if filter, err = regexp.Compile(r.filter); err != nil {
			return nil, err
		}
	}
	for _, p := range pkgs {
		if err := r.list(ctx, p, filter); err != nil {
			r.fail("%s: listing benchmarks failed: %v", p.importPath, err)
		}
	}

	// The check pass: every benchmark once. In quick mode it is the run.
	total := 0
	for _, p := range pkgs {
		total += len(p.benchmarks)
	}
	r.newBar(total, "checking")
	var quickOut bytes.Buffer
	for _, p := range pkgs {
		for _, b := range p.benchmarks {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			r.bar.Describe(fmt.Sprintf("%-12s %s", "checking", short(b)))
			var extra []string
			if p.importPath == benchModule {
				extra = r.smallE()
			}
			text, err := r.exec(ctx, p.dir, p.binary, r.benchArgs("^"+b+"$", "1x", 1, extra...)...)
			p.subs[b] = subNames(text, b)
			if err != nil {
				r.fail("%s %s: %v\n%s", p.importPath, b, err, tail(text))
			}
			quickOut.Write(text)
			_ = r.bar.Add(1)
		}
	}
	_ = r.bar.Finish()
	fmt.Fprintln(os.Stderr)
	if r.quick {
		r.out.Write(quickOut.Bytes())
		if r.crosslang {
			r.newBar(2*scriptWorkloads, "cross-language")
			r.runScripts(ctx, 1, "0.02")
			_ = r.bar.Finish()
			fmt.Fprintln(os.Stderr)
		}
		return r.out.Bytes(), nil
	}

	// The measured pass.
	total = 0
	for _, p := range pkgs {
		for _, b := range p.benchmarks {
			total += max(1, len(p.subs[b])) * r.count
		}
	}
	scripts := 0
	if r.crosslang {
		scripts = 2 * scriptWorkloads * r.count
	}
	r.newBar(total+scripts, "measuring")
	for _, p := range pkgs {
		for _, b := range p.benchmarks {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			s := settingFor(b)
			r.bar.Describe(fmt.Sprintf("%-12s %s", "measuring", short(b)))
			if s.isolate {
				r.runIsolated(ctx, p, b, s)
				continue
			}
			r.logf("%s: go test -run '^$' -bench '^%s$' -benchmem -count %d -benchtime %s", p.importPath, b, r.count, s.benchtime)
			text, err := r.exec(ctx, p.dir, p.binary, r.benchArgs("^"+b+"$", s.benchtime, r.count)...)
			if err != nil {
				r.fail("%s %s: %v\n%s", p.importPath, b, err, tail(text))
			}
			r.out.Write(text)
		}
	}
	if r.crosslang {
		r.runScripts(ctx, r.count, "0.5")
	}
	_ = r.bar.Finish()
	fmt.Fprintln(os.Stderr)
	return r.out.Bytes(), nil
}

// smallE is the suite's extra argument for check runs: workload E with
// fewer tasks.
func (r *runner) smallE() []string {
	if r.quick {
		return []string{"-pending=100000"}
	}
	return []string{"-pending=1000"}
}

// isolatedParallel is how many isolated processes run at once. Isolated
// benchmarks (workload E) measure memory, not time, so two at a time do not
// disturb their results and halve the longest part of the report.
const isolatedParallel = 2

func (r *runner) runIsolated(ctx context.Context, p *pkg, b string, s setting) {
	r.logf("%s: each sub-benchmark of %s in its own process, %d times (%d processes at a time): go test -run '^$' -bench '^%s$/^NAME$' -benchmem -count 1 -benchtime %s",
		p.importPath, b, r.count, isolatedParallel, b, s.benchtime)
	type job struct {
		sub  string
		text []byte
		err  error
	}
	var jobs []*job
	for _, sub := range p.subs[b] {
		for range r.count {
			jobs = append(jobs, &job{sub: sub})
		}
	}
	sem := make(chan struct{}, isolatedParallel)
	var wg sync.WaitGroup
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			j.text, j.err = r.exec(ctx, p.dir, p.binary, r.benchArgs("^"+b+"$/^"+regexp.QuoteMeta(j.sub)+"$", s.benchtime, 1)...)
		}()
	}
	wg.Wait()
	for _, j := range jobs {
		if j.err != nil {
			r.fail("%s %s/%s: %v\n%s", p.importPath, b, j.sub, j.err, tail(j.text))
		}
		r.out.Write(j.text)
	}
}

func (r *runner) benchArgs(re, benchtime string, count int, extra ...string) []string {
	args := []string{"-test.run=^$", "-test.bench=" + re, "-test.benchmem",
		"-test.benchtime=" + benchtime, fmt.Sprintf("-test.count=%d", count)}
	return append(args, extra...)
}

// exec runs a benchmark binary (or script) in dir, counting result lines on
// the progress bar as they arrive. It returns everything the process printed.
func (r *runner) exec(ctx context.Context, dir, bin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var text bytes.Buffer
	sc := bufio.NewScanner(pipe)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		text.Write(line)
		text.WriteByte('\n')
		if r.barState != "checking" && isResult(line) {
			_ = r.bar.Add(1)
		}
	}
	err = cmd.Wait()
	text.Write(stderr.Bytes())
	return text.Bytes(), err
}

// isResult reports whether line is a benchmark result line.
func isResult(line []byte) bool {
	return bytes.HasPrefix(line, []byte("Benchmark")) && bytes.Contains(line, []byte("/op"))
}

func (r *runner) newBar(total int, what string) {
	r.barState = what
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(30),
	}
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		// In CI logs, redraw rarely.
		opts = append(opts, progressbar.OptionThrottle(5*time.Second))
	} else {
		opts = append(opts, progressbar.OptionThrottle(100*time.Millisecond))
	}
	r.bar = progressbar.NewOptions(total, opts...)
}

// subNames returns the sub-benchmarks of top that text reports results for,
// in order, without the GOMAXPROCS suffix.
func subNames(text []byte, top string) []string {
	var subs []string
	seen := map[string]bool{}
	for _, line := range bytes.Split(text, []byte("\n")) {
		if !isResult(line) {
			continue
		}
		name := string(bytes.Fields(line)[0])
		name = strings.TrimPrefix(name, top)
		if !strings.HasPrefix(name, "/") {
			continue
		}
		name = trimProcs(name[1:])
		if !seen[name] {
			seen[name] = true
			subs = append(subs, name)
		}
	}
	return subs
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

func trimProcs(name string) string { return procsSuffix.ReplaceAllString(name, "") }

func short(name string) string { return strings.TrimPrefix(name, "Benchmark") }

// tail returns the last lines of a failed run's output, for the log.
func tail(text []byte) string {
	lines := strings.Split(strings.TrimSpace(string(text)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// repoRoot is the directory of the go.work that includes bench.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOWORK").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOWORK: %w", err)
	}
	work := strings.TrimSpace(string(out))
	if work == "" || work == "off" {
		return "", fmt.Errorf("run the report from the goasync repository (it needs the go.work at its root)")
	}
	root := filepath.Dir(work)
	if _, err := os.Stat(filepath.Join(root, "bench", "go.mod")); err != nil {
		return "", fmt.Errorf("%s has no bench module", root)
	}
	return root, nil
}
