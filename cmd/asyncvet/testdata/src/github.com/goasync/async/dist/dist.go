// Package dist is a stub of github.com/goasync/async/dist for the
// analyzers' tests.
package dist

import (
	"context"

	"github.com/goasync/async"
)

type Client struct{}

type CallOption struct{}

func Call[Req, Resp any](ctx context.Context, c *Client, name string, req Req, opts ...CallOption) *async.Future[Resp] {
	return new(async.Future[Resp])
}
