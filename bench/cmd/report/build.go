package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

const (
	rootModule  = "github.com/goasync/async"
	benchModule = "github.com/goasync/async/bench"
	distModule  = "github.com/goasync/async/dist"
)

// buildAll compiles a test binary for the benchmark suite and for every
// package of the root module and of dist that has benchmarks (the root
// package's own, stream/..., dist's throughput, latency and redelivery). A package that does not build is logged and left out, so
// that one broken package does not cost the whole report.
func (r *runner) buildAll(ctx context.Context) ([]*pkg, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-f", "{{.ImportPath}}\t{{.Dir}}\t{{if .Module}}{{.Module.Path}}{{end}}", rootModule+"/...")
	cmd.Dir = r.root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v\n%s", err, stderr.String())
	}
	var suite *pkg
	var others []*pkg
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			continue
		}
		p := &pkg{importPath: f[0], dir: f[1], subs: map[string][]string{}}
		switch {
		case f[0] == benchModule:
			suite = p
		case (f[2] == rootModule || f[2] == distModule) && hasBenchmarks(f[1]):
			others = append(others, p)
		}
	}
	if suite == nil {
		return nil, fmt.Errorf("package %s not found", benchModule)
	}
	var pkgs []*pkg
	for i, p := range append([]*pkg{suite}, others...) {
		p.binary = filepath.Join(r.tmp, fmt.Sprintf("pkg%d.test", i))
		fmt.Fprintf(os.Stderr, "building %s\n", p.importPath)
		cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", p.binary, p.importPath)
		cmd.Dir = r.root
		if out, err := cmd.CombinedOutput(); err != nil {
			if p == suite {
				return nil, fmt.Errorf("building the benchmark suite: %v\n%s", err, out)
			}
			r.fail("%s: does not build, left out: %v\n%s", p.importPath, err, tail(out))
			continue
		}
		r.logf("%s: built with go test -c", p.importPath)
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

var benchFunc = regexp.MustCompile(`(?m)^func Benchmark`)

// hasBenchmarks reports whether a package directory's tests define any
// benchmark.
func hasBenchmarks(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && benchFunc.Match(b) {
			return true
		}
	}
	return false
}

// list fills p.benchmarks with the top-level benchmarks that match filter.
func (r *runner) list(ctx context.Context, p *pkg, filter *regexp.Regexp) error {
	cmd := exec.CommandContext(ctx, p.binary, "-test.list=^Benchmark")
	cmd.Dir = p.dir
	out, err := cmd.Output()
	if err != nil {
		return err
	}
	for _, name := range strings.Fields(string(out)) {
		// Paired benchmarks repeat workloads as in-process ratios; they are
		// run on their own (see bench/paired_test.go).
		if !strings.HasPrefix(name, "Benchmark") || strings.HasPrefix(name, "BenchmarkPaired") {
			continue
		}
		if filter != nil && !filter.MatchString(name) {
			continue
		}
		p.benchmarks = append(p.benchmarks, name)
	}
	return nil
}
