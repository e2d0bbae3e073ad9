package main

import (
	"context"
	"os/exec"
	"path/filepath"
)

// scriptWorkloads is how many workloads each script runs (A, B, D, 100k).
const scriptWorkloads = 4

// runScripts runs bench/crosslang's Node and Python scripts, which print Go
// benchmark lines, and adds their output to the results.
func (r *runner) runScripts(ctx context.Context, count int, benchtime string) {
	dir := filepath.Join(r.root, "bench", "crosslang")
	scripts := []struct{ name, bin, file string }{
		{"Node", "node", "gather.mjs"},
		{"Python", pythonBinary(), "gather.py"},
	}
	for _, s := range scripts {
		if ctx.Err() != nil {
			return
		}
		r.bar.Describe("measuring    " + s.name)
		bin, err := exec.LookPath(s.bin)
		if err != nil {
			r.logf("crosslang: %s not found (%s): left out", s.name, s.bin)
			_ = r.bar.Add(scriptWorkloads * count)
			continue
		}
		args := []string{s.file, "-count", itoa(count), "-benchtime", benchtime}
		r.logf("crosslang: %s %s", s.bin, joinArgs(args))
		text, err := r.exec(ctx, dir, bin, args...)
		if err != nil {
			r.fail("crosslang: %s: %v\n%s", s.name, err, tail(text))
		}
		r.out.Write(text)
	}
}

// pythonBinary prefers CPython 3.11, the version the targets were set against.
func pythonBinary() string {
	if _, err := exec.LookPath("python3.11"); err == nil {
		return "python3.11"
	}
	return "python3"
}
