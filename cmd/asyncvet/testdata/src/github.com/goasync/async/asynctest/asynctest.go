// Package asynctest is a stub of github.com/goasync/async/asynctest for the
// analyzers' tests.
package asynctest

import (
	"context"
	"testing"
)

// Explore runs fn in async.RunLoop under several seeds.
func Explore(t testing.TB, runs int, fn func(ctx context.Context) error) {}
