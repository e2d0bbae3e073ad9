// Package asyncapi knows the goasync API that the asyncvet analyzers look
// for. Every function is identified by its package path and name through
// go/types, never by the text of an identifier, so renamed imports, dot
// imports and shadowed names are handled.
package asyncapi

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/types/typeutil"
)

// Path is the import path of the library; DistPath that of its distributed
// futures.
const (
	Path       = "github.com/goasync/async"
	DistPath   = "github.com/goasync/async/dist"
	StreamPath = "github.com/goasync/async/stream"
)

// Callee returns the function or method that call invokes statically, with
// any generic instantiation undone (so callers compare against the declared
// object), or nil for calls of function values, conversions and builtins.
func Callee(info *types.Info, call *ast.CallExpr) *types.Func {
	fn, _ := typeutil.Callee(info, call).(*types.Func)
	if fn == nil {
		return nil
	}
	return fn.Origin()
}

// IsFunc reports whether fn is the package-level function pkg.name.
func IsFunc(fn *types.Func, pkg string, names ...string) bool {
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != pkg {
		return false
	}
	if sig, ok := fn.Type().(*types.Signature); !ok || sig.Recv() != nil {
		return false
	}
	for _, n := range names {
		if fn.Name() == n {
			return true
		}
	}
	return false
}

// IsMethod reports whether fn is a method named one of names whose receiver
// is the named type pkg.typ (or a pointer to it). Promoted methods report
// the type that declares them, so an embedded sync.Mutex's Lock is
// (*sync.Mutex).Lock.
func IsMethod(fn *types.Func, pkg, typ string, names ...string) bool {
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != pkg {
		return false
	}
	sig, ok := fn.Type().(*types.Signature)
	if !ok || sig.Recv() == nil {
		return false
	}
	if !IsNamed(sig.Recv().Type(), pkg, typ) {
		return false
	}
	for _, n := range names {
		if fn.Name() == n {
			return true
		}
	}
	return false
}

// IsNamed reports whether t is the named type pkg.name, or a pointer to it,
// with any type arguments.
func IsNamed(t types.Type, pkg, name string) bool {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return false
	}
	obj := n.Origin().Obj()
	return obj.Pkg() != nil && obj.Pkg().Path() == pkg && obj.Name() == name
}

// IsFuture reports whether t is *async.Future[T].
func IsFuture(t types.Type) bool {
	if t == nil {
		return false
	}
	p, ok := types.Unalias(t).(*types.Pointer)
	return ok && IsNamed(p.Elem(), Path, "Future")
}

// IsContext reports whether t is context.Context.
func IsContext(t types.Type) bool {
	return IsNamed(t, "context", "Context") && types.IsInterface(t)
}

// StartsFuture reports whether call returns a *async.Future whose outcome
// only this call site holds: any call whose single result is a future,
// except async.Resolved (nothing to lose) and Promise.Future (the promise
// holder settles it and its owner awaits it). This covers async.Go, Spawn,
// Submit, Then, Catch, Rejected, Offload, dist.Call, the functions that
// async.Func returns, and user functions that return futures.
func StartsFuture(info *types.Info, call *ast.CallExpr) bool {
	tv, ok := info.Types[call]
	if !ok || !tv.IsValue() || !IsFuture(tv.Type) {
		return false
	}
	fn := Callee(info, call)
	return !IsFunc(fn, Path, "Resolved") && !IsMethod(fn, Path, "Promise", "Future")
}

// BlocksOnFutures reports whether fn blocks until futures, tasks or library
// primitives settle, and if so returns a short name for messages
// ("Future.Await", "async.All").
func BlocksOnFutures(fn *types.Func) (string, bool) {
	switch {
	case IsFunc(fn, Path, "All", "AllSettled", "Any", "Race", "All2", "All3", "AsCompleted",
		"Sleep", "Map", "MapSettled", "ForEach", "Run", "Retry"):
		return "async." + fn.Name(), true
	case IsFunc(fn, StreamPath, "ForEach"):
		return "stream.ForEach", true
	case IsMethod(fn, Path, "Future", "Await"),
		IsMethod(fn, Path, "Scope", "Wait"),
		IsMethod(fn, Path, "Queue", "Get", "Put", "All"),
		IsMethod(fn, Path, "Event", "Wait"):
		return recvName(fn) + "." + fn.Name(), true
	}
	return "", false
}

// RangesOverStream reports whether x, the operand of a range statement, is
// a call that makes a stream sequence (stream.Map, MapSettled, Merge, Batch
// or FromChan): ranging over it waits for the stream's goroutines. It returns
// a short name for messages ("stream.Map").
func RangesOverStream(info *types.Info, x ast.Expr) (string, bool) {
	call, ok := ast.Unparen(x).(*ast.CallExpr)
	if !ok {
		return "", false
	}
	if fn := Callee(info, call); IsFunc(fn, StreamPath, "Map", "MapSettled", "Merge", "Batch", "FromChan") {
		return "stream." + fn.Name(), true
	}
	return "", false
}

func recvName(fn *types.Func) string {
	t := fn.Type().(*types.Signature).Recv().Type()
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Origin().Obj().Name()
	}
	return "?"
}

// CallName is how messages name the function that call invokes: "async.Go"
// for library functions, "Future.Await" for methods, and the source text
// (without type arguments) for anything else, such as the value returned by
// async.Func.
func CallName(info *types.Info, call *ast.CallExpr) string {
	if fn := Callee(info, call); fn != nil && fn.Pkg() != nil {
		sig := fn.Type().(*types.Signature)
		if sig.Recv() != nil {
			return recvName(fn) + "." + fn.Name()
		}
		if strings.HasPrefix(fn.Pkg().Path(), Path) {
			return fn.Pkg().Name() + "." + fn.Name()
		}
	}
	fun := ast.Unparen(call.Fun)
	switch f := fun.(type) {
	case *ast.IndexExpr:
		fun = f.X
	case *ast.IndexListExpr:
		fun = f.X
	case *ast.FuncLit:
		return "a function literal"
	}
	s := types.ExprString(fun)
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}

// IsLocal reports whether v is a variable declared inside a function (not a
// package-level variable or a struct field).
func IsLocal(v *types.Var) bool {
	if v == nil || v.IsField() || v.Pkg() == nil || v.Parent() == nil {
		return false
	}
	return v.Parent() != v.Pkg().Scope() && v.Parent() != types.Universe
}

// RootIdent returns the identifier at the root of a chain of selectors,
// index expressions, stars and parentheses (x in x.a[i].b), or nil.
func RootIdent(e ast.Expr) *ast.Ident {
	for {
		switch x := e.(type) {
		case *ast.Ident:
			return x
		case *ast.SelectorExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		default:
			return nil
		}
	}
}

// ObjectOf returns the variable that id denotes (defined or used), or nil.
func ObjectOf(info *types.Info, id *ast.Ident) *types.Var {
	if id == nil {
		return nil
	}
	v, _ := info.ObjectOf(id).(*types.Var)
	return v
}

// Within reports whether pos lies inside node.
func Within(pos token.Pos, node ast.Node) bool {
	return node.Pos() <= pos && pos < node.End()
}
