// Package ctxerr makes the error that goasync's packages return when a
// caller's context ends before what the caller waits for, so that async,
// stream and dist report it the same way.
package ctxerr

import (
	"context"
	"errors"
	"fmt"
)

// Of returns the error for ctx having ended: it matches ctx.Err() and, when
// set, the context's cause.
func Of(ctx context.Context) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, err) {
		return fmt.Errorf("%w: %w", err, cause)
	}
	return err
}

// Fallout returns Of(ctx) if err only exists because ctx ended (it matches
// ctx.Err()), reporting the end itself with its cause; otherwise it returns
// err.
func Fallout(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if pe := ctx.Err(); pe != nil && errors.Is(err, pe) {
		return Of(ctx)
	}
	return err
}
