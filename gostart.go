package async

import "unsafe"

// Starting a task's goroutine without allocating.
//
// A go statement with arguments allocates a closure for them, 16 bytes and
// an allocation per task on top of the task's own. A goroutine started from
// a func value with no arguments does not: the runtime keeps the func value
// (a pointer to a closure: its code, then what it captured) and calls it.
// So a task's allocation carries a goStart laid out as the compiler lays out
// the closure that startClosure returns, and goTask starts the goroutine from
// it. The layout is checked once, against a closure the compiler made; if it
// ever differs, goTask allocates the closure as a go statement would.

// goStart is a closure of startClosure's code and the task it starts, in the
// task's own allocation.
type goStart struct {
	code uintptr // the code of the closure startClosure returns
	t    *task
}

// startClosure returns the closure a task's goroutine runs (its code is
// startCode): it takes the task's starter out of err and runs it. The body
// is here rather than in a function it calls, one frame less on the
// goroutine's new stack.
func startClosure(t *task) func() {
	return func() {
		s := t.err.(starter)
		t.err = nil
		s.start(t)
	}
}

// startCode is the code of startClosure's closure if that closure is laid
// out as goStart is (the code, then the captured pointer), or 0.
var startCode = closureCode(startClosure(&probeTask), unsafe.Pointer(&probeTask))

var probeTask task

// closureCode returns fn's code if fn's closure holds exactly the code and
// then captured, or 0.
func closureCode(fn func(), captured unsafe.Pointer) uintptr {
	cl := *(*unsafe.Pointer)(unsafe.Pointer(&fn))
	words := (*[2]uintptr)(cl)
	if words[0] == 0 || words[1] != uintptr(captured) {
		return 0
	}
	return words[0]
}

// goTask starts the goroutine of t, whose allocation holds s: it keeps st
// in t's err field and runs startClosure's closure. It is not generic, so the
// goroutine's first function has the same short name for every type (the
// runtime reads it when the goroutine starts and ends).
//
//go:noinline
func goTask(t *task, s *goStart, st starter) {
	t.err = st
	if startCode == 0 {
		fn := startClosure(t)
		go fn()
		return
	}
	s.code, s.t = startCode, t
	var fn func()
	*(*unsafe.Pointer)(unsafe.Pointer(&fn)) = unsafe.Pointer(s)
	go fn()
}
