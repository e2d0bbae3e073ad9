// Package lockawait defines an Analyzer that reports a mutex held across a
// call that blocks on futures.
//
// # Analyzer lockawait
//
// lockawait: report a sync.Mutex or RWMutex held across an await
//
// Awaiting while holding a lock serializes every other user of the lock
// behind a task of unknown duration, and deadlocks outright if the task
// (or anything it waits for) needs the same lock:
//
//	c.mu.Lock()
//	defer c.mu.Unlock()
//	v, err := async.Go(ctx, c.load).Await(ctx) // reported: c.mu is held
//
// Unlock before awaiting: copy what the task needs out of the critical
// section, await, then lock again to publish the result. The calls that
// count as blocking are Future.Await, async.All, AllSettled, Any, Race,
// AsCompleted, All2, All3, Map, ForEach, Run and Sleep, Scope.Wait,
// Queue.Get, Put and All, Event.Wait, stream.ForEach, and ranging over a
// stream (stream.Map, Merge, Batch, FromChan).
//
// The check follows one function's statements in order (branches,
// loops, early returns and deferred unlocks included) and reports only a
// lock held on every path to the call. It does not follow calls into other
// functions.
package lockawait

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"maps"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/goasync/async/cmd/asyncvet/internal/asyncapi"
)

const analyzerName = "lockawait"

const doc = `report a sync.Mutex or RWMutex held across an await

A lock held across Future.Await, async.All/AllSettled/Any/Race, Scope.Wait,
Queue.Get/Put, Event.Wait and the library's other blocking calls makes every
other user of the lock wait for the task, and deadlocks if the task needs
the lock. Unlock before awaiting.`

// Analyzer reports locks held across blocking calls on futures.
var Analyzer = &analysis.Analyzer{
	Name:     analyzerName,
	Doc:      doc,
	URL:      "https://pkg.go.dev/github.com/goasync/async/cmd/asyncvet/passes/lockawait",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

func run(pass *analysis.Pass) (any, error) {
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	for cur := range in.Root().Preorder((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
		var body *ast.BlockStmt
		switch fn := cur.Node().(type) {
		case *ast.FuncDecl:
			body = fn.Body
		case *ast.FuncLit:
			body = fn.Body
		}
		if body != nil {
			// A function literal starts with no lock held: it may run on
			// another goroutine, or later.
			w := &walker{pass: pass}
			w.stmts(body.List, held{})
		}
	}
	return nil, nil
}

// held maps a lock (its receiver expression's text) to where it was locked.
type held map[string]token.Pos

// intersect keeps the locks held in both a and b: a lock is reported only
// if it is held on every path.
func intersect(a, b held) held {
	out := held{}
	for k, p := range a {
		if _, ok := b[k]; ok {
			out[k] = p
		}
	}
	return out
}

type walker struct {
	pass *analysis.Pass
}

// merge combines the states at the end of branches that fall through; ok
// is false when no branch does.
type merge struct {
	state held
	ok    bool
}

func (m *merge) add(h held, terminated bool) {
	if terminated {
		return
	}
	if !m.ok {
		m.state, m.ok = maps.Clone(h), true
		return
	}
	m.state = intersect(m.state, h)
}

func (m *merge) result() (held, bool) {
	if !m.ok {
		return held{}, true
	}
	return m.state, false
}

func (w *walker) stmts(list []ast.Stmt, h held) (held, bool) {
	for _, s := range list {
		var term bool
		h, term = w.stmt(s, h)
		if term {
			return h, true
		}
	}
	return h, false
}

// stmt walks s with the locks h held before it and returns those held
// after it, and whether control never reaches the next statement.
func (w *walker) stmt(s ast.Stmt, h held) (held, bool) {
	switch s := s.(type) {
	case *ast.BlockStmt:
		return w.stmts(s.List, h)
	case *ast.LabeledStmt:
		return w.stmt(s.Stmt, h)
	case *ast.ReturnStmt:
		for _, e := range s.Results {
			h = w.expr(e, h)
		}
		return h, true
	case *ast.BranchStmt:
		return h, true // the state flows to another statement; not followed
	case *ast.DeferStmt:
		// A deferred unlock runs at return: the lock stays held until then.
		for _, a := range s.Call.Args {
			h = w.expr(a, h)
		}
		return h, false
	case *ast.GoStmt:
		for _, a := range s.Call.Args {
			h = w.expr(a, h)
		}
		return h, false
	case *ast.ExprStmt:
		h = w.expr(s.X, h)
		if call, ok := s.X.(*ast.CallExpr); ok {
			if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
				if b, ok := w.pass.TypesInfo.Uses[id].(*types.Builtin); ok && b.Name() == "panic" {
					return h, true
				}
			}
		}
		return h, false
	case *ast.IfStmt:
		if s.Init != nil {
			h, _ = w.stmt(s.Init, h)
		}
		h = w.expr(s.Cond, h)
		var m merge
		m.add(w.stmt(s.Body, maps.Clone(h)))
		if s.Else != nil {
			m.add(w.stmt(s.Else, maps.Clone(h)))
		} else {
			m.add(h, false)
		}
		return m.result()
	case *ast.ForStmt:
		if s.Init != nil {
			h, _ = w.stmt(s.Init, h)
		}
		if s.Cond != nil {
			h = w.expr(s.Cond, h)
		}
		body, _ := w.stmt(s.Body, maps.Clone(h))
		if s.Post != nil {
			w.stmt(s.Post, body)
		}
		return h, false // a loop body is assumed to leave the locks as it found them
	case *ast.RangeStmt:
		h = w.expr(s.X, h)
		if name, ok := asyncapi.RangesOverStream(w.pass.TypesInfo, s.X); ok && len(h) > 0 {
			w.report(s.X, "ranging over "+name, h)
		}
		w.stmt(s.Body, maps.Clone(h))
		return h, false
	case *ast.SwitchStmt:
		if s.Init != nil {
			h, _ = w.stmt(s.Init, h)
		}
		if s.Tag != nil {
			h = w.expr(s.Tag, h)
		}
		return w.clauses(s.Body, h)
	case *ast.TypeSwitchStmt:
		if s.Init != nil {
			h, _ = w.stmt(s.Init, h)
		}
		h, _ = w.stmt(s.Assign, h)
		return w.clauses(s.Body, h)
	case *ast.SelectStmt:
		return w.clauses(s.Body, h)
	case *ast.AssignStmt:
		for _, e := range s.Rhs {
			h = w.expr(e, h)
		}
		return h, false
	case *ast.DeclStmt:
		if g, ok := s.Decl.(*ast.GenDecl); ok {
			for _, spec := range g.Specs {
				if vs, ok := spec.(*ast.ValueSpec); ok {
					for _, e := range vs.Values {
						h = w.expr(e, h)
					}
				}
			}
		}
		return h, false
	case *ast.SendStmt:
		h = w.expr(s.Chan, h)
		return w.expr(s.Value, h), false
	case *ast.IncDecStmt:
		return w.expr(s.X, h), false
	}
	return h, false
}

// clauses walks the clauses of a switch or select: each starts from h; the
// result keeps what every clause that falls out of the statement holds.
func (w *walker) clauses(body *ast.BlockStmt, h held) (held, bool) {
	var m merge
	hasDefault := false
	for _, c := range body.List {
		switch c := c.(type) {
		case *ast.CaseClause:
			if c.List == nil {
				hasDefault = true
			}
			hc := maps.Clone(h)
			for _, e := range c.List {
				hc = w.expr(e, hc)
			}
			m.add(w.stmts(c.Body, hc))
		case *ast.CommClause:
			if c.Comm == nil {
				hasDefault = true
			}
			hc := maps.Clone(h)
			if c.Comm != nil {
				hc, _ = w.stmt(c.Comm, hc)
			}
			m.add(w.stmts(c.Body, hc))
		}
	}
	if !hasDefault {
		m.add(h, false)
	}
	return m.result()
}

// expr applies the lock operations and checks the blocking calls in e, in
// source order, without entering function literals.
func (w *walker) expr(e ast.Expr, h held) held {
	if e == nil {
		return h
	}
	info := w.pass.TypesInfo
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			fn := asyncapi.Callee(info, n)
			if fn == nil {
				return true
			}
			if asyncapi.IsMethod(fn, "sync", "Mutex", "Lock", "Unlock") ||
				asyncapi.IsMethod(fn, "sync", "RWMutex", "Lock", "Unlock", "RLock", "RUnlock") {
				sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr)
				if !ok {
					return true
				}
				key := lockKey(sel.X)
				switch fn.Name() {
				case "Lock", "RLock":
					h[key] = n.Pos()
				default:
					delete(h, key)
				}
				return true
			}
			if name, ok := asyncapi.BlocksOnFutures(fn); ok && len(h) > 0 {
				w.report(n, name, h)
			}
		}
		return true
	})
	return h
}

func (w *walker) report(call ast.Node, name string, h held) {
	// Name the lock taken most recently: the one the reader will look at.
	var key string
	var at token.Pos
	for k, p := range h {
		if p > at {
			key, at = k, p
		}
	}
	line := w.pass.Fset.Position(at).Line
	asyncapi.Report(w.pass, analyzerName, analysis.Diagnostic{
		Pos: call.Pos(),
		End: call.End(),
		Message: fmt.Sprintf("%s is locked (line %d) across %s, which blocks until tasks settle: "+
			"every other user of %s waits meanwhile, and a task that needs it deadlocks; "+
			"unlock before awaiting (copy what you need out of the critical section first)",
			key, line, name, key),
	})
}

// lockKey names a mutex by its receiver expression: c.mu in c.mu.Lock(),
// and s in s.Lock() for an embedded mutex.
func lockKey(x ast.Expr) string {
	x = ast.Unparen(x)
	for {
		switch e := x.(type) {
		case *ast.UnaryExpr:
			if e.Op == token.AND {
				x = ast.Unparen(e.X)
				continue
			}
		case *ast.StarExpr:
			x = ast.Unparen(e.X)
			continue
		}
		return types.ExprString(x)
	}
}
