package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	cfg := defaultConfig()
	cfg.Dir = t.TempDir()
	var out bytes.Buffer
	if err := runLoad(context.Background(), cfg, time.Second, 4, &out); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"goasync", "errgroup"} {
		var requests, rate, partial, failed int
		var p50, p99 string
		found := false
		for line := range strings.Lines(out.String()) {
			if f := strings.Fields(line); len(f) == 7 && f[0] == name {
				found = true
				if _, err := fmt.Sscan(strings.Join(f[1:], " "), &requests, &rate, &p50, &p99, &partial, &failed); err != nil {
					t.Fatalf("%s's line %q: %v", name, line, err)
				}
			}
		}
		if !found || requests == 0 || failed != 0 {
			t.Errorf("%s: found %v, %d requests, %d failed, in\n%s", name, found, requests, failed, out.String())
		}
	}
}
