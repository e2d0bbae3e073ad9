package async

import "context"

// park blocks until wake is closed or receives, or until ctx ends. It
// reports whether wake fired; if both are ready it may report either, so
// callers recheck their own state after a false.
//
// Queue, Event and Map block only here, so that a scheduler that must be
// told when a task blocks (the cooperative loop) has one place to hook.
func park(ctx context.Context, wake <-chan struct{}) bool {
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
