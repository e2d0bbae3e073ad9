package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/goasync/async/cmd/asyncvet/internal/vettest"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "asyncvet-test")
	if err != nil {
		panic(err)
	}
	toolDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

var (
	toolDir   string // removed after the tests
	buildOnce sync.Once
	toolPath  string
	buildErr  error
)

// buildTool builds asyncvet once for every test that runs it.
func buildTool(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		toolPath = filepath.Join(toolDir, "asyncvet")
		if runtime.GOOS == "windows" {
			toolPath += ".exe"
		}
		out, err := exec.Command("go", "build", "-o", toolPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return toolPath
}

// userModule writes a module that uses the stub of the library (copied
// from testdata, with a go.mod) and has one file, main.go, with src.
func userModule(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	stub := filepath.Join(vettest.TestData(), "src", "github.com", "goasync", "async")
	write := func(name, content string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(stub, "async.go"))
	if err != nil {
		t.Fatal(err)
	}
	write("async/async.go", string(b))
	write("async/go.mod", "module github.com/goasync/async\n\ngo 1.25\n")
	write("go.mod", "module example.com/user\n\ngo 1.25\n\nrequire github.com/goasync/async v0.0.0\n\nreplace github.com/goasync/async => ./async\n")
	write("main.go", src)
	return dir
}

// run runs name with args in dir, offline and outside any workspace, and
// returns its combined output and exit code.
func run(t *testing.T, dir, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	return "", -1
}

const buggy = `package main

import (
	"context"

	"github.com/goasync/async"
)

func work(ctx context.Context) (int, error) { return 1, nil }

func main() {
	ctx := context.Background()
	async.Go(ctx, work)
}
`

const clean = `package main

import (
	"context"
	"fmt"

	"github.com/goasync/async"
)

func work(ctx context.Context) (int, error) { return 1, nil }

func main() {
	ctx := context.Background()
	fmt.Println(async.Go(ctx, work).Await(ctx))
}
`

const finding = "main.go:13:2: the future from async.Go is discarded"

// TestStandalone checks asyncvet run on its own: findings on stderr as
// file:line:col: message, exit 3 for findings (1 is kept for errors, as in
// every golang.org/x/tools driver), 0 when clean, a check turned off with
// -NAME=false.
func TestStandalone(t *testing.T) {
	bin := buildTool(t)
	out, code := run(t, userModule(t, buggy), bin, "./...")
	if code != 3 || !strings.Contains(out, finding) {
		t.Errorf("buggy module: exit %d, output:\n%s\nwant exit 3 and %q", code, out, finding)
	}
	out, code = run(t, userModule(t, clean), bin, "./...")
	if code != 0 || out != "" {
		t.Errorf("clean module: exit %d, output:\n%s\nwant exit 0 and no output", code, out)
	}
	out, code = run(t, userModule(t, buggy), bin, "-unawaited=false", "./...")
	if code != 0 || out != "" {
		t.Errorf("-unawaited=false: exit %d, output:\n%s\nwant exit 0 and no output", code, out)
	}
	out, code = run(t, userModule(t, "package main\n\nfunc main() { undefined() }\n"), bin, "./...")
	if code != 1 || !strings.Contains(out, "undefined") {
		t.Errorf("broken module: exit %d, output:\n%s\nwant exit 1 and the type error", code, out)
	}
}

// TestVetTool checks asyncvet as go vet's -vettool: go vet prints the
// findings as file:line:col: message and exits 1, and 0 when clean.
func TestVetTool(t *testing.T) {
	bin := buildTool(t)
	out, code := run(t, userModule(t, buggy), "go", "vet", "-vettool="+bin, "./...")
	if code != 1 || !strings.Contains(out, finding) {
		t.Errorf("go vet on the buggy module: exit %d, output:\n%s\nwant exit 1 and %q", code, out, finding)
	}
	out, code = run(t, userModule(t, clean), "go", "vet", "-vettool="+bin, "./...")
	if code != 0 || out != "" {
		t.Errorf("go vet on the clean module: exit %d, output:\n%s\nwant exit 0 and no output", code, out)
	}
	out, code = run(t, userModule(t, buggy), "go", "vet", "-vettool="+bin, "-unawaited=false", "./...")
	if code != 0 {
		t.Errorf("go vet -unawaited=false: exit %d, output:\n%s\nwant exit 0", code, out)
	}
}

// TestFix checks that -fix applies awaitloop's suggested fix and that the
// result still builds.
func TestFix(t *testing.T) {
	bin := buildTool(t)
	dir := userModule(t, `package main

import (
	"context"
	"fmt"

	"github.com/goasync/async"
)

func fetch(ctx context.Context, id int) (string, error) { return fmt.Sprint(id), nil }

func main() {
	ctx := context.Background()
	ids := []int{1, 2, 3}
	for _, id := range ids {
		body, err := async.Go(ctx, func(ctx context.Context) (string, error) { return fetch(ctx, id) }).Await(ctx)
		fmt.Println(body, err)
	}
}
`)
	if out, code := run(t, dir, bin, "-fix", "./..."); code == 1 {
		t.Fatalf("asyncvet -fix: exit %d\n%s", code, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte("futures[i] = async.Go(")) || !bytes.Contains(got, []byte("futures[i].Await(ctx)")) {
		t.Errorf("after -fix, main.go is:\n%s\nwant the tasks started in a loop of their own", got)
	}
	if out, code := run(t, dir, "go", "build", "./..."); code != 0 {
		t.Errorf("the fixed program does not build: %s", out)
	}
	if out, code := run(t, dir, bin, "./..."); code != 0 {
		t.Errorf("asyncvet still reports after -fix: exit %d\n%s", code, out)
	}
}

// TestGodocExamplesAreClean runs every check over the real library's
// root module (every package, tests included) and dist, and requires no
// finding inside their godoc examples (func Example...): the
// documentation must not show a mistake.
func TestGodocExamplesAreClean(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the real package")
	}
	cfg := &packages.Config{
		Mode:  packages.LoadAllSyntax,
		Dir:   filepath.Join("..", ".."),
		Tests: true,
	}
	pkgs, err := packages.Load(cfg, "./...", "github.com/goasync/async/dist")
	if err != nil {
		t.Fatal(err)
	}
	if packages.PrintErrors(pkgs) > 0 {
		t.Fatal("the library's packages do not load")
	}
	graph, err := checker.Analyze(analyzers, pkgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The godoc examples: every func Example... in a _test.go file.
	type span struct {
		file       string
		start, end int // lines
	}
	var examples []span
	seen := map[string]bool{}
	for _, p := range pkgs {
		for _, f := range p.Syntax {
			name := p.Fset.Position(f.Pos()).Filename
			if !strings.HasSuffix(name, "_test.go") || seen[name] {
				continue
			}
			seen[name] = true
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "Example") {
					examples = append(examples, span{name, p.Fset.Position(fd.Pos()).Line, p.Fset.Position(fd.End()).Line})
				}
			}
		}
	}
	if len(examples) == 0 {
		t.Fatal("found no godoc example to check")
	}
	t.Logf("checking %d godoc examples", len(examples))
	inExample := func(pos token.Position) bool {
		for _, e := range examples {
			if e.file == pos.Filename && e.start <= pos.Line && pos.Line <= e.end {
				return true
			}
		}
		return false
	}
	for act := range graph.All() {
		if !act.IsRoot {
			continue
		}
		for _, d := range act.Diagnostics {
			pos := act.Package.Fset.Position(d.Pos)
			if inExample(pos) {
				t.Errorf("%s: %s: %s", pos, act.Analyzer.Name, d.Message)
			}
		}
	}
}
