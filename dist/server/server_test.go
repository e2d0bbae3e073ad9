package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T, o Options) *Server {
	t.Helper()
	s, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestStartServesJetStream(t *testing.T) {
	s := start(t, Options{Dir: t.TempDir()})
	if !strings.HasPrefix(s.URL(), "nats://127.0.0.1:") || s.Port() == 0 {
		t.Fatalf("URL %q, Port %d", s.URL(), s.Port())
	}
	if s.ClusterURL() != "" {
		t.Fatalf("ClusterURL = %q on a server that is not a cluster node", s.ClusterURL())
	}
	nc, err := nats.Connect(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.AccountInfo(context.Background()); err != nil {
		t.Fatalf("JetStream: %v", err)
	}
}

func TestUsersAndPermissions(t *testing.T) {
	s := start(t, Options{Users: []User{
		{Name: "admin", Password: "a"},
		{Name: "narrow", Password: "n", Permissions: &Permissions{
			Publish:   Rules{Allow: []string{"ok.>"}},
			Subscribe: Rules{Allow: []string{"ok.>", "_INBOX.>"}, Deny: []string{"ok.secret"}},
		}},
	}})
	if nc, err := nats.Connect(s.URL()); err == nil {
		nc.Close()
		t.Fatal("connected without credentials")
	}
	if nc, err := nats.Connect(s.URL(), nats.UserInfo("narrow", "wrong")); err == nil {
		nc.Close()
		t.Fatal("connected with a wrong password")
	}
	perm := make(chan error, 4)
	narrow, err := nats.Connect(s.URL(), nats.UserInfo("narrow", "n"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { perm <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer narrow.Close()
	admin, err := nats.Connect(s.URL(), nats.UserInfo("admin", "a"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	sub, err := admin.SubscribeSync(">")
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Flush(); err != nil {
		t.Fatal(err)
	}
	_ = narrow.Publish("no.way", []byte("x")) // denied: the server drops it and says so
	if err := <-perm; !errors.Is(err, nats.ErrPermissionViolation) {
		t.Fatalf("publish outside the rules: %v, want a permissions violation", err)
	}
	if err := narrow.Publish("ok.go", []byte("y")); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil || m.Subject != "ok.go" {
		t.Fatalf("admin got %v, %v; want only ok.go (no.way must be dropped)", m, err)
	}
	if _, err := narrow.SubscribeSync("ok.secret"); err != nil {
		t.Fatal(err)
	}
	if err := <-perm; !errors.Is(err, nats.ErrPermissionViolation) {
		t.Fatalf("denied subscription: %v, want a permissions violation", err)
	}
}

func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	s := start(t, Options{TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}})
	if !strings.HasPrefix(s.URL(), "tls://") {
		t.Fatalf("URL = %q, want tls://", s.URL())
	}
	if nc, err := nats.Connect(s.URL()); err == nil { // the server's certificate is not trusted
		nc.Close()
		t.Fatal("connected without trusting the server's certificate")
	}
	nc, err := nats.Connect(s.URL(), nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.TLSConnectionState(); err != nil {
		t.Fatalf("connection is not TLS: %v", err)
	}
}

// Three nodes on loopback form a cluster whose JetStream keeps a stream on
// all three.
func TestCluster(t *testing.T) {
	ports := []int{freePort(t), freePort(t), freePort(t)}
	var routes, urls []string
	for _, p := range ports {
		routes = append(routes, "nats://127.0.0.1:"+strconv.Itoa(p))
	}
	for i, p := range ports {
		name := "n" + strconv.Itoa(i+1)
		s := start(t, Options{Name: name, Dir: t.TempDir(), Cluster: Cluster{Name: "c", Port: p, Routes: routes}})
		if s.ClusterURL() != routes[i] || s.Name() != name {
			t.Fatalf("ClusterURL %q, Name %q; want %q, %q", s.ClusterURL(), s.Name(), routes[i], name)
		}
		urls = append(urls, s.URL())
	}
	nc, err := nats.Connect(strings.Join(urls, ","))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	// JetStream answers once the nodes have elected a meta leader.
	var info *jetstream.StreamInfo
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "R3", Subjects: []string{"r3.>"}, Replicas: 3})
		if err == nil {
			info, err = st.Info(ctx)
		}
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no replicated stream after 30s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("stream config replicas %d, cluster %+v; want a leader and 2 replicas", info.Config.Replicas, info.Cluster)
	}
}

func TestOptionErrors(t *testing.T) {
	for _, o := range []Options{
		{Cluster: Cluster{Name: "c"}}, // a node without a name
		{Users: []User{{Name: "x"}}},  // no password
		{Name: "n", Cluster: Cluster{Name: "c", Routes: []string{"::bad"}}},
	} {
		if s, err := Start(o); err == nil {
			s.Close()
			t.Errorf("Start(%+v) succeeded", o)
		} else if !strings.HasPrefix(err.Error(), "async: dist/server.Start: ") {
			t.Errorf("error %q does not name Start", err)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// Package dist must not link the NATS server: clients and workers import it.
func TestDistDoesNotImportServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/goasync/async/dist").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/nats-io/nats-server/") {
			t.Fatalf("package dist depends on %s", pkg)
		}
	}
}

func TestPermissionsPanicOnBadNamespace(t *testing.T) {
	for _, f := range []func(string) *Permissions{ClientPermissions, WorkerPermissions} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(fmt.Sprint(r), "async: dist/server: namespace") {
					t.Errorf("recovered %v; want a panic naming the namespace", r)
				}
			}()
			f("a.b")
		}()
	}
	if p := ClientPermissions("APP"); !slices.Contains(p.Publish.Allow, "APP.task.>") || slices.Contains(p.Publish.Allow, "$KV.APP_RESULTS.>") {
		t.Errorf("client rules %v: want tasks, no result writes", p.Publish.Allow)
	}
	if p := WorkerPermissions("APP"); !slices.Contains(p.Publish.Allow, "$KV.APP_RESULTS.>") {
		t.Errorf("worker rules %v: want result writes", p.Publish.Allow)
	}
}
