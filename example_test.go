package async_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/goasync/async"
)

// fetch stands in for a slow call such as an HTTP request.
func fetch(ctx context.Context, url string) (string, error) {
	if err := async.Sleep(ctx, 10*time.Millisecond); err != nil {
		return "", err
	}
	if strings.Contains(url, "broken") {
		return "", fmt.Errorf("GET %s: 503", url)
	}
	return "body of " + url, nil
}

func ExampleGo() {
	ctx := context.Background()
	f := async.Go(ctx, func(ctx context.Context) (string, error) {
		return fetch(ctx, "/users/1")
	})
	// ... do other work while the request runs ...
	body, err := f.Await(ctx)
	fmt.Println(body, err)
	// Output: body of /users/1 <nil>
}

func ExampleFuture_Await() {
	ctx := context.Background()
	ready := make(chan struct{})
	f := async.Go(ctx, func(ctx context.Context) (string, error) {
		<-ready
		return "done", nil
	})
	// Give up waiting after 1 ms: the future is not harmed by it.
	short, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	_, err := f.Await(short)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	close(ready)
	// Await again, for as long as it takes.
	v, err := f.Await(ctx)
	fmt.Println(v, err)
	// Output:
	// true
	// done <nil>
}

func ExampleFunc() {
	ctx := context.Background()
	fetchAsync := async.Func(fetch) // like an async function: calls start work
	a, b := fetchAsync(ctx, "/a"), fetchAsync(ctx, "/b")
	bodies, err := async.All(ctx, a, b)
	fmt.Println(bodies, err)
	// Output: [body of /a body of /b] <nil>
}

func ExampleAll() {
	ctx := context.Background()
	urls := []string{"/a", "/b", "/c"}
	fs := make([]*async.Future[string], len(urls))
	for i, u := range urls {
		fs[i] = async.Go(ctx, func(ctx context.Context) (string, error) { return fetch(ctx, u) })
	}
	bodies, err := async.All(ctx, fs...) // in input order, fails fast
	fmt.Println(len(bodies), bodies[2], err)
	// Output: 3 body of /c <nil>
}

func ExampleAllSettled() {
	ctx := context.Background()
	fetchAsync := async.Func(fetch)
	results, _ := async.AllSettled(ctx, fetchAsync(ctx, "/a"), fetchAsync(ctx, "/broken"))
	for _, r := range results {
		fmt.Printf("%q %v\n", r.Value, r.Err)
	}
	// Output:
	// "body of /a" <nil>
	// "" GET /broken: 503
}

func ExampleAny() {
	ctx := context.Background()
	mirror := func(url string, delay time.Duration) *async.Future[string] {
		return async.Go(ctx, func(ctx context.Context) (string, error) {
			if err := async.Sleep(ctx, delay); err != nil {
				return "", err
			}
			return fetch(ctx, url)
		})
	}
	// The first success wins; a fast failure does not.
	body, err := async.Any(ctx, mirror("/broken", 0), mirror("/mirror-2", 20*time.Millisecond))
	fmt.Println(body, err)
	// Output: body of /mirror-2 <nil>
}

func ExampleRace() {
	ctx := context.Background()
	slow := async.Go(ctx, func(ctx context.Context) (string, error) {
		return "slow", async.Sleep(ctx, time.Second)
	})
	fast := async.Go(ctx, func(ctx context.Context) (string, error) { return "fast", nil })
	v, err := async.Race(ctx, slow, fast)
	fmt.Println(v, err)
	slow.Cancel() // Race cancels nothing itself
	// Output: fast <nil>
}

func ExamplePromise() {
	ctx := context.Background()
	// Bridge a callback API to a future.
	p := async.NewPromise[string]()
	onMessage := func(msg string, err error) {
		if err != nil {
			p.Reject(err)
			return
		}
		p.Resolve(msg)
	}
	go onMessage("hello", nil)
	msg, err := p.Future().Await(ctx)
	fmt.Println(msg, err)
	// Output: hello <nil>
}

func ExampleThen() {
	ctx := context.Background()
	body := async.Go(ctx, func(ctx context.Context) (string, error) { return fetch(ctx, "/a") })
	length := async.Then(ctx, body, func(ctx context.Context, s string) (int, error) { return len(s), nil })
	n, err := length.Await(ctx)
	fmt.Println(n, err)
	// Output: 10 <nil>
}

func ExampleCatch() {
	ctx := context.Background()
	body := async.Go(ctx, func(ctx context.Context) (string, error) { return fetch(ctx, "/broken") })
	withFallback := async.Catch(ctx, body, func(ctx context.Context, err error) (string, error) {
		return "cached copy", nil
	})
	v, err := withFallback.Await(ctx)
	fmt.Println(v, err)
	// Output: cached copy <nil>
}

func ExampleAsCompleted() {
	ctx := context.Background()
	ps := []*async.Promise[string]{async.NewPromise[string](), async.NewPromise[string](), async.NewPromise[string]()}
	ps[1].Resolve("b") // settled before: yielded first
	for i, r := range async.AsCompleted(ctx, ps[0].Future(), ps[1].Future(), ps[2].Future()) {
		fmt.Println(i, r.Value)
		switch i { // settle the others in the order 2, 0
		case 1:
			ps[2].Resolve("c")
		case 2:
			ps[0].Resolve("a")
		}
	}
	// Output:
	// 1 b
	// 2 c
	// 0 a
}

func ExamplePanicError() {
	ctx := context.Background()
	f := async.Go(ctx, func(ctx context.Context) (int, error) {
		var items []int
		return items[3], nil // panics: index out of range
	}, async.Name("writer"))
	_, err := f.Await(ctx)
	var pe *async.PanicError
	if errors.As(err, &pe) {
		fmt.Println(pe.Task, pe.Value)
	}
	// Output: writer runtime error: index out of range [3] with length 0
}

func ExampleTimeout() {
	ctx := context.Background()
	f := async.Go(ctx, func(ctx context.Context) (string, error) {
		return fetch(ctx, "/slow")
	}, async.Timeout(time.Millisecond))
	_, err := f.Await(ctx)
	fmt.Println(errors.Is(err, async.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	// Output: true true
}

func ExampleSetUnobservedHandler() {
	reported := make(chan async.UnobservedFailure, 1)
	prev := async.SetUnobservedHandler(func(u async.UnobservedFailure) {
		select {
		case reported <- u:
		default:
		}
	})
	defer func() { async.SetUnobservedHandler(prev) }()
	// A failure nobody awaits is reported when the future is garbage-collected
	// (see the tour for a full run).
	fmt.Println(prev != nil)
	// Output: true
}

func ExampleRetry() {
	ctx := context.Background()
	tries := 0
	// An endpoint that is down twice, then answers.
	get := func(ctx context.Context) (string, error) {
		tries++
		if tries < 3 {
			return "", fmt.Errorf("GET /status: 503")
		}
		return "up", nil
	}
	status, err := async.Retry(ctx, get, async.Attempts(5), async.Backoff(time.Millisecond, 10*time.Millisecond))
	fmt.Println(status, err, tries)

	// A permanent error is not retried; the final error says how many
	// attempts were made.
	_, err = async.Retry(ctx, func(ctx context.Context) (string, error) {
		return "", async.Permanent(errors.New("GET /status: 404"))
	})
	fmt.Println(err)
	// Output:
	// up <nil> 3
	// async: 1 attempt: GET /status: 404
}

func ExampleMapSettled() {
	ctx := context.Background()
	urls := []string{"/a", "/broken", "/c"}
	// Every URL is fetched, whatever the others do; a deadline for the
	// whole run would leave the unfinished ones with its error.
	results := async.MapSettled(ctx, urls, fetch, async.Limit(8), async.Timeout(time.Second))
	for i, r := range results {
		fmt.Println(urls[i], r.Value, r.Err)
	}
	// Output:
	// /a body of /a <nil>
	// /broken  GET /broken: 503
	// /c body of /c <nil>
}

func ExampleAllSettled_deadline() {
	ctx := context.Background()
	fast := async.Go(ctx, func(ctx context.Context) (string, error) { return "fast", nil })
	slow := async.Go(ctx, func(ctx context.Context) (string, error) {
		return "slow", async.Sleep(ctx, time.Hour)
	})
	fast.Await(ctx) // settled before the deadline, for a stable output

	// Take what has settled when the deadline comes; the rest is marked
	// ErrNotSettled and keeps running.
	deadline, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	results, err := async.AllSettled(deadline, fast, slow)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	for _, r := range results {
		fmt.Println(r.Value, r.Err)
	}
	slow.Cancel()
	// Output:
	// true
	// fast <nil>
	//  async: not settled
}

// TaskStats sums up the tasks of each name, as a console's statistics do.
func ExampleTaskStats() {
	defer async.SetDebug(async.SetDebug(false))
	async.SetDebug(true) // a fresh count
	ctx := context.Background()
	fs := make([]*async.Future[int], 4)
	for i := range fs {
		fs[i] = async.Go(ctx, func(context.Context) (int, error) {
			if i == 3 {
				return 0, errors.New("upstream: 503")
			}
			return i, nil
		}, async.Name("fetch"))
	}
	async.AllSettled(ctx, fs...)
	for _, s := range async.TaskStats() {
		fmt.Printf("%s: %d settled, %d failed (%.0f%%)\n", s.Name, s.Settled, s.Failed, 100*s.FailureRate())
	}
	// Output:
	// fetch: 4 settled, 1 failed (25%)
}
