package dist

import (
	"log/slog"
	"sync"
	"time"
)

// recentIDs remembers task ids for a while, at most maxCanceled of them:
// the oldest are forgotten first, so that a flood of requests costs bounded
// memory. The zero value is empty and ready; the caller serialises access.
type recentIDs struct {
	at    map[string]time.Time
	queue []string // ids in the order they came; the front is the oldest
}

func (r *recentIDs) add(id string, now time.Time) {
	if r.at == nil {
		r.at = map[string]time.Time{}
	}
	if _, ok := r.at[id]; !ok {
		r.queue = append(r.queue, id)
	}
	r.at[id] = now
	for len(r.queue) > maxCanceled {
		r.pop()
	}
}

func (r *recentIDs) has(id string) bool {
	_, ok := r.at[id]
	return ok
}

// forget drops the ids that came before t.
func (r *recentIDs) forget(t time.Time) {
	for len(r.queue) > 0 && r.at[r.queue[0]].Before(t) {
		r.pop()
	}
}

func (r *recentIDs) pop() {
	delete(r.at, r.queue[0])
	r.queue[0] = ""
	r.queue = r.queue[1:]
}

func (r *recentIDs) len() int { return len(r.queue) }

// dropLog logs what a worker drops, each kind of problem at most once a
// second, with the count of the ones left out since, so that a flood of bad
// messages cannot flood the log.
type dropLog struct {
	l    *slog.Logger
	mu   sync.Mutex
	last map[string]time.Time
	left map[string]int
}

func (d *dropLog) warn(why string, args ...any) {
	now := time.Now()
	d.mu.Lock()
	if d.last == nil {
		d.last, d.left = map[string]time.Time{}, map[string]int{}
	}
	if now.Sub(d.last[why]) < time.Second {
		d.left[why]++
		d.mu.Unlock()
		return
	}
	d.last[why] = now
	left := d.left[why]
	delete(d.left, why)
	d.mu.Unlock()
	if left > 0 {
		args = append(args, "left_out_since_last", left)
	}
	d.l.Warn("async: dist: "+why, args...)
}
