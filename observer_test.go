package async

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

type obsKey struct{}

// recordingObserver stores each task's name in its context, as a tracer
// stores a span, and records what it is told.
type recordingObserver struct {
	mu      sync.Mutex
	parents map[string]string // task name -> the name found in its start context
	ended   map[string]error
	awaits  [][]string         // per Awaiting call: waiter's name, then the awaited
	onAwait func(rec []string) // if set, told of each Awaiting call after it is recorded
}

func newRecordingObserver() *recordingObserver {
	return &recordingObserver{parents: map[string]string{}, ended: map[string]error{}}
}

func (o *recordingObserver) TaskStarted(ctx context.Context, name string) context.Context {
	o.mu.Lock()
	defer o.mu.Unlock()
	parent, _ := ctx.Value(obsKey{}).(string)
	o.parents[name] = parent
	return context.WithValue(ctx, obsKey{}, name)
}

func (o *recordingObserver) TaskEnded(ctx context.Context, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ended[ctx.Value(obsKey{}).(string)] = err
}

func (o *recordingObserver) Awaiting(ctx context.Context, on []context.Context) {
	o.mu.Lock()
	defer o.mu.Unlock()
	w, _ := ctx.Value(obsKey{}).(string)
	rec := []string{w}
	for _, c := range on {
		rec = append(rec, c.Value(obsKey{}).(string))
	}
	o.awaits = append(o.awaits, rec)
	if o.onAwait != nil {
		o.onAwait(rec)
	}
}

func TestObserverSeesTasksParentsOutcomesAndAwaits(t *testing.T) {
	o := newRecordingObserver()
	defer SetObserver(SetObserver(o))
	boom := errors.New("boom")
	seen := make(chan string, 1)
	release := make(chan struct{})
	var once sync.Once
	// The children finish only once All is waiting on them, so All must
	// await (and be observed doing so) whatever the scheduling.
	o.onAwait = func(rec []string) {
		if rec[0] == "obs-outer" {
			once.Do(func() { close(release) })
		}
	}
	_, err := Go(bg, func(ctx context.Context) (int, error) {
		seen <- ctx.Value(obsKey{}).(string) // the observer's value is in the task's context
		a := Go(ctx, func(context.Context) (int, error) { <-release; return 1, nil }, Name("obs-a"))
		b := Go(ctx, func(context.Context) (int, error) { <-release; return 0, boom }, Name("obs-b"))
		_, err := All(ctx, a, b)
		return 0, err
	}, Name("obs-outer")).Await(bg)
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if got := <-seen; got != "obs-outer" {
		t.Errorf("the task's context has %q; want obs-outer", got)
	}
	Go(bg, func(context.Context) (int, error) { panic("p") }, Name("obs-panic")).Await(bg)
	NewPromise[int]() // promises are not reported
	Rejected[int](boom).Await(bg)

	o.mu.Lock()
	defer o.mu.Unlock()
	if o.parents["obs-a"] != "obs-outer" || o.parents["obs-b"] != "obs-outer" || o.parents["obs-outer"] != "" {
		t.Errorf("start contexts: %v; want obs-a and obs-b under obs-outer", o.parents)
	}
	if o.ended["obs-a"] != nil || !errors.Is(o.ended["obs-b"], boom) || !errors.Is(o.ended["obs-outer"], boom) {
		t.Errorf("outcomes: %v", o.ended)
	}
	var pe *PanicError
	if !errors.As(o.ended["obs-panic"], &pe) {
		t.Errorf("panic outcome %v; want a *PanicError", o.ended["obs-panic"])
	}
	if len(o.parents) != 4 {
		t.Errorf("observed %d tasks; want 4 (no promise): %v", len(o.parents), o.parents)
	}
	// All from inside obs-outer awaited whichever of a and b were pending.
	found := false
	for _, a := range o.awaits {
		if a[0] == "obs-outer" && len(a) > 1 && !slices.Contains(a[1:], "obs-outer") {
			found = true
		}
	}
	if !found {
		t.Errorf("Awaiting calls %v; want one from obs-outer on its children", o.awaits)
	}
}

func TestSetObserverReturnsPrevious(t *testing.T) {
	o := newRecordingObserver()
	prev := SetObserver(o)
	if got := SetObserver(prev); got != o {
		t.Fatalf("SetObserver returned %v; want the observer installed before", got)
	}
	Go(bg, value(1), Name("after-removal")).Await(bg)
	if _, ok := o.parents["after-removal"]; ok {
		t.Fatal("a removed observer was told about a task")
	}
}

// printingObserver prints each task as it starts.
type printingObserver struct{}

func (printingObserver) TaskStarted(ctx context.Context, name string) context.Context {
	fmt.Println("task started:", name)
	return ctx // a tracer would return ctx with the task's span in it
}
func (printingObserver) TaskEnded(context.Context, error)            {}
func (printingObserver) Awaiting(context.Context, []context.Context) {}

// An Observer hears of every task; asyncotel's makes OpenTelemetry spans.
func ExampleSetObserver() {
	defer SetObserver(SetObserver(printingObserver{}))
	user, _ := Go(context.Background(), func(ctx context.Context) (string, error) {
		return "ada", nil
	}, Name("load-user")).Await(context.Background())
	fmt.Println(user)
	// Output:
	// task started: load-user
	// ada
}
