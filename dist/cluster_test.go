package dist

import (
	"context"
	"flag"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goasync/async"
	"github.com/nats-io/nats.go/jetstream"
)

// clusterTasks is how many tasks TestClusterLeaderKill runs (about 45 s
// with -race on two cores); .ci/stress runs it several times.
var clusterTasks = flag.Int("cluster.tasks", 5000, "tasks in TestClusterLeaderKill")

// A clusterProcs is a JetStream cluster of nats-server processes on
// loopback.
type clusterProcs struct {
	nodes []*serverProc
	names []string
}

// startClusterProcs starts n nats-server processes that form one JetStream
// cluster, and returns once JetStream places a stream on all of them.
func startClusterProcs(t testing.TB, n int) *clusterProcs {
	t.Helper()
	var routes []string
	routePorts := make([]int, n)
	for i := range routePorts {
		routePorts[i] = freePort(t)
		routes = append(routes, "nats://127.0.0.1:"+strconv.Itoa(routePorts[i]))
	}
	cl := &clusterProcs{}
	for i := range n {
		name := "n" + strconv.Itoa(i+1)
		cl.names = append(cl.names, name)
		cl.nodes = append(cl.nodes, startServerProc(t,
			"--name", name, "--cluster_name", "dist",
			"--cluster", routes[i], "--routes", strings.Join(routes, ",")))
	}
	cl.waitReplicated(t, n)
	return cl
}

// URLs lists every node's client URL, for nats.Connect.
func (cl *clusterProcs) URLs() string {
	urls := make([]string, len(cl.nodes))
	for i, p := range cl.nodes {
		urls[i] = p.URL()
	}
	return strings.Join(urls, ",")
}

// node returns the process of the server named name.
func (cl *clusterProcs) node(t testing.TB, name string) *serverProc {
	t.Helper()
	i := slices.Index(cl.names, name)
	if i < 0 {
		t.Fatalf("no node named %q", name)
	}
	return cl.nodes[i]
}

// waitReplicated waits until the cluster can create a stream with
// replicas copies (a meta leader is elected and enough peers joined).
func (cl *clusterProcs) waitReplicated(t testing.TB, replicas int) {
	t.Helper()
	js, err := jetstream.New(connect(t, cl.URLs()))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "PROBE", Subjects: []string{"probe"}, Replicas: replicas, Storage: jetstream.MemoryStorage})
		if err == nil {
			err = js.DeleteStream(ctx, "PROBE")
		}
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster cannot place %d replicas after 60s: %v", replicas, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// streamInfo asks any reachable node about a stream, retrying while the
// cluster elects leaders.
func streamInfo(t testing.TB, js jetstream.JetStream, name string) *jetstream.StreamInfo {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var info *jetstream.StreamInfo
		s, err := js.Stream(ctx, name)
		if err == nil {
			info, err = s.Info(ctx)
		}
		cancel()
		if err == nil && info.Cluster != nil && info.Cluster.Leader != "" {
			return info
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s: no answer with a leader after 60s: %v", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Replicas(3) makes every stream and bucket of the namespace keep three
// copies.
func TestClusterReplicas(t *testing.T) {
	cl := startClusterProcs(t, 3)
	runWorker(t, cl.URLs(), func(w *Worker) {
		Register(w, "double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	}, Replicas(3))
	c := newClient(t, connect(t, cl.URLs()), Replicas(3))
	if v, err := await[int](t, Call[int, int](context.Background(), c, "double", 21)); err != nil || v != 42 {
		t.Fatalf("got %v, %v; want 42", v, err)
	}
	for _, name := range []string{c.l.tasksStream, c.l.deadStream, c.l.resultsStream(), "KV_" + c.l.workers} {
		info := streamInfo(t, c.js, name)
		if info.Config.Replicas != 3 || len(info.Cluster.Replicas) != 2 {
			t.Errorf("stream %s: %d replicas configured, leader %s and %d followers; want 3 copies", name, info.Config.Replicas, info.Cluster.Leader, len(info.Cluster.Replicas))
		}
	}
}

// A server outside a cluster refuses replicas: NewClient says which stream.
func TestReplicasNeedCluster(t *testing.T) {
	s := testServer(t)
	_, err := NewClient(connect(t, s.URL()), Replicas(3), Namespace("R3"))
	if err == nil || !strings.Contains(err.Error(), "R3_TASKS") {
		t.Fatalf("NewClient with Replicas(3) on a lone server: %v; want an error naming R3_TASKS", err)
	}
}

// On a 3-node cluster with Replicas(3), SIGKILL of the task stream's leader
// while tasks run loses nothing: every call settles with its own result.
// The killed node, restarted, catches up: it is a current replica of every
// stream again, and holds the results when another node dies.
func TestClusterLeaderKill(t *testing.T) {
	n := *clusterTasks
	cl := startClusterProcs(t, 3)
	var runs atomic.Int64
	for range 4 {
		runWorker(t, cl.URLs(), func(w *Worker) {
			Register(w, "square", func(ctx context.Context, i int) (int, error) {
				runs.Add(1)
				return i * i, nil
			})
		}, Replicas(3), AckWait(5*time.Second))
	}
	c := newClient(t, connect(t, cl.URLs()), Replicas(3))
	tasks := c.l.tasksStream
	leader := streamInfo(t, c.js, tasks).Cluster.Leader

	var (
		mu      sync.Mutex
		settled = make([]time.Time, n)
		count   int
		third   = make(chan struct{})
		waits   sync.WaitGroup
	)
	futures := make([]*async.Future[int], n)
	start := time.Now()
	for i := range futures {
		futures[i] = Call[int, int](context.Background(), c, "square", i)
		waits.Go(func() {
			select {
			case <-futures[i].Done():
			case <-time.After(3 * time.Minute):
				return // reported below as unsettled
			}
			mu.Lock()
			settled[i] = time.Now()
			count++
			if count == n/3 {
				close(third)
			}
			mu.Unlock()
		})
	}
	select {
	case <-third:
	case <-time.After(3 * time.Minute):
		t.Fatalf("a third of %d tasks did not settle within 3 minutes", n)
	}
	killedAt := time.Now()
	cl.node(t, leader).Kill()
	all := make(chan struct{})
	go func() { waits.Wait(); close(all) }()
	for stuck := false; ; {
		select {
		case <-all:
		case <-time.After(20 * time.Second):
			if !stuck { // say where the tasks are, once
				stuck = true
				mu.Lock()
				t.Logf("%d of %d settled 20s after the kill", count, n)
				mu.Unlock()
				t.Logf("tasks stream: %+v %+v", streamInfo(t, c.js, tasks).State, streamInfo(t, c.js, tasks).Cluster)
				if cons, err := c.js.Consumer(context.Background(), tasks, "square"); err == nil {
					info, _ := cons.Info(context.Background())
					t.Logf("consumer: %+v", info)
				}
			}
			continue
		}
		break
	}
	total := time.Since(start)

	lost := 0
	for i, f := range futures {
		select {
		case <-f.Done():
		default:
			lost++
			continue
		}
		if v, err := f.Await(context.Background()); err != nil || v != i*i {
			t.Errorf("task %d: got %v, %v; want %d", i, v, err, i*i)
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d calls did not settle within 3 minutes of the leader's kill", lost, n)
	}
	// The stall: the longest time without a settled call after the kill.
	times := slices.Clone(settled)
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	var stall time.Duration
	prev := killedAt
	for _, at := range times {
		if at.After(killedAt) {
			stall = max(stall, at.Sub(prev))
			prev = at
		}
	}
	before := killedAt.Sub(start)
	t.Logf("%d tasks on 3 nodes (Replicas 3): %d settled in %v (%.0f tasks/s), then leader %s killed; all settled with their results in %v; longest stall after the kill %v; handler runs %d (%d repeated); outcomes the watches missed and the sweep found: %d",
		n, n/3, before.Round(time.Millisecond), float64(n/3)/before.Seconds(), leader, total.Round(time.Millisecond), stall.Round(time.Millisecond), runs.Load(), runs.Load()-int64(n), c.swept.Load())

	// Restart the killed node: it catches up with every stream.
	killed := cl.node(t, leader)
	killed.Restart()
	restartedAt := time.Now()
	streams := []string{tasks, c.l.resultsStream(), "KV_" + c.l.workers, c.l.deadStream}
	for _, name := range streams {
		for {
			info := streamInfo(t, c.js, name)
			if caughtUp(info, leader) {
				break
			}
			if time.Since(restartedAt) > 2*time.Minute {
				t.Fatalf("stream %s: restarted node %s not a current replica after 2 minutes: %+v", name, leader, info.Cluster)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("restarted node %s current on %d streams %v after its restart", leader, len(streams), time.Since(restartedAt).Round(time.Millisecond))

	// Its copy is whole: with another node killed, the restarted node and
	// the last one hold every result.
	for _, name := range cl.names {
		if name != leader {
			cl.node(t, name).Kill()
			break
		}
	}
	cl.waitReplicated(t, 2) // the two left have a meta leader
	results := streamInfo(t, c.js, c.l.resultsStream())
	if results.State.Msgs < uint64(n) {
		t.Fatalf("results stream holds %d records after a second kill; want %d", results.State.Msgs, n)
	}
	for _, i := range []int{0, n / 2, n - 1} {
		id, _ := TaskID(futures[i])
		var rec []byte
		for deadline := time.Now().Add(60 * time.Second); ; {
			gctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			e, err := c.results.Get(gctx, id)
			cancel()
			if err == nil {
				rec = e.Value()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("result of %s not readable 60s after the second kill: %v", id, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if v, err := decodeOutcome[int](c.cfg.codec, "square", id, rec); err != nil || v != i*i {
			t.Fatalf("stored result of %s after the second kill: %v, %v; want %d", id, v, err, i*i)
		}
	}
}

// caughtUp reports whether node is a current follower (or the leader) of
// the stream.
func caughtUp(info *jetstream.StreamInfo, node string) bool {
	if info.Cluster.Leader == node {
		return true
	}
	for _, r := range info.Cluster.Replicas {
		if r.Name == node {
			return r.Current && !r.Offline && r.Lag == 0
		}
	}
	return false
}
