package async

import (
	"fmt"
	"runtime/debug"
)

// PanicError is the error of a task whose function panicked. It keeps the
// panic value, the stack of the goroutine that panicked, and the task's name.
type PanicError struct {
	// Value is what was passed to panic.
	Value any
	// Stack is the panicking goroutine's stack, as debug.Stack formats it.
	Stack []byte
	// Task is the task's name, if it has one.
	Task string
	// Created is where the task was started, recorded in debug mode only.
	Created []byte
}

func (e *PanicError) Error() string {
	name := ""
	if e.Task != "" {
		name = fmt.Sprintf(" %q", e.Task)
	}
	s := fmt.Sprintf("async: task%s panicked: %v\n\n%s", name, e.Value, e.Stack)
	if len(e.Created) > 0 {
		s += "\ntask created at:\n" + string(e.Created)
	}
	return s
}

// Unwrap returns the panic value when it is an error, so errors.Is and
// errors.As see through the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// newPanicError records a recovered value. It must be called on the panicking
// goroutine, in the deferred function that recovered, so the stack is the
// task's own.
func newPanicError(v any, t *task) *PanicError {
	p := &PanicError{Value: v, Stack: debug.Stack()}
	if t != nil {
		p.Task = t.name()
		p.Created = t.createdStack()
	}
	return p
}
