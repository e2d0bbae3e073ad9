// Command fanout spreads work over a fleet of workers with dist.Call and
// gathers it with async.All.
//
// With no flags it runs everything in one process: an embedded NATS server
// with JetStream, three workers and a client. To scale out, run the same
// binary on several machines against one NATS server (or cluster):
//
//	fanout -role server -listen 0.0.0.0:4222 -user app -password SECRET   # a NATS server, if you have none
//	fanout -nats nats://app:SECRET@HOST:4222 -role worker   # on each worker machine
//	fanout -nats nats://app:SECRET@HOST:4222 -role client   # wherever the work starts
//
// A server listening beyond loopback refuses to start without -user and
// -password (or -insecure, which lets anyone who reaches the port run and
// forge tasks). Traffic is not encrypted: use it on a private network, or
// run nats-server with TLS.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/goasync/async"
	"github.com/goasync/async/dist"
	"github.com/goasync/async/dist/server"
	"github.com/nats-io/nats.go"
)

// Digest is the work: hash a text many times.
type Digest struct {
	Text   string `json:"text"`
	Rounds int    `json:"rounds"`
}

// DigestResult says what came out and which worker did it.
type DigestResult struct {
	Hex    string `json:"hex"`
	Worker string `json:"worker"`
}

func main() {
	url := flag.String("nats", "", "NATS server URL (default: start an embedded server)")
	role := flag.String("role", "all", "all, server, worker or client")
	listen := flag.String("listen", "127.0.0.1:4222", "address of the embedded server (role server)")
	user := flag.String("user", "", "user name clients and workers must give (role server)")
	password := flag.String("password", "", "their password (role server; default: $FANOUT_PASSWORD)")
	insecure := flag.Bool("insecure", false, "allow a server beyond loopback without a password (role server)")
	workers := flag.Int("workers", 3, "workers to start (roles all and worker)")
	tasks := flag.Int("tasks", 24, "tasks to fan out (roles all and client)")
	name := flag.String("name", "", "worker name (default: from the host)")
	flag.Parse()
	if *role == "server" {
		if *password == "" {
			*password = os.Getenv("FANOUT_PASSWORD")
		}
		if err := serve(*listen, *user, *password, *insecure); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := run(*url, *role, *workers, *tasks, *name); err != nil {
		log.Fatal(err)
	}
}

// serve runs an embedded NATS server with JetStream until interrupted. It
// refuses to listen beyond loopback without a user and password, unless
// insecure says so, and then warns.
func serve(listen, user, password string, insecure bool) error {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return err
	}
	if (user == "") != (password == "") {
		return errors.New("-user and -password go together")
	}
	opts := server.Options{Host: host, Port: p}
	if user != "" {
		opts.Users = []server.User{{Name: user, Password: password}}
	} else if !loopback(host) {
		if !insecure {
			return fmt.Errorf("refusing to listen on %s without -user and -password: anyone who reaches it could run and forge tasks (-insecure to do it anyway)", listen)
		}
		log.Printf("WARNING: NATS server on %s has NO authentication: anyone who reaches it can run, cancel and forge tasks", listen)
	}
	dir, err := os.MkdirTemp("", "fanout-server-*")
	if err != nil {
		return err
	}
	opts.Dir = dir
	srv, err := server.Start(opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	auth := "no authentication"
	if user != "" {
		auth = "user " + user
	}
	fmt.Println("NATS server with JetStream at", srv.URL(), "("+auth+"), storing in", dir)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	<-ctx.Done()
	return nil
}

func run(url, role string, nWorkers, nTasks int, name string) error {
	if role != "all" && role != "worker" && role != "client" {
		return fmt.Errorf("unknown -role %q", role)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if url == "" {
		if role != "all" {
			return errors.New("-role worker and -role client need -nats URL")
		}
		srv, err := server.Start(server.Options{})
		if err != nil {
			return err
		}
		defer srv.Close()
		url = srv.URL()
		fmt.Println("embedded NATS server at", url)
	}

	var (
		wg    sync.WaitGroup
		conns []*nats.Conn
	)
	workCtx, stopWorkers := context.WithCancel(ctx)
	defer func() {
		stopWorkers()
		wg.Wait() // workers finish their tasks first
		for _, nc := range conns {
			nc.Close()
		}
	}()
	if role != "client" {
		for i := range nWorkers {
			wname := name
			if wname == "" {
				host, _ := os.Hostname()
				wname = fmt.Sprintf("%s-w%d", host, i+1)
			} else if nWorkers > 1 {
				wname = fmt.Sprintf("%s-%d", name, i+1)
			}
			nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.Name(wname))
			if err != nil {
				return err
			}
			conns = append(conns, nc)
			w, err := dist.NewWorker(nc, dist.WorkerName(wname), dist.Concurrency(2))
			if err != nil {
				return err
			}
			dist.Register(w, "digest", func(ctx context.Context, d Digest) (DigestResult, error) {
				sum := []byte(d.Text)
				for range d.Rounds {
					s := sha256.Sum256(sum)
					sum = s[:]
				}
				return DigestResult{Hex: hex.EncodeToString(sum[:8]), Worker: wname}, nil
			})
			wg.Go(func() {
				if err := w.Run(workCtx); err != nil {
					log.Print(err)
				}
			})
		}
		fmt.Printf("%d workers serving \"digest\"\n", nWorkers)
	}
	if role == "worker" {
		<-ctx.Done()
		return nil
	}
	return fanOut(ctx, url, nTasks)
}

func fanOut(ctx context.Context, url string, n int) error {
	nc, err := nats.Connect(url, nats.MaxReconnects(-1))
	if err != nil {
		return err
	}
	defer nc.Close()
	c, err := dist.NewClient(nc)
	if err != nil {
		return err
	}
	defer c.Close()

	start := time.Now()
	futures := make([]*async.Future[DigestResult], n)
	for i := range futures {
		// WaitForWorker: workers may still be starting.
		futures[i] = dist.Call[Digest, DigestResult](ctx, c, "digest",
			Digest{Text: fmt.Sprintf("item-%d", i), Rounds: 20000}, dist.Timeout(time.Minute), dist.WaitForWorker())
	}
	results, err := async.All(ctx, futures...)
	if err != nil {
		return err
	}
	perWorker := map[string]int{}
	for _, r := range results {
		perWorker[r.Worker]++
	}
	names := make([]string, 0, len(perWorker))
	for w := range perWorker {
		names = append(names, w)
	}
	sort.Strings(names)
	fmt.Printf("%d tasks done in %v; first digest %s\n", n, time.Since(start).Round(time.Millisecond), results[0].Hex)
	for _, w := range names {
		fmt.Printf("  %s ran %d\n", w, perWorker[w])
	}
	return nil
}

// loopback reports whether host only accepts connections from this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
