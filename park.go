package async

import "context"

// park blocks until wake is closed or receives, or until ctx ends. It
// reports whether wake fired; if both are ready it may report either, so
// callers recheck their own state after a false.
//
// Queue, Event and Map block only here. A loop task (lt != nil, from
// runningLoopTask) gives its loop up instead of blocking it, and whoever
// fires wake must then also make lt ready (l.makeReady), synchronously, so
// the loop decides who runs next.
func park(ctx context.Context, wake <-chan struct{}, lt *loopTask) bool {
	if lt != nil {
		fired := false
		taken := func() bool {
			if !fired {
				select {
				case <-wake:
					fired = true
				default:
				}
			}
			return fired
		}
		lt.l.blockUntil(lt, ctx, taken)
		return fired
	}
	done := ctx.Done()
	if done == nil {
		<-wake
		return true
	}
	select {
	case <-wake:
		return true
	case <-done:
		return false
	}
}
