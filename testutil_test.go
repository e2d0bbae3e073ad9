package async

import (
	"context"
	"strings"
	"testing"
)

// mustPanic runs fn and checks it panics with a message starting "async:"
// and containing want.
func mustPanic(t *testing.T, want string, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic; want one containing %q", want)
		}
		msg, ok := r.(string)
		if !ok {
			t.Fatalf("panic value %T %v; want a string", r, r)
		}
		if !strings.HasPrefix(msg, "async:") || !strings.Contains(msg, want) {
			t.Fatalf("panic %q; want prefix async: and %q", msg, want)
		}
	}()
	fn()
}

func value[T any](v T) func(context.Context) (T, error) {
	return func(context.Context) (T, error) { return v, nil }
}

func failing[T any](err error) func(context.Context) (T, error) {
	return func(context.Context) (T, error) { var zero T; return zero, err }
}
