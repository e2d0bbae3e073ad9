package vclock

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestAdvanceFiresInOrder(t *testing.T) {
	start := time.Unix(0, 0)
	c := New(start)
	var got []string
	c.AfterFunc(2*time.Second, func() { got = append(got, "b1") })
	c.AfterFunc(time.Second, func() { got = append(got, "a") })
	c.AfterFunc(2*time.Second, func() { got = append(got, "b2") })
	stop := c.AfterFunc(3*time.Second, func() { got = append(got, "never") })
	if !stop() || stop() {
		t.Fatal("stop should report true once, then false")
	}
	if !c.Advance() || c.Now() != start.Add(time.Second) || len(got) != 1 {
		t.Fatalf("first advance: now %v, fired %v", c.Now(), got)
	}
	if !c.Advance() || c.Now() != start.Add(2*time.Second) {
		t.Fatalf("second advance: now %v", c.Now())
	}
	if c.Advance() {
		t.Fatal("advance with no timers fired something")
	}
	if want := []string{"a", "b1", "b2"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("fired %v; want %v", got, want)
	}
}

func TestTimerSetWhileFiring(t *testing.T) {
	c := New(time.Unix(0, 0))
	n := 0
	var again func()
	again = func() {
		n++
		if n < 3 {
			c.AfterFunc(time.Hour, again)
		}
	}
	c.AfterFunc(time.Hour, again)
	for c.Advance() {
	}
	if n != 3 || c.Now() != time.Unix(0, 0).Add(3*time.Hour) {
		t.Fatalf("n=%d now=%v", n, c.Now())
	}
}
