// Package scopewait defines an Analyzer that reports a scope whose Wait is
// not called on every path.
//
// # Analyzer scopewait
//
// scopewait: report an async.NewScope whose Wait is not called on every path
//
// Scope.Wait is what makes a scope structured: it waits for every child
// and reports their failures. A scope made with async.NewScope and left
// without Wait on some path lets its children outlive the function, and
// their failures are lost:
//
//	s := async.NewScope(ctx) // reported: the early return skips s.Wait
//	s.Go(task)
//	if err := prepare(); err != nil {
//		return err
//	}
//	return s.Wait()
//
// Call s.Wait() on every path; a deferred call (defer s.Wait(), or inside a
// deferred function literal) counts. A scope handed to another function,
// returned, stored, or waited for in another goroutine is that code's
// business and is not reported. Paths that end in a panic are not
// reported. Where no path needs the scope to outlive the function,
// async.Run(ctx, func(s *async.Scope) error {...}) cannot forget Wait.
package scopewait

import (
	"fmt"
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/ctrlflow"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/cfg"

	"github.com/goasync/async/cmd/asyncvet/internal/asyncapi"
)

const analyzerName = "scopewait"

const doc = `report an async.NewScope whose Wait is not called on every path

A scope from async.NewScope must be waited for: Scope.Wait waits for its
children and reports their failures. A path that returns without calling
Wait (a deferred call counts) lets children outlive the function and loses
their failures. Call s.Wait() on every path, or use async.Run.`

// Analyzer reports scopes that are not waited for on every path.
var Analyzer = &analysis.Analyzer{
	Name:     analyzerName,
	Doc:      doc,
	URL:      "https://pkg.go.dev/github.com/goasync/async/cmd/asyncvet/passes/scopewait",
	Requires: []*analysis.Analyzer{inspect.Analyzer, ctrlflow.Analyzer},
	Run:      run,
}

func run(pass *analysis.Pass) (any, error) {
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	cfgs := pass.ResultOf[ctrlflow.Analyzer].(*ctrlflow.CFGs)
	info := pass.TypesInfo
	for cur := range in.Root().Preorder((*ast.CallExpr)(nil)) {
		call := cur.Node().(*ast.CallExpr)
		if !asyncapi.IsFunc(asyncapi.Callee(info, call), asyncapi.Path, "NewScope") {
			continue
		}
		parent := cur.Parent()
		var lhs ast.Expr
		var stmt ast.Node
		switch p := parent.Node().(type) {
		case *ast.ExprStmt:
			report(pass, call, "the scope from async.NewScope is discarded, so nothing can wait for it")
			continue
		case *ast.AssignStmt:
			if len(p.Lhs) == len(p.Rhs) {
				for i, r := range p.Rhs {
					if r == call {
						lhs = p.Lhs[i]
					}
				}
			}
			stmt = p
		case *ast.ValueSpec:
			if len(p.Names) == len(p.Values) {
				for i, r := range p.Values {
					if r == call {
						lhs = p.Names[i]
					}
				}
			}
			stmt = p
		}
		id, ok := lhs.(*ast.Ident)
		if !ok {
			continue // returned, stored, passed on: someone else waits
		}
		if id.Name == "_" {
			report(pass, call, "the scope from async.NewScope is assigned to _, so nothing can wait for it")
			continue
		}
		v := asyncapi.ObjectOf(info, id)
		if !asyncapi.IsLocal(v) {
			continue
		}
		// The innermost function declaring v holds every use of it.
		var g *cfg.CFG
		var fn ast.Node
		for c := range cur.Enclosing((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
			switch f := c.Node().(type) {
			case *ast.FuncDecl:
				g, fn = cfgs.FuncDecl(f), f
			case *ast.FuncLit:
				g, fn = cfgs.FuncLit(f), f
			}
			break
		}
		if g == nil || !asyncapi.Within(v.Pos(), fn) || escapes(info, fn, v) {
			continue
		}
		if ret, found := unwaitedPath(pass, g, v, stmt); found {
			where := "the end of the function"
			if ret.Return != funcBody(fn).End()-1 { // not cfg's implicit return at the closing brace
				where = fmt.Sprintf("the return on line %d", pass.Fset.Position(ret.Pos()).Line)
			}
			report(pass, call, fmt.Sprintf("%s.Wait is not called on every path: %s is reached without it", v.Name(), where))
		}
	}
	return nil, nil
}

func funcBody(fn ast.Node) *ast.BlockStmt {
	if f, ok := fn.(*ast.FuncDecl); ok {
		return f.Body
	}
	return fn.(*ast.FuncLit).Body
}

func report(pass *analysis.Pass, call *ast.CallExpr, what string) {
	asyncapi.Report(pass, analyzerName, analysis.Diagnostic{
		Pos: call.Pos(),
		End: call.End(),
		Message: what + "; the scope's children would outlive the function and their failures would be lost: " +
			"call Wait before returning (defer s.Wait() counts), or use async.Run",
	})
}

// escapes reports whether the scope in v may be waited for by other code:
// v is used other than as the receiver of a Scope method or the scope
// argument of async.Spawn, or its Wait is called from a function
// literal that is not deferred (a goroutine waiting for it, say).
func escapes(info *types.Info, fn ast.Node, v *types.Var) bool {
	escaped := false
	var visit func(n ast.Node, inLit bool) bool
	visit = func(n ast.Node, inLit bool) bool {
		if escaped {
			return false
		}
		switch n := n.(type) {
		case *ast.DeferStmt:
			if lit, ok := ast.Unparen(n.Call.Fun).(*ast.FuncLit); ok {
				// A deferred literal runs on this path: its Wait counts.
				ast.Inspect(lit.Body, func(m ast.Node) bool { return visit(m, inLit) })
				for _, a := range n.Call.Args {
					ast.Inspect(a, func(m ast.Node) bool { return visit(m, inLit) })
				}
				return false
			}
		case *ast.FuncLit:
			ast.Inspect(n.Body, func(m ast.Node) bool { return visit(m, true) })
			return false
		case *ast.CallExpr:
			if isWait(info, n, v) {
				if inLit {
					escaped = true
				}
				return false
			}
			if sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok && isVar(info, sel.X, v) {
				if fn := asyncapi.Callee(info, n); fn != nil && asyncapi.IsMethod(fn, asyncapi.Path, "Scope", fn.Name()) {
					for _, a := range n.Args {
						ast.Inspect(a, func(m ast.Node) bool { return visit(m, inLit) })
					}
					return false // s.Go(...), s.Cancel(), ...: not an escape
				}
			}
			if asyncapi.IsFunc(asyncapi.Callee(info, n), asyncapi.Path, "Spawn") {
				for _, a := range n.Args {
					if isVar(info, a, v) {
						continue // async.Spawn(s, ...) starts a child; it does not wait
					}
					ast.Inspect(a, func(m ast.Node) bool { return visit(m, inLit) })
				}
				return false
			}
		case *ast.AssignStmt:
			for _, l := range n.Lhs {
				if !isVar(info, l, v) {
					ast.Inspect(l, func(m ast.Node) bool { return visit(m, inLit) })
				}
			}
			for _, r := range n.Rhs {
				ast.Inspect(r, func(m ast.Node) bool { return visit(m, inLit) })
			}
			return false
		case *ast.Ident:
			if info.Uses[n] == v {
				escaped = true // returned, stored, passed to other code, ...
			}
		}
		return true
	}
	ast.Inspect(fn, func(n ast.Node) bool {
		if n == fn {
			return true
		}
		return visit(n, false)
	})
	return escaped
}

func isVar(info *types.Info, e ast.Expr, v *types.Var) bool {
	id, ok := ast.Unparen(e).(*ast.Ident)
	return ok && info.Uses[id] == v
}

// isWait reports whether call is v.Wait().
func isWait(info *types.Info, call *ast.CallExpr, v *types.Var) bool {
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	return ok && isVar(info, sel.X, v) && asyncapi.IsMethod(asyncapi.Callee(info, call), asyncapi.Path, "Scope", "Wait")
}

// waits reports whether the CFG nodes call v.Wait(), directly, in a deferred
// call, or inside a deferred function literal.
func waits(info *types.Info, nodes []ast.Node, v *types.Var) bool {
	found := false
	for _, n := range nodes {
		ast.Inspect(n, func(m ast.Node) bool {
			if found {
				return false
			}
			switch m := m.(type) {
			case *ast.DeferStmt:
				if lit, ok := ast.Unparen(m.Call.Fun).(*ast.FuncLit); ok {
					found = waits(info, []ast.Node{lit.Body}, v)
					return false
				}
			case *ast.FuncLit:
				return false
			case *ast.CallExpr:
				if isWait(info, m, v) {
					found = true
				}
			}
			return !found
		})
	}
	return found
}

// unwaitedPath searches the CFG from stmt, which stores the scope in v, for
// a path to a return that never calls v.Wait (lostcancel's search). It
// returns that return statement, which is synthetic at the closing brace
// for the function's end.
func unwaitedPath(pass *analysis.Pass, g *cfg.CFG, v *types.Var, stmt ast.Node) (*ast.ReturnStmt, bool) {
	info := pass.TypesInfo
	var def *cfg.Block
	var rest []ast.Node
outer:
	for _, b := range g.Blocks {
		for i, n := range b.Nodes {
			if n == stmt {
				def, rest = b, b.Nodes[i+1:]
				break outer
			}
		}
	}
	if def == nil {
		return nil, false // unreachable code: no CFG block
	}
	if waits(info, rest, v) {
		return nil, false
	}
	if ret := def.Return(); ret != nil {
		return ret, true
	}
	memo := map[*cfg.Block]bool{}
	seen := map[*cfg.Block]bool{}
	var search func([]*cfg.Block) (*ast.ReturnStmt, bool)
	search = func(blocks []*cfg.Block) (*ast.ReturnStmt, bool) {
		for _, b := range blocks {
			if seen[b] {
				continue
			}
			seen[b] = true
			w, ok := memo[b]
			if !ok {
				w = waits(info, b.Nodes, v)
				memo[b] = w
			}
			if w {
				continue
			}
			if ret := b.Return(); ret != nil {
				return ret, true
			}
			if ret, found := search(b.Succs); found {
				return ret, found
			}
		}
		return nil, false
	}
	return search(def.Succs)
}
