package dist

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goasync/async"
	"github.com/goasync/async/dist/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var updateConf = flag.Bool("update-conf", false, "rewrite examples/permissions/nats-server.conf from server.ClientPermissions and WorkerPermissions")

const permissionsConf = "examples/permissions/nats-server.conf"

// The example configuration is server.ClientPermissions and
// WorkerPermissions written for nats-server.
func TestPermissionsConfMatchesPackage(t *testing.T) {
	want := renderConf("ASYNC")
	if *updateConf {
		if err := os.WriteFile(permissionsConf, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(permissionsConf)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s differs from the rules of package server; run go test -run TestPermissionsConfMatchesPackage -update-conf", permissionsConf)
	}
}

func renderConf(ns string) string {
	var b strings.Builder
	b.WriteString(`# nats-server configuration for dist with two users: "client" may call tasks
# (publish tasks and cancels, read outcomes), "worker" may serve them (and alone
# may store outcomes). Passwords come from the environment:
#
#   DIST_CLIENT_PASSWORD=... DIST_WORKER_PASSWORD=... nats-server -c nats-server.conf -sd DATA_DIR
#
# The rules are those of ClientPermissions and WorkerPermissions in package
# github.com/goasync/async/dist/server for the default namespace "` + ns + `" (a
# test keeps them equal). A worker must set the namespace up before the first
# client starts: clients may not create streams. Add TLS (tls { cert_file,
# key_file }) before exposing the port beyond a private network.

jetstream: enabled

authorization {
  users: [
`)
	user := func(name, env string, p *server.Permissions) {
		fmt.Fprintf(&b, "    {\n      user: %s\n      password: $%s\n      permissions: {\n", name, env)
		list := func(kind string, subjects []string) {
			fmt.Fprintf(&b, "        %s: { allow: [\n", kind)
			for _, s := range subjects {
				fmt.Fprintf(&b, "          %q\n", s)
			}
			b.WriteString("        ] }\n")
		}
		list("publish", p.Publish.Allow)
		list("subscribe", p.Subscribe.Allow)
		b.WriteString("      }\n    }\n")
	}
	user("client", "DIST_CLIENT_PASSWORD", server.ClientPermissions(ns))
	user("worker", "DIST_WORKER_PASSWORD", server.WorkerPermissions(ns))
	b.WriteString("  ]\n}\n")
	return b.String()
}

// withUser puts a user and password into a nats:// URL.
func withUser(url, user, password string) string {
	return strings.Replace(url, "nats://", "nats://"+user+":"+password+"@", 1)
}

// On a nats-server started with the example configuration, a client user
// calls, attaches, cancels and reads stats with no permission refused, and
// cannot store an outcome, advertise a worker or read the task queue; a
// forged outcome does not reach the caller.
func TestPermissionsExample(t *testing.T) {
	t.Setenv("DIST_CLIENT_PASSWORD", "client-pw")
	t.Setenv("DIST_WORKER_PASSWORD", "worker-pw")
	conf, err := filepath.Abs(permissionsConf)
	if err != nil {
		t.Fatal(err)
	}
	s := startServerProc(t, "-c", conf)
	clientURL, workerURL := withUser(s.URL(), "client", "client-pw"), withUser(s.URL(), "worker", "worker-pw")
	if nc, err := nats.Connect(s.URL()); err == nil {
		nc.Close()
		t.Fatal("connected without a user")
	}

	gate := make(chan struct{})
	var gateOnce sync.Once
	release := func() { gateOnce.Do(func() { close(gate) }) }
	w, err := NewWorker(connect(t, workerURL))
	if err != nil {
		t.Fatal(err)
	}
	Register(w, "double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	Register(w, "gated", func(ctx context.Context, n int) (int, error) {
		select {
		case <-gate:
			return n, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	})
	wctx, stopWorker := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- w.Run(wctx) }()
	t.Cleanup(func() {
		release()
		stopWorker()
		if err := <-ran; err != nil {
			t.Errorf("Worker.Run: %v", err)
		}
	})
	select {
	case <-w.Ready():
	case err := <-ran:
		t.Fatalf("Worker.Run as the worker user: %v", err)
	}

	// Everything a client does, as the client user.
	ctx := context.Background()
	c := newClient(t, connect(t, clientURL))
	if v, err := await[int](t, Call[int, int](ctx, c, "double", 21)); err != nil || v != 42 {
		t.Fatalf("Call: %v, %v; want 42", v, err)
	}
	keyed := Call[int, int](ctx, c, "double", 5, Key("five"))
	if v, err := await[int](t, keyed); err != nil || v != 10 {
		t.Fatalf("keyed Call: %v, %v; want 10", v, err)
	}
	id, _ := TaskID(keyed)
	other := newClient(t, connect(t, clientURL))
	if v, err := await[int](t, Attach[int](ctx, other, id)); err != nil || v != 10 {
		t.Fatalf("Attach: %v, %v; want 10", v, err)
	}
	canceled := Call[int, int](ctx, c, "gated", 1)
	canceledID, _ := TaskID(canceled)
	canceled.Cancel()
	if _, err := await[int](t, Attach[int](ctx, other, canceledID)); !errors.Is(err, async.ErrCanceled) {
		t.Fatalf("outcome of a canceled task, seen by another client: %v; want ErrCanceled (stored by a worker)", err)
	}
	if _, err := c.Stats(ctx, "double"); err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if v := violations(t, s); len(v) > 0 {
		t.Fatalf("the server refused what a client or worker needs:\n%s", strings.Join(v, "\n"))
	}

	// What a client may not do.
	victim := Call[int, int](ctx, c, "gated", 7)
	victimID, _ := TaskID(victim)
	forger, err := nats.Connect(clientURL, nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})) // refusals are expected
	if err != nil {
		t.Fatal(err)
	}
	defer forger.Close()
	fjs, err := jetstream.New(forger)
	if err != nil {
		t.Fatal(err)
	}
	tryPublish := func(subject string, data []byte) error {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := fjs.Publish(pctx, subject, data)
		return err
	}
	if err := tryPublish("$KV.ASYNC_RESULTS."+victimID, append([]byte{recValue}, "999"...)); err == nil {
		t.Error("a client user stored an outcome")
	}
	if err := tryPublish("$KV.ASYNC_WORKERS.gated.fake", []byte("fake")); err == nil {
		t.Error("a client user advertised a worker")
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err = fjs.CreateConsumer(cctx, "ASYNC_TASKS", jetstream.ConsumerConfig{Durable: "snoop"})
	cancel()
	if err == nil {
		t.Error("a client user made a consumer of the task queue")
	}
	release()
	if v, err := await[int](t, victim); err != nil || v != 7 {
		t.Fatalf("victim of a forged outcome got %v, %v; want its worker's 7", v, err)
	}
	refused := strings.Join(violations(t, s), "\n")
	for _, subj := range []string{"$KV.ASYNC_RESULTS." + victimID, "$KV.ASYNC_WORKERS.gated.fake", "$JS.API.CONSUMER.CREATE.ASYNC_TASKS"} {
		if !strings.Contains(refused, subj) {
			t.Errorf("the server did not refuse %s; it refused:\n%s", subj, refused)
		}
	}
}

// violations returns the permission violations in the server's log.
func violations(t testing.TB, s *serverProc) []string {
	t.Helper()
	b, err := os.ReadFile(s.log)
	if err != nil {
		t.Fatal(err)
	}
	var v []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.Contains(line, "Violation") {
			v = append(v, line)
		}
	}
	return v
}
