package main

import (
	"context"
	"time"

	"github.com/goasync/async"
)

// The analyzers find the library's API by package path and name. These
// references stop the build of this test if the real package renames or
// reshapes a function they look for (the analyzers' own tests use a stub
// in testdata, so they cannot notice).
var (
	_ func(context.Context, func(context.Context) (int, error), ...async.TaskOption) *async.Future[int]                = async.Go[int]
	_ func(func(context.Context, int) (int, error), ...async.TaskOption) func(context.Context, int) *async.Future[int] = async.Func[int, int]
	_ func(context.Context, *async.Future[int], func(context.Context, int) (int, error)) *async.Future[int]            = async.Then[int, int]
	_ func(context.Context, *async.Future[int], func(context.Context, error) (int, error)) *async.Future[int]          = async.Catch[int]
	_ func(*async.Scope, func(context.Context) (int, error)) *async.Future[int]                                        = async.Spawn[int]
	_ func(context.Context, *async.Pool, func(context.Context) (int, error)) *async.Future[int]                        = async.Submit[int]
	_ func(int) *async.Future[int]                                                                                     = async.Resolved[int]
	_ func(error) *async.Future[int]                                                                                   = async.Rejected[int]
	_ func() *async.Future[int]                                                                                        = async.NewPromise[int]().Future
	_ func(context.Context) (int, error)                                                                               = (*async.Future[int])(nil).Await
	_ func()                                                                                                           = (*async.Future[int])(nil).Cancel
	_                                                                                                                  = async.All[int]
	_                                                                                                                  = async.AllSettled[int]
	_                                                                                                                  = async.Any[int]
	_                                                                                                                  = async.Race[int]
	_                                                                                                                  = async.AsCompleted[int]
	_                                                                                                                  = async.All2[int, int]
	_                                                                                                                  = async.All3[int, int, int]
	_                                                                                                                  = async.Map[int, int]
	_                                                                                                                  = async.ForEach[int]
	_                                                                                                                  = async.MapSettled[int, int]
	_                                                                                                                  = async.Retry[int]
	_                                                                                                                  = async.Run
	_ func(context.Context, time.Duration) error                                                                       = async.Sleep
	_ func(context.Context, ...async.ScopeOption) *async.Scope                                                         = async.NewScope
	_ func() error                                                                                                     = (*async.Scope)(nil).Wait
)
