package stream

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestPullPanicKeepsIteratorStack(t *testing.T) {
	s := pull(panickyInput)
	defer s.stop()
	if v, ok := s.next(); !ok || v != 1 {
		t.Fatalf("next = %d, %v", v, ok)
	}
	if _, ok := s.next(); ok {
		t.Fatal("next went on after the iterator panicked")
	}
	if s.panicked == nil || s.panicked.Value != "input broke" {
		t.Fatalf("panicked = %v", s.panicked)
	}
	if !bytes.Contains(s.panicked.Stack, []byte("panickyInput")) {
		t.Fatalf("stack lacks the iterator:\n%s", s.panicked.Stack)
	}
}

func panickyInput(yield func(int) bool) {
	if !yield(1) {
		return
	}
	panic("input broke")
}

func TestCheckArgs(t *testing.T) {
	var nilCtx context.Context
	for _, tc := range []struct {
		ctx          context.Context
		nilIn, nilFn bool
		want         string
	}{
		{nilCtx, false, false, "nil Context"},
		{context.Background(), true, false, "nil input"},
		{context.Background(), false, true, "nil function"},
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.HasPrefix(msg, "async: X") || !strings.Contains(msg, tc.want) {
					t.Errorf("panic %q, want async: X ... %s", msg, tc.want)
				}
			}()
			checkArgs("X", tc.ctx, tc.nilIn, tc.nilFn)
		}()
	}
}
