package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/goasync/async"
	"github.com/goasync/async/console"
)

// runWithConsole turns on debug mode, serves the task console on addr, runs
// the tour, then keeps a small live workload going (orders, a thumbnail
// pool, and two tasks stuck awaiting each other) so that a person can look
// at it, until interrupted.
func runWithConsole(addr string) error {
	async.SetDebug(true)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: console.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	fmt.Printf("goasync console: http://%s/  (Ctrl-C to stop)\n", ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	demo := async.Go(ctx, func(ctx context.Context) (struct{}, error) { return struct{}{}, liveDemo(ctx) }, async.Name("live-demo"))
	if err := run(); err != nil {
		return err
	}
	fmt.Printf("\nThe tour is over; the console at http://%s/ keeps showing a live workload. Ctrl-C to stop.\n", ln.Addr())
	_, err = demo.Await(context.Background())
	return err
}

// liveDemo runs until ctx ends: an order handler every half second, each
// starting and awaiting two children (one in five fails), thumbnails
// through a pool of three workers, and an await cycle that only ctx's end
// breaks.
func liveDemo(ctx context.Context) error {
	pool := async.NewPool(3, async.Name("thumbnails"))
	defer pool.Close()
	var deadB *async.Future[int]
	ready := make(chan struct{})
	deadA := async.Go(ctx, func(ctx context.Context) (int, error) { <-ready; return deadB.Await(ctx) }, async.Name("refund-lock"))
	deadB = async.Go(ctx, func(ctx context.Context) (int, error) { return deadA.Await(ctx) }, async.Name("ledger-lock"))
	close(ready)

	work := func(ctx context.Context, d time.Duration, fail bool) (int, error) {
		if err := async.Sleep(ctx, d); err != nil {
			return 0, err
		}
		if fail {
			return 0, errors.New("card declined")
		}
		return 1, nil
	}
	var orders []*async.Future[int]
	for n := 0; ctx.Err() == nil; n++ {
		orders = append(orders, async.Go(ctx, func(ctx context.Context) (int, error) {
			charge := async.Go(ctx, func(ctx context.Context) (int, error) {
				return work(ctx, time.Duration(500+rand.IntN(2500))*time.Millisecond, n%5 == 4)
			}, async.Name("charge-card"))
			reserve := async.Go(ctx, func(ctx context.Context) (int, error) {
				return work(ctx, time.Duration(200+rand.IntN(1500))*time.Millisecond, false)
			}, async.Name("reserve-stock"))
			_, err := async.All(ctx, charge, reserve)
			return n, err
		}, async.Name(fmt.Sprintf("order-%d", n%10))))
		for range 2 {
			orders = append(orders, async.Submit(ctx, pool, func(ctx context.Context) (int, error) {
				return work(ctx, time.Duration(300+rand.IntN(3000))*time.Millisecond, false)
			}))
		}
		async.Sleep(ctx, 500*time.Millisecond)
	}
	// ctx has ended: wait for the work to wind down regardless.
	async.AllSettled(context.WithoutCancel(ctx), append(orders, deadA, deadB)...)
	return nil
}
