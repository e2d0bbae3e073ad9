package main

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The tour is the README's first command: it must run to the end and succeed.
func TestTourRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("the tour takes a few seconds")
	}
	if err := run(); err != nil {
		t.Fatal(err)
	}
	if len(table) != 12 {
		t.Fatalf("the tour ran %d demos; want 12", len(table))
	}
	for _, r := range table {
		if len(r.outcome) >= 6 && r.outcome[:6] == "error:" || len(r.outcome) >= 11 && r.outcome[:11] == "unexpected:" {
			t.Errorf("%s: %s", r.demo, r.outcome)
		}
	}
}
