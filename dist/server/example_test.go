package server_test

import (
	"fmt"

	"github.com/goasync/async/dist/server"
	"github.com/nats-io/nats.go"
)

// A server for a small deployment: one user for the callers and one for the
// workers, each with only the rights dist needs in the default namespace.
func ExampleStart() {
	srv, err := server.Start(server.Options{
		Users: []server.User{
			{Name: "caller", Password: "caller-secret", Permissions: server.ClientPermissions("ASYNC")},
			{Name: "worker", Password: "worker-secret", Permissions: server.WorkerPermissions("ASYNC")},
		},
	})
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	_, err = nats.Connect(srv.URL()) // no user: refused
	fmt.Println(err)
	nc, err := nats.Connect(srv.URL(), nats.UserInfo("caller", "caller-secret"))
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	fmt.Println("caller connected") // then dist.NewClient(nc), once a worker has set up the namespace
	// Output:
	// nats: Authorization Violation
	// caller connected
}

// Three nodes of a JetStream cluster in one process (in production, one per
// machine, each with its own Dir): every node lists the routes of all of
// them. (Not run as a test: it takes fixed ports; TestCluster runs the same
// on free ones.)
func ExampleStart_cluster() {
	routes := []string{"nats://127.0.0.1:16222", "nats://127.0.0.1:16223", "nats://127.0.0.1:16224"}
	for i, name := range []string{"n1", "n2", "n3"} {
		srv, err := server.Start(server.Options{
			Name:    name,
			Cluster: server.Cluster{Name: "dist", Port: 16222 + i, Routes: routes},
		})
		if err != nil {
			panic(err)
		}
		defer srv.Close()
		fmt.Println(srv.Name(), srv.ClusterURL())
	}
	// Then connect to all three (nats.Connect(url1+","+url2+","+url3)) and
	// use dist.Replicas(3) on clients and workers.
}
