// Package blocking defines an Analyzer that reports calls that block the
// event loop.
//
// # Analyzer blocking
//
// blocking: report time.Sleep and other blocking calls in event-loop code
//
// async.RunLoop runs its tasks one at a time on a cooperative loop: a task
// gives the loop up only while it waits in the library (Await, Sleep,
// Yield, Queue, Event, Scope.Wait). A call that blocks any other way stops
// every loop task until it returns:
//
//	async.RunLoop(ctx, func(ctx context.Context) error {
//		time.Sleep(time.Second) // reported: use async.Sleep(ctx, time.Second)
//		...
//	})
//
// Reported inside loop code: time.Sleep, sync.WaitGroup.Wait, a channel
// receive outside a select statement, and ranging over a channel. Loop
// code is the function given to RunLoop (a literal, or a function of the
// same package named there) and, transitively, the functions it starts as
// loop tasks where they are visible: literals or same-package functions
// given to async.Go, Spawn, Scope.Go/TryGo/Start, Map, ForEach, Then,
// Catch, Run and Func, literals called or deferred in place. Functions
// given to async.Offload, Submit or Pool.Go, and go statements, run off the
// loop and are not checked. Use async.Sleep instead of time.Sleep, a Scope
// instead of a WaitGroup, an async.Queue or Event (or a select that also
// waits for ctx) instead of a bare receive, and async.Offload for blocking
// work that has no library equivalent.
package blocking

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/goasync/async/cmd/asyncvet/internal/asyncapi"
)

const analyzerName = "blocking"

const doc = `report time.Sleep and other blocking calls in event-loop code

Inside the function given to async.RunLoop, and the loop tasks it visibly
starts, time.Sleep, sync.WaitGroup.Wait, a channel receive outside select
and a range over a channel block every loop task. Use async.Sleep, a Scope,
an async.Queue or Event, or async.Offload.`

// Analyzer reports blocking calls in event-loop code.
var Analyzer = &analysis.Analyzer{
	Name:     analyzerName,
	Doc:      doc,
	URL:      "https://pkg.go.dev/github.com/goasync/async/cmd/asyncvet/passes/blocking",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

type checker struct {
	pass  *analysis.Pass
	decls map[*types.Func]*ast.FuncDecl
	done  map[ast.Node]bool // function bodies already checked as loop code
}

func run(pass *analysis.Pass) (any, error) {
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	c := &checker{pass: pass, decls: map[*types.Func]*ast.FuncDecl{}, done: map[ast.Node]bool{}}
	for cur := range in.Root().Preorder((*ast.FuncDecl)(nil)) {
		d := cur.Node().(*ast.FuncDecl)
		if fn, ok := pass.TypesInfo.Defs[d.Name].(*types.Func); ok && d.Body != nil {
			c.decls[fn] = d
		}
	}
	for cur := range in.Root().Preorder((*ast.CallExpr)(nil)) {
		call := cur.Node().(*ast.CallExpr)
		if asyncapi.IsFunc(asyncapi.Callee(pass.TypesInfo, call), asyncapi.Path, "RunLoop") && len(call.Args) >= 2 {
			c.loopFunc(call.Args[1])
		}
	}
	return nil, nil
}

// loopFunc checks the function that e denotes, if it is visible here: a
// literal, or a function declared in this package.
func (c *checker) loopFunc(e ast.Expr) {
	var body *ast.BlockStmt
	switch e := ast.Unparen(e).(type) {
	case *ast.FuncLit:
		body = e.Body
	case *ast.Ident, *ast.SelectorExpr, *ast.IndexExpr, *ast.IndexListExpr:
		id := e
		switch x := id.(type) {
		case *ast.IndexExpr:
			id = x.X
		case *ast.IndexListExpr:
			id = x.X
		}
		var obj types.Object
		switch x := ast.Unparen(id).(type) {
		case *ast.Ident:
			obj = c.pass.TypesInfo.Uses[x]
		case *ast.SelectorExpr:
			obj = c.pass.TypesInfo.Uses[x.Sel]
		}
		if fn, ok := obj.(*types.Func); ok {
			if d := c.decls[fn.Origin()]; d != nil {
				body = d.Body
			}
		}
	}
	if body == nil || c.done[body] {
		return
	}
	c.done[body] = true
	c.check(body)
}

// taskArgs returns which arguments of call are functions that run as loop
// tasks (or on the loop) when call is made from loop code.
func (c *checker) taskArgs(call *ast.CallExpr) []ast.Expr {
	fn := asyncapi.Callee(c.pass.TypesInfo, call)
	arg := func(i int) []ast.Expr {
		if i < len(call.Args) {
			return call.Args[i : i+1]
		}
		return nil
	}
	switch {
	case asyncapi.IsFunc(fn, asyncapi.Path, "Go", "Spawn", "Run"):
		return arg(1)
	case asyncapi.IsFunc(fn, asyncapi.Path, "Map", "ForEach", "Then", "Catch"):
		return arg(2)
	case asyncapi.IsFunc(fn, asyncapi.Path, "Func"):
		return arg(0)
	case asyncapi.IsMethod(fn, asyncapi.Path, "Scope", "Go", "TryGo", "Start"):
		return arg(0)
	}
	return nil
}

// check walks loop code, reporting blocking operations and following the
// loop tasks it starts.
func (c *checker) check(body ast.Node) {
	info := c.pass.TypesInfo
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false // runs who knows where; followed only via taskArgs
		case *ast.GoStmt:
			return false // a plain goroutine is not a loop task
		case *ast.DeferStmt:
			if lit, ok := ast.Unparen(n.Call.Fun).(*ast.FuncLit); ok {
				ast.Inspect(lit.Body, visit) // runs on the loop at return
			}
			for _, a := range n.Call.Args {
				ast.Inspect(a, visit)
			}
			return false
		case *ast.SelectStmt:
			for _, cl := range n.Body.List {
				cc := cl.(*ast.CommClause)
				if cc.Comm != nil {
					// The case's own send or receive is select's business;
					// its operands are evaluated on the loop.
					ast.Inspect(cc.Comm, func(m ast.Node) bool {
						if u, ok := m.(*ast.UnaryExpr); ok && u.Op == token.ARROW {
							ast.Inspect(u.X, visit)
							return false
						}
						return visit(m)
					})
				}
				for _, s := range cc.Body {
					ast.Inspect(s, visit)
				}
			}
			return false
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				msg := "a channel receive outside select blocks the event loop: no other loop task runs until a value arrives; " +
					"use an async.Queue or Event, a select that also waits for ctx.Done(), or async.Offload"
				if call, ok := ast.Unparen(n.X).(*ast.CallExpr); ok && asyncapi.IsMethod(asyncapi.Callee(info, call), asyncapi.Path, "Future", "Done") {
					msg = "receiving from Future.Done outside select blocks the event loop; use Await, which gives the loop up while waiting"
				}
				c.report(n, msg)
			}
		case *ast.RangeStmt:
			if t, ok := info.TypeOf(n.X).Underlying().(*types.Chan); ok && t != nil {
				c.report(n.X, "ranging over a channel blocks the event loop between values; use an async.Queue (Get gives the loop up), or receive with async.Offload")
			}
		case *ast.CallExpr:
			fn := asyncapi.Callee(info, n)
			switch {
			case asyncapi.IsFunc(fn, "time", "Sleep"):
				c.report(n, "time.Sleep blocks the event loop: no other loop task runs until it returns; use async.Sleep(ctx, d), which gives the loop up while it waits")
			case asyncapi.IsMethod(fn, "sync", "WaitGroup", "Wait"):
				c.report(n, "sync.WaitGroup.Wait blocks the event loop: the loop tasks it waits for cannot run; start them in an async.Scope and call Scope.Wait, or wait with async.Offload")
			}
			if lit, ok := ast.Unparen(n.Fun).(*ast.FuncLit); ok {
				ast.Inspect(lit.Body, visit) // called in place, on the loop
			}
			for _, a := range c.taskArgs(n) {
				c.loopFunc(a)
			}
		}
		return true
	}
	ast.Inspect(body, visit)
}

func (c *checker) report(n ast.Node, msg string) {
	asyncapi.Report(c.pass, analyzerName, analysis.Diagnostic{Pos: n.Pos(), End: n.End(), Message: msg})
}
