package dist

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerOptions configures an embedded NATS server. The zero value starts a
// server on a random loopback port that stores JetStream data in a new
// temporary directory.
type ServerOptions struct {
	// Dir is where JetStream keeps its files. Streams and results survive a
	// restart on the same Dir. Empty means a new temporary directory that
	// Close removes.
	Dir string
	// Host is the address to listen on; empty means 127.0.0.1.
	Host string
	// Port is the client port; 0 picks a free one.
	Port int
}

// A Server is a NATS server with JetStream running inside this process.
type Server struct {
	ns  *server.Server
	tmp string // removed by Close
}

// StartServer starts an embedded NATS server with JetStream and returns once
// it accepts connections (or after 10 seconds, with an error).
func StartServer(opts ServerOptions) (*Server, error) {
	dir, tmp := opts.Dir, ""
	if dir == "" {
		d, err := os.MkdirTemp("", "async-dist-*")
		if err != nil {
			return nil, fmt.Errorf("async: dist.StartServer: %w", err)
		}
		dir, tmp = d, d
	}
	host := opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := opts.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	ns, err := server.NewServer(&server.Options{
		Host:      host,
		Port:      port,
		JetStream: true,
		StoreDir:  dir,
		NoLog:     true,
		NoSigs:    true,
	})
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("async: dist.StartServer: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		ns.WaitForShutdown()
		os.RemoveAll(tmp)
		return nil, errors.New("async: dist.StartServer: server not ready after 10s")
	}
	return &Server{ns: ns, tmp: tmp}, nil
}

// URL returns the address clients connect to, such as nats://127.0.0.1:4222.
func (s *Server) URL() string { return s.ns.ClientURL() }

// Port returns the port the server listens on, so that a restarted server
// can take the same one.
func (s *Server) Port() int {
	if a, ok := s.ns.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// Close shuts the server down and waits until it has stopped. Connected
// clients see a disconnect. A temporary directory made by StartServer is
// removed; a Dir given in the options is kept.
func (s *Server) Close() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
}
