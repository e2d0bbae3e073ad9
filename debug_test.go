package async

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// In debug mode a panic report carries the async stack trace: the task's
// spawn site, then the spawn site of each task that started it.
func TestDebugAsyncStackTrace(t *testing.T) {
	defer SetDebug(SetDebug(true))
	_, err := Go(bg, func(ctx context.Context) (int, error) {
		return startInner(ctx).Await(ctx)
	}, Name("outer")).Await(bg)
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v; want a *PanicError", err)
	}
	created := string(pe.Created)
	inner := strings.Index(created, "async.startInner")
	by := strings.Index(created, `started by task "outer"`)
	outer := strings.LastIndex(created, "async.TestDebugAsyncStackTrace\n")
	if inner < 0 || by < inner || outer < by {
		t.Fatalf("async stack trace lacks inner's site, then outer's:\n%s", created)
	}
	if first := strings.SplitN(created, "\n", 2)[0]; !strings.HasSuffix(first, "async.startInner") {
		t.Errorf("the trace starts at %q; want the user's call in startInner, no library frame", first)
	}
}

//go:noinline
func startInner(ctx context.Context) *Future[int] {
	return Go(ctx, func(context.Context) (int, error) { panic("inner broke") }, Name("inner"))
}

// The async stack trace stops after maxAncestors tasks, so a chain of tasks
// each starting the next keeps a bounded record.
func TestDebugAsyncStackIsBounded(t *testing.T) {
	defer SetDebug(SetDebug(true))
	var chain func(ctx context.Context, n int) (int, error)
	chain = func(ctx context.Context, n int) (int, error) {
		if n == 0 {
			panic("bottom")
		}
		return Go(ctx, func(ctx context.Context) (int, error) { return chain(ctx, n-1) }).Await(ctx)
	}
	_, err := chain(bg, 3*maxAncestors)
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v; want a *PanicError", err)
	}
	if n := strings.Count(string(pe.Created), "started by task"); n != maxAncestors {
		t.Fatalf("%d ancestors in the trace; want %d", n, maxAncestors)
	}
}

// Spawn sites skip the library's frames for every way of starting a task.
func TestDebugSpawnSiteIsTheCaller(t *testing.T) {
	defer SetDebug(SetDebug(true))
	p := NewPool(1)
	defer p.Close()
	fs := map[string]*Future[int]{
		"Go":     Go(bg, value(1)),
		"Submit": Submit(bg, p, value(1)),
		"Then":   Then(bg, Resolved(1), func(context.Context, int) (int, error) { return 1, nil }),
		"Func":   Func(func(context.Context, int) (int, error) { return 1, nil })(bg, 0),
	}
	err := Run(bg, func(s *Scope) error {
		fs["Spawn"] = Spawn(s, value(1))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for how, f := range fs {
		if _, err := f.Await(bg); err != nil {
			t.Fatal(err)
		}
		x := f.t.x.Load()
		if x == nil || x.created == nil {
			t.Fatalf("%s: no spawn site recorded", how)
		}
		if site := spawnSite(x.created); !strings.Contains(site, "TestDebugSpawnSiteIsTheCaller") {
			t.Errorf("%s: spawn site %q; want the test", how, site)
		}
	}
}

func TestSetDebugReturnsPrevious(t *testing.T) {
	prev := SetDebug(true)
	defer SetDebug(prev)
	if !SetDebug(false) {
		t.Fatal("SetDebug(false) after SetDebug(true) returned false")
	}
	if SetDebug(true) {
		t.Fatal("SetDebug(true) after SetDebug(false) returned true")
	}
}

func TestDebugging(t *testing.T) {
	prev := SetDebug(true)
	defer SetDebug(prev)
	if !Debugging() {
		t.Fatal("Debugging() = false with debug mode on")
	}
	SetDebug(false)
	if Debugging() {
		t.Fatal("Debugging() = true with debug mode off")
	}
}
