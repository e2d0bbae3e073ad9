// Package awaitloop defines an Analyzer that reports a future started and
// awaited in the same iteration of a loop whose iterations are independent.
//
// # Analyzer awaitloop
//
// awaitloop: report sequential await in a loop
//
// Starting a task and awaiting it in the same iteration runs the tasks one
// after another: a loop over 30 requests of 100 ms takes 3 s instead of
// 100 ms. When no iteration needs a value from an earlier one, start them
// all, then await:
//
//	for _, id := range ids {
//		it, err := async.Go(ctx, fetcher(id)).Await(ctx) // reported
//		...
//	}
//
// becomes async.Map(ctx, ids, fetch), or futures started in one loop and
// awaited with async.All (or one by one) after it.
//
// Reported loops range over a slice, array, map, string or integer, or are
// three-clause for loops. A loop is left alone when its iterations depend
// on each other: a variable declared outside the loop is assigned in the
// loop and read by the task's call (or by the loop's condition), the loop
// can stop early on success (a break, or a return that is not under an
// "if err != nil"), or the task writes to variables outside the loop.
// Loops with only a condition (for cond {}) and loops over channels or
// iterator functions are not reported: they usually are retry loops,
// pollers or streams.
//
// For the simple shape, a range over a slice or array whose first
// statement is v, err := <start>(...).Await(ctx) and whose body never
// leaves the loop early, a suggested fix starts every task in a first loop
// and awaits them in order in the original one.
package awaitloop

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"os"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/goasync/async/cmd/asyncvet/internal/asyncapi"
)

const analyzerName = "awaitloop"

const doc = `report sequential await in a loop

A future started and awaited in the same iteration of a loop whose
iterations do not depend on each other runs the tasks one at a time. Start
them all, then await: async.Map, or async.All over the futures. A suggested
fix is offered for the simple range-over-slice shape.`

// Analyzer reports sequential awaits in loops.
var Analyzer = &analysis.Analyzer{
	Name:     analyzerName,
	Doc:      doc,
	URL:      "https://pkg.go.dev/github.com/goasync/async/cmd/asyncvet/passes/awaitloop",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

const message = "sequential await in a loop: each iteration waits for its task before the next one starts; " +
	"start them all first, then await (async.Map, or async.All over the futures)"

func run(pass *analysis.Pass) (any, error) {
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	for cur := range in.Root().Preorder((*ast.RangeStmt)(nil), (*ast.ForStmt)(nil)) {
		l := newLoop(pass, cur)
		if l == nil {
			continue
		}
		await, start := l.sequentialAwait()
		if await == nil || l.dependent(start) {
			continue
		}
		// Point at .Await: with a multi-line task, that is where the wait is.
		d := analysis.Diagnostic{Pos: ast.Unparen(await.Fun).(*ast.SelectorExpr).Sel.Pos(), End: await.End(), Message: message}
		if fix := l.fix(cur, await, start); fix != nil {
			d.SuggestedFixes = []analysis.SuggestedFix{*fix}
		}
		asyncapi.Report(pass, analyzerName, d)
	}
	return nil, nil
}

type loop struct {
	pass  *analysis.Pass
	node  ast.Stmt // *ast.RangeStmt or *ast.ForStmt
	body  *ast.BlockStmt
	label *ast.Ident // nil if unlabeled
	cond  []ast.Node // a for loop's condition and post statement
}

// newLoop returns the loop at cur if it is of a kind this check reports.
func newLoop(pass *analysis.Pass, cur inspector.Cursor) *loop {
	l := &loop{pass: pass, node: cur.Node().(ast.Stmt)}
	if ls, ok := cur.Parent().Node().(*ast.LabeledStmt); ok {
		l.label = ls.Label
	}
	switch n := l.node.(type) {
	case *ast.RangeStmt:
		t := pass.TypesInfo.TypeOf(n.X)
		if t == nil {
			return nil
		}
		u := t.Underlying()
		if p, ok := u.(*types.Pointer); ok {
			u = p.Elem().Underlying()
		}
		switch u := u.(type) {
		case *types.Slice, *types.Array, *types.Map:
		case *types.Basic:
			if u.Info()&(types.IsInteger|types.IsString) == 0 {
				return nil
			}
		default:
			return nil // channels, iterator functions
		}
		l.body = n.Body
	case *ast.ForStmt:
		if n.Init == nil || n.Cond == nil || n.Post == nil {
			return nil // for cond {} and for {}: retry loops, pollers
		}
		l.body = n.Body
		l.cond = []ast.Node{n.Cond, n.Post}
	}
	return l
}

// sequentialAwait finds the first Future.Await in the loop's own body (not
// in a nested loop, function literal or deferred call) whose future was
// started in the same iteration, and returns it with the starting call.
func (l *loop) sequentialAwait() (await, start *ast.CallExpr) {
	info := l.pass.TypesInfo
	starts := map[*types.Var]*ast.CallExpr{} // futures started in the body
	ast.Inspect(l.body, func(n ast.Node) bool {
		if await != nil {
			return false
		}
		switch n := n.(type) {
		case *ast.FuncLit, *ast.ForStmt, *ast.RangeStmt, *ast.DeferStmt, *ast.GoStmt:
			return false
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE && len(n.Lhs) == len(n.Rhs) {
				for i, r := range n.Rhs {
					if c, ok := ast.Unparen(r).(*ast.CallExpr); ok && asyncapi.StartsFuture(info, c) {
						if v := asyncapi.ObjectOf(info, identOf(n.Lhs[i])); v != nil {
							starts[v] = c
						}
					}
				}
			}
		case *ast.CallExpr:
			if !asyncapi.IsMethod(asyncapi.Callee(info, n), asyncapi.Path, "Future", "Await") {
				return true
			}
			sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr)
			if !ok {
				return true
			}
			switch x := ast.Unparen(sel.X).(type) {
			case *ast.CallExpr:
				if asyncapi.StartsFuture(info, x) {
					await, start = n, x
				}
			case *ast.Ident:
				if c := starts[asyncapi.ObjectOf(info, x)]; c != nil {
					await, start = n, c
				}
			}
		}
		return true
	})
	return await, start
}

func identOf(e ast.Expr) *ast.Ident {
	id, _ := ast.Unparen(e).(*ast.Ident)
	return id
}

// dependent reports whether the loop's iterations may depend on each
// other, so that running its tasks concurrently could change the result.
func (l *loop) dependent(start *ast.CallExpr) bool {
	outer := l.assignedOuterVars()
	reads := func(n ast.Node) bool {
		found := false
		ast.Inspect(n, func(m ast.Node) bool {
			if id, ok := m.(*ast.Ident); ok && outer[asyncapi.ObjectOf(l.pass.TypesInfo, id)] {
				found = true
			}
			return !found
		})
		return found
	}
	// A value from one iteration feeds the next task, or the loop's
	// condition; or the task itself writes outside the loop.
	if reads(start) {
		return true
	}
	for _, n := range l.cond {
		if reads(n) {
			return true
		}
	}
	return l.exitsEarly()
}

// assignedOuterVars returns the variables declared outside the loop that
// the loop's body assigns (anywhere, including in function literals):
// x = ..., x += ..., x++, x.f = ..., x[i] = ....
func (l *loop) assignedOuterVars() map[*types.Var]bool {
	info := l.pass.TypesInfo
	out := map[*types.Var]bool{}
	add := func(e ast.Expr) {
		if v := asyncapi.ObjectOf(info, asyncapi.RootIdent(e)); v != nil && !asyncapi.Within(v.Pos(), l.node) {
			out[v] = true
		}
	}
	ast.Inspect(l.body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok != token.DEFINE {
				for _, e := range n.Lhs {
					add(e)
				}
			}
		case *ast.IncDecStmt:
			add(n.X)
		}
		return true
	})
	return out
}

// exitsEarly reports whether the loop can end before its last iteration
// other than on an error: a break or goto out of it, a labeled continue to
// an outer loop, or a return that is not inside an "if err != nil" block
// (a search or failover loop, sequential on purpose).
func (l *loop) exitsEarly() bool {
	exits := false
	var walk func(n ast.Node, breakable, errBlock bool)
	walk = func(n ast.Node, breakable, errBlock bool) {
		ast.Inspect(n, func(m ast.Node) bool {
			if exits || m == nil {
				return false
			}
			if m == n {
				return true
			}
			switch m := m.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
				walk(m, true, errBlock)
				return false
			case *ast.IfStmt:
				if m.Init != nil {
					walk(m.Init, breakable, errBlock)
				}
				walk(m.Body, breakable, errBlock || l.isErrCheck(m.Cond))
				if m.Else != nil {
					walk(m.Else, breakable, errBlock)
				}
				return false
			case *ast.ReturnStmt:
				if !errBlock {
					exits = true
				}
			case *ast.BranchStmt:
				switch m.Tok {
				case token.GOTO:
					exits = true
				case token.BREAK:
					if m.Label != nil || !breakable {
						exits = true
					}
				case token.CONTINUE:
					if m.Label != nil && (l.label == nil || m.Label.Name != l.label.Name) {
						exits = true
					}
				}
			}
			return true
		})
	}
	walk(l.body, false, false)
	return exits
}

// isErrCheck reports whether cond contains x != nil for some x of type
// error.
func (l *loop) isErrCheck(cond ast.Expr) bool {
	found := false
	ast.Inspect(cond, func(n ast.Node) bool {
		if b, ok := n.(*ast.BinaryExpr); ok && b.Op == token.NEQ {
			for _, side := range [][2]ast.Expr{{b.X, b.Y}, {b.Y, b.X}} {
				if id, ok := ast.Unparen(side[1]).(*ast.Ident); ok && id.Name == "nil" {
					if t := l.pass.TypesInfo.TypeOf(side[0]); t != nil && types.Identical(t, types.Universe.Lookup("error").Type()) {
						found = true
					}
				}
			}
		}
		return !found
	})
	return found
}

// fix returns the suggested fix for the simple shape
//
//	for k, x := range xs {
//		v, err := <start>(...).Await(ctx)
//		... (never leaves the loop early)
//	}
//
// which starts every task in a loop of its own, then awaits them in order
// in the original loop: the rest of the body runs unchanged, on the same
// values, in the same order. It returns nil where that is not safe.
func (l *loop) fix(cur inspector.Cursor, await, start *ast.CallExpr) *analysis.SuggestedFix {
	pass, info := l.pass, l.pass.TypesInfo
	rng, ok := l.node.(*ast.RangeStmt)
	if !ok || l.label != nil || (rng.Tok != token.DEFINE && rng.Key != nil) {
		return nil
	}
	if _, ok := cur.Parent().Node().(*ast.BlockStmt); !ok {
		return nil
	}
	switch info.TypeOf(rng.X).Underlying().(type) {
	case *types.Slice, *types.Array:
	default:
		return nil // a map's order would differ between the two loops
	}
	if !pureOperand(rng.X) || l.assignedOuterVars()[asyncapi.ObjectOf(info, asyncapi.RootIdent(rng.X))] {
		return nil
	}
	if len(rng.Body.List) == 0 {
		return nil
	}
	first, ok := rng.Body.List[0].(*ast.AssignStmt)
	if !ok || first.Tok != token.DEFINE || len(first.Rhs) != 1 || ast.Unparen(first.Rhs[0]) != await {
		return nil
	}
	if sel, ok := ast.Unparen(await.Fun).(*ast.SelectorExpr); !ok || ast.Unparen(sel.X) != start {
		return nil
	}
	if l.leaves() {
		return nil // a task started for a later iteration would never be awaited
	}
	file := fileOf(pass, rng.Pos())
	src := readFile(pass, rng.Pos())
	if file == nil || src == nil {
		return nil
	}
	futType, ok := typeString(pass, file, info.TypeOf(start))
	if !ok {
		return nil
	}
	tf := pass.Fset.File(rng.Pos())
	text := func(from, to token.Pos) string { return string(src[tf.Offset(from):tf.Offset(to)]) }
	lineStart := tf.LineStart(tf.Line(rng.For))
	indent := text(lineStart, rng.For)
	if strings.TrimSpace(indent) != "" {
		return nil
	}

	key, _ := rng.Key.(*ast.Ident)
	val, _ := rng.Value.(*ast.Ident)
	valVar := asyncapi.ObjectOf(info, val)
	idx := ""
	if key != nil && key.Name != "_" {
		idx = key.Name
	} else {
		idx = l.fresh("i")
	}
	futs := l.fresh("futures")
	x := text(rng.X.Pos(), rng.X.End())
	clause := func(withValue bool) string {
		if withValue {
			return idx + ", " + val.Name + " := range " + x
		}
		return idx + " := range " + x
	}
	usesIn := func(v *types.Var, n ast.Node, outside ast.Node) bool {
		found := false
		ast.Inspect(n, func(m ast.Node) bool {
			if outside != nil && m == outside {
				return false
			}
			if id, ok := m.(*ast.Ident); ok && v != nil && info.Uses[id] == v {
				found = true
			}
			return !found
		})
		return found
	}
	startHeader := clause(valVar != nil && usesIn(valVar, start, nil))
	awaitHeader := clause(valVar != nil && usesIn(valVar, rng.Body, start))
	prelude := fmt.Sprintf("%s := make([]%s, len(%s))\n%sfor %s {\n%s\t%s[%s] = %s\n%s}\n%sfor %s ",
		futs, futType, x, indent, startHeader, indent, futs, idx, text(start.Pos(), start.End()), indent, indent, awaitHeader)
	return &analysis.SuggestedFix{
		Message: "start every task before awaiting the first",
		TextEdits: []analysis.TextEdit{
			{Pos: rng.For, End: rng.Body.Lbrace, NewText: []byte(prelude)},
			{Pos: start.Pos(), End: start.End(), NewText: []byte(futs + "[" + idx + "]")},
		},
	}
}

// leaves reports whether the body can leave the loop before its last
// iteration in any way (return, break, goto, labeled continue).
func (l *loop) leaves() bool {
	left := false
	breakable := 0
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		if left {
			return false
		}
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
			breakable++
			ast.Inspect(n, func(m ast.Node) bool {
				if m == n {
					return true
				}
				return visit(m)
			})
			breakable--
			return false
		case *ast.ReturnStmt:
			left = true
		case *ast.BranchStmt:
			switch n.Tok {
			case token.GOTO:
				left = true
			case token.BREAK:
				left = n.Label != nil || breakable == 0
			case token.CONTINUE:
				left = n.Label != nil // conservative: it may name an outer loop
			}
		}
		return !left
	}
	ast.Inspect(l.body, func(m ast.Node) bool {
		if m == l.body {
			return true
		}
		return visit(m)
	})
	return left
}

// fresh returns name, or name with a number, that is neither visible at
// the loop nor used inside it.
func (l *loop) fresh(name string) string {
	used := map[string]bool{}
	ast.Inspect(l.node, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			used[id.Name] = true
		}
		return true
	})
	scope := l.pass.Pkg.Scope().Innermost(l.node.Pos())
	for i := 0; ; i++ {
		n := name
		if i > 0 {
			n = name + strconv.Itoa(i+1)
		}
		if used[n] {
			continue
		}
		if scope != nil {
			if _, obj := scope.LookupParent(n, l.node.Pos()); obj != nil {
				continue
			}
		}
		return n
	}
}

// pureOperand reports whether e can be evaluated twice with the same
// result: an identifier or a chain of field selections.
func pureOperand(e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		return true
	case *ast.SelectorExpr:
		return pureOperand(e.X)
	}
	return false
}

// typeString prints t as the file can spell it, or reports false if a
// package it mentions is not imported by name there.
func typeString(pass *analysis.Pass, file *ast.File, t types.Type) (string, bool) {
	ok := true
	s := types.TypeString(t, func(p *types.Package) string {
		if p == pass.Pkg {
			return ""
		}
		for _, imp := range file.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil || path != p.Path() {
				continue
			}
			if imp.Name == nil {
				return p.Name()
			}
			if imp.Name.Name == "_" || imp.Name.Name == "." {
				break
			}
			return imp.Name.Name
		}
		ok = false
		return p.Name()
	})
	return s, ok
}

func fileOf(pass *analysis.Pass, pos token.Pos) *ast.File {
	for _, f := range pass.Files {
		if f.FileStart <= pos && pos < f.FileEnd {
			return f
		}
	}
	return nil
}

func readFile(pass *analysis.Pass, pos token.Pos) []byte {
	name := pass.Fset.File(pos).Name()
	read := pass.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	b, err := read(name)
	if err != nil {
		return nil
	}
	return b
}
