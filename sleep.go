package async

import (
	"context"
	"sync/atomic"
	"time"
)

// Sleep pauses for d or until ctx ends, whichever is first. It returns nil
// after d, or an error matching ctx.Err() if ctx ended first. A d <= 0
// returns at once (with ctx's error if it has ended).
func Sleep(ctx context.Context, d time.Duration) error {
	checkCtx("Sleep", ctx)
	if d <= 0 {
		if ctx.Err() != nil {
			return ctxError(ctx)
		}
		return nil
	}
	defer blockEnd(blockBegin(ctx, "Sleep", "", d))
	if lt := runningLoopTask(ctx); lt != nil {
		if lt.l.clock != nil {
			return sleepInLoop(lt, ctx, d)
		}
		var fired atomic.Bool
		timer := time.AfterFunc(d, func() { fired.Store(true); lt.l.makeReady(lt) })
		defer timer.Stop()
		return lt.l.blockUntil(lt, ctx, fired.Load)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctxError(ctx)
	}
}
