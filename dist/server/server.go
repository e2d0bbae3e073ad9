// Package server runs a NATS server with JetStream inside the current
// process, for dist's clients and workers: a single machine, development,
// tests, or a small cluster of a few nodes.
//
// It lives apart from package dist so that programs that only call or serve
// tasks do not link the NATS server. Production fleets usually run the
// nats-server binary instead; [ClientPermissions] and [WorkerPermissions]
// give the subjects to grant either way.
package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// Options configures [Start]. The zero value starts an open server (no
// authentication) on a random loopback port that stores JetStream data in a
// new temporary directory.
type Options struct {
	// Dir is where JetStream keeps its files. Streams and results survive a
	// restart on the same Dir. Empty means a new temporary directory that
	// Close removes.
	Dir string
	// Host is the address to listen on for clients; empty means 127.0.0.1.
	Host string
	// Port is the client port; 0 picks a free one.
	Port int
	// Name names the server. A cluster node needs one, unique in the
	// cluster and the same across restarts on one Dir (JetStream knows its
	// peers by name).
	Name string
	// MaxPayload is the largest message the server accepts, in bytes; 0
	// means the NATS default (1 MB).
	MaxPayload int32

	// Users, when not empty, are the only ones who may connect, each with
	// a password (plain, or a bcrypt hash starting with "$2") and, if
	// Permissions is not nil, only those rights. Without Users anyone who
	// reaches the port may do anything.
	Users []User
	// TLS, if set, makes clients connect over TLS with this configuration
	// (its Certificates are the server's; set ClientAuth and ClientCAs to
	// require client certificates).
	TLS *tls.Config

	// Cluster, if its Name is set, makes the server a node of a NATS
	// cluster with JetStream replicated over its nodes.
	Cluster Cluster
}

// A User may connect with a name and password.
type User struct {
	Name     string
	Password string
	// Permissions limits what the user may do; nil means anything.
	Permissions *Permissions
}

// Permissions says which subjects a user may publish to and subscribe to.
// Subjects may hold NATS wildcards ("*" for one token, ">" for the rest).
type Permissions struct {
	Publish   Rules
	Subscribe Rules
}

// Rules allow subjects and deny some of them. An empty Allow allows every
// subject that Deny does not name.
type Rules struct {
	Allow []string
	Deny  []string
}

// Cluster configures a cluster node. Nodes find each other through Routes:
// give every node the route URLs of all nodes (a node ignores its own), so
// fix the route ports up front. Routes are neither authenticated nor
// encrypted here: bind Host to a private network.
type Cluster struct {
	// Name is the cluster's name, the same on every node.
	Name string
	// Host is the address to listen on for routes from other nodes; empty
	// means Options.Host (or 127.0.0.1).
	Host string
	// Port is the route port; 0 picks a free one (see [Server.ClusterURL]),
	// which only suits nodes that others do not need to find first.
	Port int
	// Routes are the route URLs of the cluster's nodes, such as
	// nats://10.0.0.2:6222; at least one.
	Routes []string
}

// A Server is a NATS server with JetStream running inside this process.
type Server struct {
	ns  *natsserver.Server
	tmp string // removed by Close
}

// Start starts a server and returns once it accepts connections (or after
// 10 seconds, with an error). A cluster node accepts connections before
// JetStream is usable: JetStream answers once most nodes run and have
// elected a leader.
func Start(opts Options) (*Server, error) {
	o, tmp, err := natsOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("async: dist/server.Start: %w", err)
	}
	ns, err := natsserver.NewServer(o)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("async: dist/server.Start: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		ns.WaitForShutdown()
		os.RemoveAll(tmp)
		return nil, errors.New("async: dist/server.Start: server not ready after 10s")
	}
	return &Server{ns: ns, tmp: tmp}, nil
}

// natsOptions translates opts; tmp is a temporary directory it made.
func natsOptions(opts Options) (o *natsserver.Options, tmp string, err error) {
	for i, u := range opts.Users {
		if u.Name == "" || u.Password == "" {
			return nil, "", fmt.Errorf("Options.Users[%d]: a user needs a name and a password", i)
		}
	}
	if opts.Cluster.Name != "" && opts.Name == "" {
		return nil, "", errors.New("a cluster node needs Options.Name, the same across restarts")
	}
	if opts.Cluster.Name != "" && len(opts.Cluster.Routes) == 0 {
		return nil, "", errors.New("a cluster node needs Cluster.Routes (JetStream requires them; a node may list its own URL)")
	}
	host := opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := opts.Port
	if port == 0 {
		port = natsserver.RANDOM_PORT
	}
	o = &natsserver.Options{
		ServerName: opts.Name,
		Host:       host,
		Port:       port,
		JetStream:  true,
		MaxPayload: opts.MaxPayload,
		NoLog:      true,
		NoSigs:     true,
	}
	for _, u := range opts.Users {
		nu := &natsserver.User{Username: u.Name, Password: u.Password}
		if p := u.Permissions; p != nil {
			nu.Permissions = &natsserver.Permissions{
				Publish:   &natsserver.SubjectPermission{Allow: p.Publish.Allow, Deny: p.Publish.Deny},
				Subscribe: &natsserver.SubjectPermission{Allow: p.Subscribe.Allow, Deny: p.Subscribe.Deny},
			}
		}
		o.Users = append(o.Users, nu)
	}
	if opts.TLS != nil {
		o.TLSConfig = opts.TLS.Clone()
		o.TLS = true
		o.TLSVerify = opts.TLS.ClientAuth == tls.RequireAndVerifyClientCert
		o.TLSTimeout = 2 // seconds for the handshake
	}
	if c := opts.Cluster; c.Name != "" {
		ch := c.Host
		if ch == "" {
			ch = host
		}
		cp := c.Port
		if cp == 0 {
			cp = natsserver.RANDOM_PORT
		}
		o.Cluster = natsserver.ClusterOpts{Name: c.Name, Host: ch, Port: cp}
		for _, r := range c.Routes {
			u, err := url.Parse(r)
			if err != nil || u.Host == "" {
				return nil, "", fmt.Errorf("Cluster.Routes: bad route URL %q", r)
			}
			o.Routes = append(o.Routes, u)
		}
	}
	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "async-dist-*")
		if err != nil {
			return nil, "", err
		}
		dir, tmp = d, d
	}
	o.StoreDir = dir
	return o, tmp, nil
}

// URL returns the address clients connect to, such as nats://127.0.0.1:4222
// (tls://... with TLS).
func (s *Server) URL() string { return s.ns.ClientURL() }

// Port returns the client port, so that a restarted server can take the
// same one.
func (s *Server) Port() int {
	if a, ok := s.ns.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// ClusterURL returns the route URL other nodes list in their
// [Cluster.Routes], such as nats://127.0.0.1:6222, or "" if the server is not
// a cluster node.
func (s *Server) ClusterURL() string {
	a := s.ns.ClusterAddr()
	if a == nil {
		return ""
	}
	return "nats://" + net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port))
}

// Name returns the server's name (its generated id if Options.Name was
// empty).
func (s *Server) Name() string { return s.ns.Name() }

// Close shuts the server down and waits until it has stopped. Connected
// clients see a disconnect. A temporary directory made by Start is removed;
// a Dir given in the options is kept.
func (s *Server) Close() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
}
