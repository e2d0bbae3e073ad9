package asyncapi

import (
	"go/ast"
	"go/types"
)

// LoopBodies returns the bodies of the functions in files that visibly run
// as event-loop code: the function given to async.RunLoop or
// asynctest.Explore (a literal, or a function declared in this package),
// and from there, transitively, the
// functions started as loop tasks (given to async.Go, Spawn, Scope.Go,
// TryGo, Start, Map, ForEach, Then, Catch, Run or Func) and the literals
// called or deferred in place. Functions given to Offload, Submit or
// Pool.Go and go statements run off the loop and are not included; nor is
// a literal whose caller cannot be seen.
func LoopBodies(info *types.Info, files []*ast.File) map[*ast.BlockStmt]bool {
	decls := map[*types.Func]*ast.FuncDecl{}
	var runLoops []ast.Expr // the functions given to RunLoop or Explore
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if fn, ok := info.Defs[n.Name].(*types.Func); ok && n.Body != nil {
					decls[fn] = n
				}
			case *ast.CallExpr:
				if fn := loopMain(info, n); fn != nil {
					runLoops = append(runLoops, fn)
				}
			}
			return true
		})
	}
	if len(runLoops) == 0 {
		return nil
	}
	// funcOf returns the body of the function e denotes, if visible here.
	funcOf := func(e ast.Expr) *ast.BlockStmt {
		e = ast.Unparen(e)
		switch x := e.(type) {
		case *ast.FuncLit:
			return x.Body
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		}
		var obj types.Object
		switch x := ast.Unparen(e).(type) {
		case *ast.Ident:
			obj = info.Uses[x]
		case *ast.SelectorExpr:
			obj = info.Uses[x.Sel]
		}
		if fn, ok := obj.(*types.Func); ok {
			if d := decls[fn.Origin()]; d != nil {
				return d.Body
			}
		}
		return nil
	}
	bodies := map[*ast.BlockStmt]bool{}
	var add func(*ast.BlockStmt)
	add = func(body *ast.BlockStmt) {
		if body == nil || bodies[body] {
			return
		}
		bodies[body] = true
		ast.Inspect(body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				return false // followed only where we know it runs on the loop
			case *ast.GoStmt:
				return false // a plain goroutine is not a loop task
			case *ast.DeferStmt:
				if lit, ok := ast.Unparen(n.Call.Fun).(*ast.FuncLit); ok {
					add(lit.Body) // runs on the loop at return
				}
			case *ast.CallExpr:
				if lit, ok := ast.Unparen(n.Fun).(*ast.FuncLit); ok {
					add(lit.Body) // called in place, on the loop
				}
				for _, a := range loopTaskArgs(info, n) {
					add(funcOf(a))
				}
			}
			return true
		})
	}
	for _, fn := range runLoops {
		add(funcOf(fn))
	}
	return bodies
}

// AsynctestPath is the import path of the library's test helpers.
const AsynctestPath = Path + "/asynctest"

// loopMain returns the function that call runs as an event loop's main
// task, if call is async.RunLoop(ctx, main, ...) or
// asynctest.Explore(t, runs, fn).
func loopMain(info *types.Info, call *ast.CallExpr) ast.Expr {
	fn := Callee(info, call)
	switch {
	case IsFunc(fn, Path, "RunLoop") && len(call.Args) >= 2:
		return call.Args[1]
	case IsFunc(fn, AsynctestPath, "Explore") && len(call.Args) >= 3:
		return call.Args[2]
	}
	return nil
}

// loopTaskArgs returns the arguments of call that are functions run as loop
// tasks (or on the loop) when call is made from loop code.
func loopTaskArgs(info *types.Info, call *ast.CallExpr) []ast.Expr {
	fn := Callee(info, call)
	arg := func(i int) []ast.Expr {
		if i < len(call.Args) {
			return call.Args[i : i+1]
		}
		return nil
	}
	switch {
	case IsFunc(fn, Path, "Go", "Spawn", "Run"):
		return arg(1)
	case IsFunc(fn, Path, "Map", "MapSettled", "ForEach", "Then", "Catch"):
		return arg(2)
	case IsFunc(fn, Path, "Func"):
		return arg(0)
	case IsMethod(fn, Path, "Scope", "Go", "TryGo", "Start"):
		return arg(0)
	}
	return nil
}
