package asyncapi

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// stubImporter type-checks the library's stubs in the analyzers' testdata
// (github.com/goasync/async and its subpackages) and the standard library.
type stubImporter struct {
	fset *token.FileSet
	std  types.Importer
	pkgs map[string]*types.Package
}

func (im *stubImporter) Import(path string) (*types.Package, error) {
	if !strings.HasPrefix(path, Path) {
		return im.std.Import(path)
	}
	if p := im.pkgs[path]; p != nil {
		return p, nil
	}
	dir := filepath.Join("..", "..", "testdata", "src", filepath.FromSlash(path))
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".go") {
			f, err := parser.ParseFile(im.fset, filepath.Join(dir, e.Name()), nil, 0)
			if err != nil {
				return nil, err
			}
			files = append(files, f)
		}
	}
	p, err := (&types.Config{Importer: im}).Check(path, im.fset, files, nil)
	if err != nil {
		return nil, err
	}
	im.pkgs[path] = p
	return p, nil
}

// check type-checks src, a file of package p, against the stubs.
func check(t *testing.T, src string) (*ast.File, *types.Info) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	info := &types.Info{
		Types: map[ast.Expr]types.TypeAndValue{},
		Uses:  map[*ast.Ident]types.Object{},
		Defs:  map[*ast.Ident]types.Object{},
	}
	im := &stubImporter{fset: fset, std: importer.Default(), pkgs: map[string]*types.Package{}}
	if _, err := (&types.Config{Importer: im}).Check("p", fset, []*ast.File{f}, info); err != nil {
		t.Fatal(err)
	}
	return f, info
}

// calls returns the calls in f keyed by the source text of their function
// (without type arguments), and the operands of its range statements.
func calls(f *ast.File) (map[string]*ast.CallExpr, []ast.Expr) {
	m := map[string]*ast.CallExpr{}
	var ranges []ast.Expr
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			fun := n.Fun
			if ix, ok := fun.(*ast.IndexExpr); ok {
				fun = ix.X
			}
			m[types.ExprString(fun)] = n
		case *ast.RangeStmt:
			ranges = append(ranges, n.X)
		}
		return true
	})
	return m, ranges
}

const src = `package p

import (
	"context"
	"iter"

	"github.com/goasync/async"
	as "github.com/goasync/async/stream"
)

func f(ctx context.Context, in iter.Seq[int], xs []int) {
	fut := async.Go(ctx, func(context.Context) (int, error) { return 1, nil })
	fut.Await(ctx)
	async.All(ctx, fut)
	async.Resolved(1)
	as.ForEach(ctx, in, func(context.Context, int) error { return nil })
	for range as.Map(ctx, in, func(_ context.Context, v int) (int, error) { return v, nil }) {
	}
	for range in {
	}
	for range xs {
	}
	_ = len(xs)
}
`

func TestCalleesAndBlocking(t *testing.T) {
	f, info := check(t, src)
	cs, ranges := calls(f)
	for _, c := range []struct {
		call     string
		blocks   string // BlocksOnFutures' name, or "" if it does not block
		starts   bool   // StartsFuture
		name     string // CallName
		isGoFunc bool
	}{
		{"async.Go", "", true, "async.Go", true},
		{"fut.Await", "Future.Await", false, "Future.Await", false},
		{"async.All", "async.All", false, "async.All", false},
		{"async.Resolved", "", false, "async.Resolved", false},
		{"as.ForEach", "stream.ForEach", false, "stream.ForEach", false},
		{"len", "", false, "len", false},
	} {
		call := cs[c.call]
		if call == nil {
			t.Fatalf("no call %s in the source", c.call)
		}
		fn := Callee(info, call)
		name, blocks := BlocksOnFutures(fn)
		if blocks != (c.blocks != "") || name != c.blocks {
			t.Errorf("BlocksOnFutures(%s) = %q, %v; want %q", c.call, name, blocks, c.blocks)
		}
		if got := StartsFuture(info, call); got != c.starts {
			t.Errorf("StartsFuture(%s) = %v, want %v", c.call, got, c.starts)
		}
		if got := CallName(info, call); got != c.name {
			t.Errorf("CallName(%s) = %q, want %q", c.call, got, c.name)
		}
		if got := IsFunc(fn, Path, "Go"); got != c.isGoFunc {
			t.Errorf("IsFunc(%s, async.Go) = %v, want %v", c.call, got, c.isGoFunc)
		}
	}
	if !IsMethod(Callee(info, cs["fut.Await"]), Path, "Future", "Await") {
		t.Error("fut.Await is not (*Future).Await")
	}
	var got []string
	for _, x := range ranges {
		name, ok := RangesOverStream(info, x)
		if ok {
			got = append(got, name)
		}
	}
	if len(ranges) != 3 || len(got) != 1 || got[0] != "stream.Map" {
		t.Errorf("RangesOverStream over %d ranges found %v, want [stream.Map] (renamed import, plain seq and slice are not streams)", len(ranges), got)
	}
}
