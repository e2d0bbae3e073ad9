package async

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func panicsHere() (int, error) { panic(io.ErrUnexpectedEOF) }

func TestPanicBecomesError(t *testing.T) {
	_, err := Go(bg, func(context.Context) (int, error) { return panicsHere() }, Name("reader")).Await(bg)
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("got %T %v; want *PanicError", err, err)
	}
	if pe.Value != io.ErrUnexpectedEOF || pe.Task != "reader" {
		t.Fatalf("got %+v", pe)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatal("Unwrap does not reach the panic value")
	}
	// The stack is the panicking goroutine's own, not the awaiter's.
	if !strings.Contains(string(pe.Stack), "panicsHere") {
		t.Fatalf("stack does not show the panicking function:\n%s", pe.Stack)
	}
	msg := pe.Error()
	if !strings.Contains(msg, `"reader" panicked: unexpected EOF`) || !strings.Contains(msg, "panicsHere") {
		t.Fatalf("Error() = %q; want value and stack", msg)
	}
}

func TestPanicNonErrorValue(t *testing.T) {
	_, err := Go(bg, func(context.Context) (int, error) { panic(42) }).Await(bg)
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != 42 || pe.Unwrap() != nil {
		t.Fatalf("got %v", err)
	}
}

func TestPanicNil(t *testing.T) {
	_, err := Go(bg, func(context.Context) (int, error) { panic(nil) }).Await(bg)
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("panic(nil) settled with %v; want *PanicError", err)
	}
}

func TestPanicCreatedStackInDebugMode(t *testing.T) {
	defer SetDebug(SetDebug(true))
	_, err := Go(bg, func(context.Context) (int, error) { panic("x") }).Await(bg)
	var pe *PanicError
	if !errors.As(err, &pe) || !strings.Contains(string(pe.Created), "TestPanicCreatedStackInDebugMode") {
		t.Fatalf("debug mode did not record the spawn site: %q", pe.Created)
	}
	if !strings.Contains(pe.Error(), "task created at:") {
		t.Fatal("Error() omits the spawn site")
	}
}
