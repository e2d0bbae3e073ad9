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
// Also reported: a library wait (Await, the combinators, Sleep, Yield,
// Queue, Event, Scope.Wait) inside a goroutine started from loop code with a
// go statement, when it uses a context of the loop code around it. A loop
// task's context identifies the task: a wait with it acts for the task and
// gives the loop up on its behalf while the task goes on running, so that
// two loop tasks run at once. Blind spot: a context derived from the task's
// inside the goroutine (it carries the task too) is not followed.
//
// Reported inside loop code: time.Sleep, sync.WaitGroup.Wait, a channel
// receive outside a select statement, ranging over a channel, and the
// stream package's consumers (stream.ForEach, ranging over stream.Map,
// Merge, Batch or FromChan), which wait for goroutines of their own with
// channels: use async.Map or async.ForEach, whose calls are loop tasks. Loop
// code is the function given to RunLoop or asynctest.Explore (a literal,
// or a function of the same package named there) and, transitively, the functions it starts as
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

	"github.com/goasync/async/cmd/asyncvet/internal/asyncapi"
)

const analyzerName = "blocking"

const doc = `report time.Sleep and other blocking calls in event-loop code

Inside the function given to async.RunLoop, and the loop tasks it visibly
starts, time.Sleep, sync.WaitGroup.Wait, a channel receive outside select,
a range over a channel, stream.ForEach and a range over a stream block
every loop task. Use async.Sleep, a Scope, an async.Queue or Event,
async.Map or ForEach, or async.Offload.`

// Analyzer reports blocking calls in event-loop code.
var Analyzer = &analysis.Analyzer{
	Name: analyzerName,
	Doc:  doc,
	URL:  "https://pkg.go.dev/github.com/goasync/async/cmd/asyncvet/passes/blocking",
	Run:  run,
}

type checker struct {
	pass *analysis.Pass
}

func run(pass *analysis.Pass) (any, error) {
	c := &checker{pass: pass}
	for body := range asyncapi.LoopBodies(pass.TypesInfo, pass.Files) {
		c.check(body)
	}
	return nil, nil
}

// check reports the blocking operations in one body of loop code. Function
// literals in it are left out: those that run on the loop are bodies of
// their own.
func (c *checker) check(body ast.Node) {
	info := c.pass.TypesInfo
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.GoStmt:
			c.foreignWaits(n)
			return false // a plain goroutine is not a loop task
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
			if name, ok := asyncapi.RangesOverStream(info, n.X); ok {
				c.report(n.X, "ranging over "+name+" blocks the event loop: the stream's calls run on goroutines of its own and the range waits for them with channels; "+
					"in a loop use async.Map (its calls are loop tasks), or consume the stream in async.Offload")
			}
		case *ast.CallExpr:
			fn := asyncapi.Callee(info, n)
			switch {
			case asyncapi.IsFunc(fn, "time", "Sleep"):
				c.report(n, "time.Sleep blocks the event loop: no other loop task runs until it returns; use async.Sleep(ctx, d), which gives the loop up while it waits")
			case asyncapi.IsFunc(fn, asyncapi.StreamPath, "ForEach"):
				c.report(n, "stream.ForEach blocks the event loop: its calls run on goroutines of its own and it waits for them with channels; "+
					"in a loop use async.ForEach (its calls are loop tasks), or run it in async.Offload")
			case asyncapi.IsMethod(fn, "sync", "WaitGroup", "Wait"):
				c.report(n, "sync.WaitGroup.Wait blocks the event loop: the loop tasks it waits for cannot run; start them in an async.Scope and call Scope.Wait, or wait with async.Offload")
			}
		}
		return true
	}
	ast.Inspect(body, visit)
}

// foreignWaits reports the library waits, in a goroutine started from loop
// code, that use a context of the loop code around it: a loop task's
// context identifies the task, so such a wait acts for the task (it gives
// the loop up on the task's behalf) while the task itself goes on running.
func (c *checker) foreignWaits(g *ast.GoStmt) {
	lit, ok := ast.Unparen(g.Call.Fun).(*ast.FuncLit)
	if !ok {
		return
	}
	info := c.pass.TypesInfo
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			return false
		case *ast.CallExpr:
			fn := asyncapi.Callee(info, n)
			name, blocks := asyncapi.BlocksOnFutures(fn)
			if !blocks && asyncapi.IsFunc(fn, asyncapi.Path, "Yield") {
				name, blocks = "async.Yield", true
			}
			if !blocks {
				return true
			}
			for _, a := range n.Args {
				id, ok := ast.Unparen(a).(*ast.Ident)
				if !ok {
					continue
				}
				v := asyncapi.ObjectOf(info, id)
				if v != nil && asyncapi.IsContext(v.Type()) && !asyncapi.Within(v.Pos(), lit) {
					c.report(n, name+" in a goroutine started by loop code waits with the loop task's context "+id.Name+
						": the wait acts for the task, which gives the loop up while the task itself goes on running, so two loop tasks can run at once; "+
						"start the work with async.Go (a loop task) or async.Offload (whose function gets a context outside the loop)")
					break
				}
			}
		}
		return true
	})
}

func (c *checker) report(n ast.Node, msg string) {
	asyncapi.Report(c.pass, analyzerName, analysis.Diagnostic{Pos: n.Pos(), End: n.End(), Message: msg})
}
