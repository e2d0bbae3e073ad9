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
// for ever. Inside a function that has a context.Context in scope, pass it:
//
//	func handle(ctx context.Context) {
//		f := async.Go(context.Background(), work) // reported: pass ctx
//	}
//
// A task that must outlive ctx on purpose should say so with
// context.WithoutCancel(ctx), which keeps ctx's values; that is not
// reported. A suggested fix replaces the call with the variable in scope.
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
context.Context in scope cuts the task off from the caller's cancellation.
Pass the context in scope; use context.WithoutCancel(ctx) for a task that
must outlive it on purpose.`

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
			asyncapi.Report(pass, analyzerName, analysis.Diagnostic{
				Pos: root.Pos(),
				End: root.End(),
				Message: fmt.Sprintf("context.%s() passed to %s although %s is in scope: pass %s so cancellation reaches the task "+
					"(or context.WithoutCancel(%s) if it must outlive it)",
					fn.Name(), asyncapi.CallName(info, call), v.Name(), v.Name(), v.Name()),
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
		p := fn.Pkg()
		return p != nil && (p.Path() == asyncapi.Path || strings.HasPrefix(p.Path(), asyncapi.Path+"/"))
	}
	tv, ok := info.Types[call.Fun]
	return ok && tv.IsValue() && asyncapi.StartsFuture(info, call)
}

// contextInScope returns the innermost local variable of type
// context.Context declared before call and visible at it, or nil.
func contextInScope(pass *analysis.Pass, call *ast.CallExpr) *types.Var {
	pkgScope := pass.Pkg.Scope()
	for s := pkgScope.Innermost(call.Pos()); s != nil && s != pkgScope && s != types.Universe; s = s.Parent() {
		var best *types.Var
		for _, name := range s.Names() {
			v, ok := s.Lookup(name).(*types.Var)
			if !ok || name == "_" || v.Pos() >= call.Pos() || !asyncapi.IsContext(v.Type()) {
				continue
			}
			if best == nil || v.Pos() > best.Pos() {
				best = v // the latest declared, the most specific
			}
		}
		if best != nil {
			return best
		}
	}
	return nil
}
