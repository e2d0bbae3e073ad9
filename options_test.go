package async

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"
)

// Each option belongs to exactly the families of the calls it applies to, so
// that a misplaced option is a compile error. The type system says it; this
// checks that the families say what the documentation does.
func TestOptionFamilies(t *testing.T) {
	families := map[string]reflect.Type{
		"Task":   reflect.TypeFor[TaskOption](),
		"Map":    reflect.TypeFor[MapOption](),
		"Stream": reflect.TypeFor[StreamOption](),
		"Scope":  reflect.TypeFor[ScopeOption](),
		"Pool":   reflect.TypeFor[PoolOption](),
		"Loop":   reflect.TypeFor[LoopOption](),
		"Call":   reflect.TypeFor[CallOption](),
	}
	opts := []struct {
		name string
		opt  any
		in   []string
	}{
		{"Name", Name("x"), []string{"Task", "Scope", "Pool", "Loop"}},
		{"Timeout", Timeout(time.Second), []string{"Task", "Map", "Stream", "Call"}},
		{"Attempts", Attempts(2), []string{"Task", "Map", "Stream", "Call"}},
		{"Backoff", Backoff(0, 0), []string{"Task", "Map", "Stream", "Call"}},
		{"RetryIf", RetryIf(func(error) bool { return true }), []string{"Task", "Map", "Stream", "Call"}},
		{"Limit", Limit(2), []string{"Map", "Stream", "Scope"}},
		{"Progress", Progress(func(int, int) {}), []string{"Map", "Stream", "Scope", "Pool"}},
		{"Supervise", Supervise(), []string{"Scope"}},
		{"Backlog", Backlog(1), []string{"Pool"}},
		{"Unordered", Unordered(), []string{"Stream"}},
		{"Buffer", Buffer(1), []string{"Stream"}},
		{"Seed", Seed(1), []string{"Loop"}},
		{"VirtualTime", VirtualTime(), []string{"Loop"}},
		{"SlowTask", SlowTask(time.Second), []string{"Loop"}},
	}
	for _, o := range opts {
		want := make(map[string]bool)
		for _, f := range o.in {
			want[f] = true
		}
		for f, ft := range families {
			if got := reflect.TypeOf(o.opt).Implements(ft); got != want[f] {
				t.Errorf("%s is a %sOption: %v; want %v", o.name, f, got, want[f])
			}
		}
	}
}

// progressLog records Progress reports and checks their invariants: done
// and total never decrease, and done never exceeds a known total.
type progressLog struct {
	t           *testing.T
	mu          sync.Mutex
	done, total int
	calls       int
}

func (p *progressLog) report(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if done < p.done || total < p.total || total >= 0 && done > total {
		p.t.Errorf("progress (%d, %d) after (%d, %d)", done, total, p.done, p.total)
	}
	p.done, p.total, p.calls = done, total, p.calls+1
}

func (p *progressLog) last() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done, p.total
}

func TestScopeProgress(t *testing.T) {
	for _, opts := range [][]ScopeOption{nil, {Limit(2)}} {
		log := &progressLog{t: t}
		err := Run(bg, func(s *Scope) error {
			for range 20 {
				s.Go(func(context.Context) error { return nil })
			}
			Spawn(s, func(context.Context) (int, error) { return 1, nil })
			return nil
		}, append(opts, Progress(log.report))...)
		if err != nil {
			t.Fatal(err)
		}
		if d, tot := log.last(); d != 21 || tot != 21 {
			t.Fatalf("%v: last progress (%d, %d); want (21, 21)", opts, d, tot)
		}
	}
	err := RunLoop(bg, func(ctx context.Context) error {
		log := &progressLog{t: t}
		err := Run(ctx, func(s *Scope) error {
			for range 5 {
				s.Go(func(ctx context.Context) error { return Sleep(ctx, time.Second) })
			}
			return nil
		}, Limit(2), Progress(log.report))
		if d, tot := log.last(); d != 5 || tot != 5 {
			t.Errorf("in a loop: last progress (%d, %d); want (5, 5)", d, tot)
		}
		return err
	}, VirtualTime())
	if err != nil {
		t.Fatal(err)
	}
}

func TestPoolProgress(t *testing.T) {
	log := &progressLog{t: t}
	p := NewPool(2, Progress(log.report))
	var fs []*Future[int]
	for i := range 10 {
		fs = append(fs, Submit(bg, p, value(i)))
	}
	if err := p.Go(bg, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := All(bg, fs...); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	Submit(bg, p, value(0)).Await(bg) // refused: closed
	if d, tot := log.last(); d != 12 || tot != 12 {
		t.Fatalf("last progress (%d, %d); want (12, 12)", d, tot)
	}
}
