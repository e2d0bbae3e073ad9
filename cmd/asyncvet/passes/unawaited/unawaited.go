// Package unawaited defines an Analyzer that reports futures whose result
// nobody will ever read.
//
// # Analyzer unawaited
//
// unawaited: report futures that are discarded or never awaited
//
// A future from github.com/goasync/async (async.Go, Spawn, Submit, Then,
// Catch, Rejected, Offload, dist.Call, a call of a function made by
// async.Func, or any other call that returns a *async.Future) holds the
// task's result and error. If the future is discarded, assigned to _, or
// kept in a local variable that is never awaited, passed on, returned or
// stored, its result and any error would be lost:
//
//	async.Go(ctx, save)          // reported
//	f := async.Go(ctx, save)
//	f.Cancel()                   // reported: f is only canceled, never read
//
// Await the future (f.Await, async.All, ...), return it, or hand it to
// whoever will. Calling only Cancel on it, or assigning it to _, does not
// count as reading it. A discarded async.Spawn future, or a future started
// in event-loop code (inside async.RunLoop), loses only its value: the
// scope, or the loop, still reports the failure; the message says so. async.Resolved and Promise.Future are not reported:
// they start no work and lose nothing.
package unawaited

import (
	"fmt"
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/goasync/async/cmd/asyncvet/internal/asyncapi"
)

const analyzerName = "unawaited"

const doc = `report futures that are discarded or never awaited

A future from github.com/goasync/async (Go, Spawn, Submit, Then, Catch,
Rejected, Offload, dist.Call, an async.Func function's call, or any call
returning a *async.Future) that is discarded, assigned to _, or kept in a
local variable that is never awaited, passed on, returned or stored loses
its result and any error. Await it, return it, or hand it on.`

// Analyzer reports futures whose result would be lost.
var Analyzer = &analysis.Analyzer{
	Name:     analyzerName,
	Doc:      doc,
	URL:      "https://pkg.go.dev/github.com/goasync/async/cmd/asyncvet/passes/unawaited",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

func run(pass *analysis.Pass) (any, error) {
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	info := pass.TypesInfo
	loop := asyncapi.LoopBodies(info, pass.Files)
	for cur := range in.Root().Preorder((*ast.CallExpr)(nil)) {
		call := cur.Node().(*ast.CallExpr)
		if !asyncapi.StartsFuture(info, call) {
			continue
		}
		name := asyncapi.CallName(info, call)
		rep := reporter{pass: pass, call: call, name: name, inLoop: loop[innermostBody(cur)]}
		parent := cur.Parent()
		for {
			if _, ok := parent.Node().(*ast.ParenExpr); !ok {
				break
			}
			parent = parent.Parent()
		}
		switch p := parent.Node().(type) {
		case *ast.ExprStmt, *ast.DeferStmt, *ast.GoStmt:
			rep.report("the future from %s is discarded", "")
		case *ast.AssignStmt:
			if len(p.Lhs) == len(p.Rhs) {
				for i, r := range p.Rhs {
					if ast.Unparen(r) == call {
						checkTarget(rep, cur, p.Lhs[i])
					}
				}
			}
		case *ast.ValueSpec:
			if len(p.Names) == len(p.Values) {
				for i, r := range p.Values {
					if ast.Unparen(r) == call {
						checkTarget(rep, cur, p.Names[i])
					}
				}
			}
		}
	}
	return nil, nil
}

// checkTarget reports call if lhs, where its future is stored, is _ or a
// local variable whose value is never read.
func checkTarget(r reporter, cur inspector.Cursor, lhs ast.Expr) {
	pass := r.pass
	id, ok := ast.Unparen(lhs).(*ast.Ident)
	if !ok {
		return // stored in a field, an element, through a pointer: passed on
	}
	if id.Name == "_" {
		r.report("the future from %s is assigned to _", "")
		return
	}
	v := asyncapi.ObjectOf(pass.TypesInfo, id)
	if !asyncapi.IsLocal(v) {
		return
	}
	// Every use of v is inside the function that declares it.
	var fn inspector.Cursor
	for c := range cur.Enclosing((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
		if asyncapi.Within(v.Pos(), c.Node()) {
			fn = c
			break
		}
	}
	if !fn.Valid() || read(pass.TypesInfo, fn, v) {
		return
	}
	r.report("the future from %s is stored in "+v.Name()+" but never awaited",
		"; await "+v.Name()+" (or pass it to async.All), return it, or hand it on")
}

// read reports whether any use of v under fn reads its value. Assigning to
// v, assigning v to _, and calling v.Cancel() do not read it.
func read(info *types.Info, fn inspector.Cursor, v *types.Var) bool {
	for c := range fn.Preorder((*ast.Ident)(nil)) {
		id := c.Node().(*ast.Ident)
		if info.Uses[id] != v {
			continue
		}
		parent := c.Parent()
		switch p := parent.Node().(type) {
		case *ast.AssignStmt:
			if isLhs(p, id) {
				continue // overwritten, not read
			}
			if len(p.Lhs) == len(p.Rhs) {
				blank := false
				for i, r := range p.Rhs {
					if ast.Unparen(r) == id {
						l, ok := p.Lhs[i].(*ast.Ident)
						blank = ok && l.Name == "_"
					}
				}
				if blank {
					continue // _ = f only silences the compiler
				}
			}
		case *ast.SelectorExpr:
			if p.X == id && p.Sel.Name == "Cancel" {
				if call, ok := parent.Parent().Node().(*ast.CallExpr); ok && call.Fun == p {
					continue // canceling is not reading
				}
			}
		}
		return true
	}
	return false
}

func isLhs(a *ast.AssignStmt, id *ast.Ident) bool {
	for _, l := range a.Lhs {
		if l == id {
			return true
		}
	}
	return false
}

type reporter struct {
	pass   *analysis.Pass
	call   *ast.CallExpr
	name   string
	inLoop bool // the call is event-loop code: the loop takes charge of failures
}

func (r reporter) report(what, fix string) {
	lost := ": its result and any error would be lost"
	if fix == "" {
		fix = "; await it (Await, async.All), return it, or hand it on"
	}
	switch {
	case asyncapi.IsFunc(asyncapi.Callee(r.pass.TypesInfo, r.call), asyncapi.Path, "Spawn"):
		// The scope reports a spawned task's failure; only the value is lost.
		lost = ": its value would be lost (its failure still reaches Scope.Wait)"
		fix = "; use Scope.Go if only the error matters"
	case r.inLoop:
		// RunLoop waits for its tasks and returns the failures nobody
		// observed; only the value is lost.
		lost = ": its value would be lost (its failure still fails RunLoop)"
		fix = "; await it, or start it with Scope.Go if only the error matters"
	}
	asyncapi.Report(r.pass, analyzerName, analysis.Diagnostic{
		Pos:     r.call.Pos(),
		End:     r.call.End(),
		Message: fmt.Sprintf(what, r.name) + lost + fix,
	})
}

// innermostBody returns the body of the function that contains cur.
func innermostBody(cur inspector.Cursor) *ast.BlockStmt {
	for c := range cur.Enclosing((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
		switch f := c.Node().(type) {
		case *ast.FuncDecl:
			return f.Body
		case *ast.FuncLit:
			return f.Body
		}
	}
	return nil
}
