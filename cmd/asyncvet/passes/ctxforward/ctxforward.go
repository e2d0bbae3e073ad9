// Package ctxforward defines an Analyzer that reports context.Background()
// and context.TODO() passed to the async library where a context is at hand.
//
// # Analyzer ctxforward
//
// ctxforward: report a fresh root context passed to the library when ctx is in scope
//
// A task started with context.Background() (or TODO) cannot be canceled by
// the caller: when the caller's ctx ends, its deadline passes, or its
// request is abandoned, the task runs on, and an Await on Background waits
// for ever. Inside a function that received a context.Context parameter
// (its own, or an enclosing function's for a closure), pass it:
//
//	func handle(ctx context.Context) {
//		f := async.Go(context.Background(), work) // reported: pass ctx
//	}
//
// A task that must outlive ctx on purpose should say so with
// context.WithoutCancel(ctx), which keeps ctx's values; that is not
// reported. Contexts made locally (a worker's lifetime in main, say) do not
// count: only a parameter says "the caller's context". A suggested fix
// replaces the call with the parameter.
package ctxforward

import (
	"fmt"
	"go/ast"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/goasync/async/cmd/asyncvet/internal/asyncapi"
)

const analyzerName = "ctxforward"

const doc = `report a fresh root context passed to the library when ctx is in scope

context.Background() or context.TODO() passed to github.com/goasync/async
(or to a function made by async.Func) inside a function that has a
context.Context parameter cuts the task, or the wait, off from the
caller's cancellation. Pass the parameter; use context.WithoutCancel(ctx)
for a task that must outlive it on purpose.`

// Analyzer reports root contexts passed to the library where one is in scope.
var Analyzer = &analysis.Analyzer{
	Name:     analyzerName,
	Doc:      doc,
	URL:      "https://pkg.go.dev/github.com/goasync/async/cmd/asyncvet/passes/ctxforward",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

func run(pass *analysis.Pass) (any, error) {
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	info := pass.TypesInfo
	for cur := range in.Root().Preorder((*ast.CallExpr)(nil)) {
		call := cur.Node().(*ast.CallExpr)
		if !toLibrary(info, call) {
			continue
		}
		for _, arg := range call.Args {
			root, ok := ast.Unparen(arg).(*ast.CallExpr)
			if !ok {
				continue
			}
			fn := asyncapi.Callee(info, root)
			if !asyncapi.IsFunc(fn, "context", "Background", "TODO") {
				continue
			}
			v := contextInScope(pass, root)
			if v == nil {
				continue
			}
			why := "cancellation reaches the task"
			if _, blocks := asyncapi.BlocksOnFutures(asyncapi.Callee(info, call)); blocks {
				why = "the wait ends when " + v.Name() + " does"
			}
			asyncapi.Report(pass, analyzerName, analysis.Diagnostic{
				Pos: root.Pos(),
				End: root.End(),
				Message: fmt.Sprintf("context.%s() passed to %s although %s is in scope: pass %s so %s "+
					"(or context.WithoutCancel(%s) if it must outlive it)",
					fn.Name(), asyncapi.CallName(info, call), v.Name(), v.Name(), why, v.Name()),
				SuggestedFixes: []analysis.SuggestedFix{{
					Message:   "pass " + v.Name(),
					TextEdits: []analysis.TextEdit{{Pos: root.Pos(), End: root.End(), NewText: []byte(v.Name())}},
				}},
			})
		}
	}
	return nil, nil
}

// toLibrary reports whether call goes to the library or one of its
// packages, or to a function value that returns a future (what async.Func
// makes).
func toLibrary(info *types.Info, call *ast.CallExpr) bool {
	if fn := asyncapi.Callee(info, call); fn != nil {
		// Exported API only: inside the library, unexported helpers are
		// its own business.
		p := fn.Pkg()
		return p != nil && fn.Exported() && (p.Path() == asyncapi.Path || strings.HasPrefix(p.Path(), asyncapi.Path+"/"))
	}
	tv, ok := info.Types[call.Fun]
	return ok && tv.IsValue() && asyncapi.StartsFuture(info, call)
}

// contextInScope returns the context.Context parameter of the innermost
// enclosing function that has one (a closure sees its outer function's), or
// nil. Only parameters count: a context the caller handed in is the one
// whose cancellation should reach the task, while a local context may have
// been made for another purpose (a worker's lifetime, say).
func contextInScope(pass *analysis.Pass, call *ast.CallExpr) *types.Var {
	pkgScope := pass.Pkg.Scope()
	for s := pkgScope.Innermost(call.Pos()); s != nil && s != pkgScope && s != types.Universe; s = s.Parent() {
		var best *types.Var
		for _, name := range s.Names() {
			v, ok := s.Lookup(name).(*types.Var)
			if !ok || name == "_" || !asyncapi.IsContext(v.Type()) || !isParam(pass, v) {
				continue
			}
			if best == nil || v.Pos() < best.Pos() {
				best = v
			}
		}
		if best != nil {
			return best
		}
	}
	return nil
}

// isParam reports whether v is a parameter of a function declared or
// written in this package.
func isParam(pass *analysis.Pass, v *types.Var) bool {
	for _, f := range pass.Files {
		if f.FileStart > v.Pos() || v.Pos() >= f.FileEnd {
			continue
		}
		found := false
		ast.Inspect(f, func(n ast.Node) bool {
			if found || n == nil || !asyncapi.Within(v.Pos(), n) {
				return false
			}
			if ft, ok := n.(*ast.FuncType); ok && ft.Params != nil {
				for _, fld := range ft.Params.List {
					for _, id := range fld.Names {
						if pass.TypesInfo.Defs[id] == v {
							found = true
						}
					}
				}
			}
			return !found
		})
		return found
	}
	return false
}
