// Command vetcopy copies a Scope and a Pool by value; go vet's copylocks
// check must report both. It is run by TestScopeCopyIsFlaggedByVet and is not
// meant to be built.
package main

import (
	"context"

	"github.com/goasync/async"
)

func main() {
	s := async.NewScope(context.Background())
	copied := *s // want "copies lock value"
	_ = copied.Wait()

	p := async.NewPool(1)
	pool := *p // want "copies lock value"
	_ = pool.Close()
}
