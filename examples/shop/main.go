// Command shop is a small online shop's HTTP JSON API built on goasync: a
// whole service with real parts, not mocks.
//
//   - GET /products/{id}: the product from an embedded SQLite database, its
//     reviews and every seller's offer from a downstream HTTP service, each
//     call with its own timeout and retries, answered at a deadline with
//     whatever has arrived (the missing parts are listed).
//     GET /errgroup/products/{id} is the same handler written with errgroup.
//   - POST /orders: an order in a database transaction, and its confirmation
//     email as a background job on dist workers (embedded NATS server).
//   - POST /products/{id}/thumbnail: a thumbnail made by a background job.
//   - GET /jobs/{id}?wait=SECONDS: how a job went.
//   - /debug/async/: goasync's live console. Traces go to stdout (OpenTelemetry).
//
// SIGINT or SIGTERM stops it gracefully: no new requests, running ones and
// queued jobs finish, then workers, NATS and the database close.
//
//	go run ./examples/shop                      # serves on 127.0.0.1:8080
//	go run ./examples/shop -load 30s            # load: goasync's handler beside errgroup's
//
// The load generator starts the service in the same process (no tracing,
// no debug mode), drives the two product-page handlers in alternating
// rounds with the same concurrency against the same downstream behavior, and
// prints p50 and p99 latency and throughput for each.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/goasync/async"
	"github.com/goasync/async/asyncotel"
	"github.com/goasync/async/console"
	"github.com/goasync/async/dist"
	"github.com/goasync/async/dist/server"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// config is everything run needs; main fills it from flags.
type config struct {
	Addr       string // HTTP listen address
	Dir        string // database and JetStream files; "" = a temporary directory
	Downstream string // base URL of the downstream service; "" = run one on loopback
	Down       downstreamConfig
	Fan        fanout
	Workers    int           // dist handlers run at once
	MailDelay  time.Duration // how long the mail server takes to accept an email
	Trace      io.Writer     // OpenTelemetry spans as JSON; nil = none
	Debug      bool          // goasync's debug mode, for the console's task tree
	Log        *slog.Logger
	// Ready, if set, is told the service's base URL once it serves.
	Ready func(url string)
}

func defaultConfig() config {
	return config{
		Addr:      "127.0.0.1:8080",
		Down:      loadDownstream(),
		Fan:       fanout{Budget: 250 * time.Millisecond, PerCall: 100 * time.Millisecond, Attempts: 3, Backoff: 10 * time.Millisecond},
		Workers:   8,
		MailDelay: 20 * time.Millisecond,
		Log:       slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
}

func main() {
	cfg := defaultConfig()
	load := flag.Duration("load", 0, "run the load generator for this long instead of serving")
	conc := flag.Int("c", 32, "with -load: concurrent clients")
	flag.StringVar(&cfg.Addr, "addr", cfg.Addr, "HTTP listen address")
	flag.StringVar(&cfg.Dir, "dir", "", "directory for shop.db and JetStream's files (default: a temporary one)")
	flag.StringVar(&cfg.Downstream, "downstream", "", "base URL of the reviews and offers service (default: a simulated one on loopback)")
	flag.DurationVar(&cfg.Fan.Budget, "budget", cfg.Fan.Budget, "deadline of a product page")
	flag.DurationVar(&cfg.Fan.PerCall, "per-call", cfg.Fan.PerCall, "timeout of one downstream attempt")
	flag.IntVar(&cfg.Fan.Attempts, "attempts", cfg.Fan.Attempts, "downstream attempts per part")
	noTrace := flag.Bool("notrace", false, "do not print OpenTelemetry spans on stdout")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *load > 0 {
		err = runLoad(ctx, cfg, *load, *conc, os.Stdout)
	} else {
		cfg.Debug = true
		if !*noTrace {
			cfg.Trace = os.Stdout
		}
		cfg.Ready = func(url string) { cfg.Log.Info("shop serving", "url", url, "console", url+"/debug/async/") }
		err = run(ctx, cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "shop:", err)
		os.Exit(1)
	}
}

// shop holds the service's parts; its methods are the HTTP handlers.
type shop struct {
	db      *store
	http    *http.Client
	downURL string
	sellers []string
	fan     fanout
	tracer  trace.Tracer
	log     *slog.Logger

	jobs       *dist.Client
	jobsCtx    context.Context // jobs belong to it: canceled if shutdown gives up on them
	background *async.Scope    // follows queued jobs; shutdown waits for it
}

func (s *shop) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /products/{id}", s.productPage)
	mux.HandleFunc("GET /errgroup/products/{id}", s.productPageErrgroup)
	mux.HandleFunc("POST /orders", s.placeOrder)
	mux.HandleFunc("POST /products/{id}/thumbnail", s.makeThumbnail)
	mux.HandleFunc("GET /jobs/{id}", s.jobStatus)
	mux.Handle("/debug/async/", http.StripPrefix("/debug/async", console.Handler()))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, "ok") })
	return mux
}

// shutdownGrace bounds each step of a graceful shutdown.
const shutdownGrace = 10 * time.Second

// run serves until ctx ends, then shuts down gracefully and returns nil, or
// returns the error that kept it from serving.
func run(ctx context.Context, cfg config) (err error) {
	log := cfg.Log
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "shop-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.Dir = dir
	}
	if cfg.Debug {
		defer async.SetDebug(async.SetDebug(true))
	}

	// Tracing: every task becomes a span (asyncotel), children of the
	// request's span.
	var tp trace.TracerProvider = noop.NewTracerProvider()
	if cfg.Trace != nil {
		exp, err := stdouttrace.New(stdouttrace.WithWriter(cfg.Trace))
		if err != nil {
			return err
		}
		sdk := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
		defer func() { err = errors.Join(err, sdk.Shutdown(context.Background())) }()
		tp = sdk
		obs, err := asyncotel.New(asyncotel.WithTracerProvider(sdk))
		if err != nil {
			return err
		}
		defer obs.Close()
		prev := async.SetObserver(obs)
		defer async.SetObserver(prev)
	}

	db, err := openStore(ctx, cfg.Dir)
	if err != nil {
		return err
	}
	defer db.Close()

	// The downstream service, unless a real one is named.
	downURL := cfg.Downstream
	if downURL == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		down := &http.Server{Handler: newDownstream(cfg.Down).handler(), ReadHeaderTimeout: 5 * time.Second}
		go down.Serve(ln)
		defer down.Close()
		downURL = "http://" + ln.Addr().String()
	}

	// NATS with JetStream inside this process, a worker and a client.
	ns, err := server.Start(server.Options{Dir: cfg.Dir + "/nats"})
	if err != nil {
		return err
	}
	defer ns.Close()
	nc, err := nats.Connect(ns.URL(), nats.MaxReconnects(-1))
	if err != nil {
		return err
	}
	defer nc.Close()
	worker, err := dist.NewWorker(nc, dist.Concurrency(cfg.Workers))
	if err != nil {
		return err
	}
	registerJobs(worker, db, cfg.MailDelay)
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	workerDone := make(chan error, 1)
	go func() { workerDone <- worker.Run(workerCtx) }()
	defer func() {
		stopWorker() // Run lets running jobs finish and store their results
		err = errors.Join(err, <-workerDone)
	}()
	select { // serve once the worker takes jobs: a job queued before would find no worker
	case <-worker.Ready():
	case err := <-workerDone:
		workerDone <- err
		return err
	}
	jobs, err := dist.NewClient(nc)
	if err != nil {
		return err
	}
	defer jobs.Close()

	jobsCtx, abandonJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer abandonJobs()
	s := &shop{
		db:      db,
		http:    &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}},
		downURL: downURL,
		sellers: cfg.Down.Sellers,
		fan:     cfg.Fan,
		tracer:  tp.Tracer("github.com/goasync/async/examples/shop"),
		log:     log,
		jobs:    jobs,
		jobsCtx: jobsCtx,
		// Supervise: a job's failure is logged by its follower and must
		// not cancel the others.
		background: async.NewScope(jobsCtx, async.Supervise(), async.Name("jobs")),
	}
	defer s.http.CloseIdleConnections()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		_ = s.background.Wait()
		return err
	}
	srv := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 5 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	if cfg.Ready != nil {
		cfg.Ready("http://" + ln.Addr().String())
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		_ = s.background.Wait()
		return err
	}
	// Graceful shutdown: stop taking requests and let running ones end,
	// then wait for the queued jobs (cancel those still out after the grace
	// period); the deferred calls then stop the worker, the client, NATS and
	// the database, in that order.
	log.Info("shop stopping")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err = srv.Shutdown(sctx)
	<-serveErr
	waited := make(chan error, 1)
	go func() { waited <- s.background.Wait() }()
	select {
	case <-waited:
	case <-time.After(shutdownGrace):
		log.Warn("jobs still running after the grace period: canceling them")
		abandonJobs()
		<-waited
	}
	return err
}
