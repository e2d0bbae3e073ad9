package dist

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// A serverProc is a real nats-server process on loopback, as an operator
// runs it: tests can kill it with SIGKILL and start it again on the same
// port and store directory.
type serverProc struct {
	t      testing.TB
	name   string   // for messages
	args   []string // full command line after the binary
	port   int      // client port, kept across restarts
	log    string   // the process's stdout and stderr
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd.Wait returned
}

// startServerProc starts nats-server with JetStream on a free loopback port
// and a store directory of its own; args are appended (a config file with
// "-c", cluster flags). It returns once the server accepts connections, and
// kills the process at cleanup.
func startServerProc(t testing.TB, args ...string) *serverProc {
	t.Helper()
	port := freePort(t)
	return startServerProcOn(t, port, args...)
}

// startServerProcOn is startServerProc on a given client port.
func startServerProcOn(t testing.TB, port int, args ...string) *serverProc {
	t.Helper()
	bin := natsServerBinary(t)
	dir := t.TempDir()
	p := &serverProc{
		t:    t,
		name: "nats-server:" + strconv.Itoa(port),
		port: port,
		log:  filepath.Join(dir, "server.log"),
		args: append([]string{bin, "-js", "-sd", filepath.Join(dir, "store"), "-a", "127.0.0.1", "-p", strconv.Itoa(port)}, args...),
	}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			p.dumpLog()
		}
	})
	p.start()
	return p
}

// URL is the address clients connect to.
func (p *serverProc) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(p.port) }

// Port is the client port.
func (p *serverProc) Port() int { return p.port }

// Kill ends the process with SIGKILL and waits until it is gone.
func (p *serverProc) Kill() {
	p.t.Helper()
	if p.cmd == nil {
		p.t.Fatalf("%s: Kill of a server that is not running", p.name)
	}
	p.kill()
}

// Restart starts the process again, on the same port and store directory,
// after Kill; it returns once the server accepts connections.
func (p *serverProc) Restart() {
	p.t.Helper()
	if p.cmd != nil {
		p.t.Fatalf("%s: Restart of a running server", p.name)
	}
	p.start()
}

func (p *serverProc) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill() // SIGKILL on Unix
	<-p.exited
	p.cmd = nil
}

func (p *serverProc) start() {
	p.t.Helper()
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
	// Ready when a connection gets the server's INFO line; fail at once if
	// the process ends (bad flags, port taken). The cleanup prints the log.
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			p.cmd = nil
			p.t.Fatalf("%s exited while starting (%s)", p.name, cmd.ProcessState)
		default:
		}
		if p.greets() {
			return
		}
		if time.Now().After(deadline) {
			p.kill()
			p.t.Fatalf("%s not accepting connections after 30s", p.name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// greets reports whether the server answers a connection with INFO.
func (p *serverProc) greets() bool {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p.port), time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "INFO ")
}

func (p *serverProc) dumpLog() {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return
	}
	const tail = 8 << 10
	if len(b) > tail {
		b = b[len(b)-tail:]
	}
	p.t.Logf("%s log (tail):\n%s", p.name, b)
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var (
	natsBinOnce sync.Once
	natsBin     string
	natsBinErr  error
)

// natsServerBinary builds the nats-server that dist's go.mod requires, once
// per test binary. The binary is cached under the user's cache directory,
// keyed by the module version, the Go version and the platform, so later
// test runs reuse it; a file lock keeps test binaries running in parallel
// from building it at the same time.
func natsServerBinary(t testing.TB) string {
	t.Helper()
	natsBinOnce.Do(func() { natsBin, natsBinErr = buildNatsServer() })
	if natsBinErr != nil {
		t.Fatalf("building nats-server: %v", natsBinErr)
	}
	return natsBin
}

const natsServerPkg = "github.com/nats-io/nats-server/v2"

func buildNatsServer() (string, error) {
	const gobin = "go" // go test puts its own GOROOT/bin first in PATH
	// Asked from the package's directory, so that go.mod (or go.work)
	// selects the version, as it does for the build below.
	out, err := exec.Command(gobin, "list", "-m", "-f", "{{.Version}}", natsServerPkg).Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", natsServerPkg, err)
	}
	version := strings.TrimSpace(string(out))
	var dir string
	if cache, err := os.UserCacheDir(); err == nil && version != "" && !strings.HasPrefix(version, "v0.0.0") {
		dir = filepath.Join(cache, "goasync-dist-test", fmt.Sprintf("nats-server-%s-%s-%s_%s", version, runtime.Version(), runtime.GOOS, runtime.GOARCH))
	} else {
		d, err := os.MkdirTemp("", "goasync-nats-server-*")
		if err != nil {
			return "", err
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "nats-server")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	unlock, err := lockFile(bin + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return bin, nil
	}
	tmp := fmt.Sprintf("%s.%d.tmp", bin, os.Getpid())
	// Built in the package's directory too: the version go.mod selects.
	cmd := exec.Command(gobin, "build", "-o", tmp, natsServerPkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("go build %s: %v\n%s", natsServerPkg, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// The harness itself: a call round trip on a server process, which then dies
// with SIGKILL and comes back on the same port and store directory; the
// reconnecting client and worker serve a call made while it was down, and a
// task queued before the kill.
func TestServerProcKillRestart(t *testing.T) {
	// Only the results watch may deliver here (no sweep): it must resume
	// by itself once the server is back.
	prev := sweepEvery
	sweepEvery = time.Hour
	t.Cleanup(func() { sweepEvery = prev })
	s := startServerProc(t)
	stop := runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	})
	c := newClient(t, connect(t, s.URL()))
	if v, err := await[int](t, Call[int, int](context.Background(), c, "double", 21)); err != nil || v != 42 {
		t.Fatalf("got %v, %v; want 42, nil", v, err)
	}
	stop() // so the next task stays queued across the kill
	queued := Call[int, int](context.Background(), c, "double", 5, WaitForWorker())
	id, _ := TaskID(queued)
	js, err := c.nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	for { // queued means stored by the server
		if info, err := js.StreamInfo(c.l.tasksStream); err == nil && info.State.Msgs == 1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}

	s.Kill()
	if s.greets() {
		t.Fatal("server still answers after Kill")
	}
	during := Call[int, int](context.Background(), c, "double", 50, WaitForWorker())
	s.Restart()
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	})
	if v, err := await[int](t, queued); err != nil || v != 10 {
		t.Fatalf("task %s queued before the kill: got %v, %v; want 10", id, v, err)
	}
	if v, err := await[int](t, during); err != nil || v != 100 {
		t.Fatalf("call made while the server was down: got %v, %v; want 100", v, err)
	}
}
