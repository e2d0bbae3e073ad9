package main

import (
	"errors"
	"net/http"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goasync/async"
)

func TestProductPage(t *testing.T) {
	down := newDownstream(testDownstream())
	trace := &lockedBuffer{}
	base, _ := startShop(t, down, trace)
	defer client.CloseIdleConnections()

	want := ProductPage{
		Product: Product{ID: 2, Name: "Moka pot", PriceCents: 3500, Stock: 40},
		Reviews: []Review{{Author: "ana", Stars: 5, Text: "does the job"}, {Author: "bo", Stars: 5, Text: "would buy again"}},
		Offers:  []Offer{{Seller: "acme", PriceCents: 2040, ShipDays: 0}, {Seller: "globex", PriceCents: 2060, ShipDays: 2}},
		Partial: true,
		Missing: []string{"offer.initech"}, // slower than the page's deadline, every time
	}
	for _, path := range []string{"/products/2", "/errgroup/products/2"} {
		before := down.callsTo("globex")
		var page ProductPage
		if code := call(t, "GET", base+path, "", &page); code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, code)
		}
		if !reflect.DeepEqual(page, want) {
			t.Errorf("GET %s:\n got %+v\nwant %+v", path, page, want)
		}
		// globex fails every second request: the page got its offer by
		// retrying.
		if n := down.callsTo("globex") - before; n != 2 {
			t.Errorf("GET %s: %d requests to globex, want 2 (a failure, then the retry)", path, n)
		}
	}
	for _, path := range []string{"/products/99", "/errgroup/products/99"} {
		if code := call(t, "GET", base+path, "", nil); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, code)
		}
	}
	if code := call(t, "GET", base+"/products/x", "", nil); code != http.StatusBadRequest {
		t.Errorf("GET /products/x: %d, want 400", code)
	}

	// Every part of goasync's page is a span, a child of the request's.
	spans := trace.String()
	for _, name := range []string{`"Name":"GET /products/{id}"`, `"Name":"db.product"`, `"Name":"reviews"`, `"Name":"offer.globex"`} {
		if !strings.Contains(spans, name) {
			t.Errorf("no span %s in the trace output", name)
		}
	}
}

// TestPartialPageLeavesNothingUnobserved: the parts still running when a
// page is answered at its deadline fail afterwards (with the deadline's
// error); the handler takes charge of them, so no failure is reported as
// unobserved.
func TestPartialPageLeavesNothingUnobserved(t *testing.T) {
	reports := make(chan async.UnobservedFailure, 64)
	prev := async.SetUnobservedHandler(func(u async.UnobservedFailure) { reports <- u })
	defer func() { async.SetUnobservedHandler(prev) }()
	base, _ := startShop(t, newDownstream(testDownstream()), nil)
	defer client.CloseIdleConnections()
	for range 3 {
		var page ProductPage
		if code := call(t, "GET", base+"/products/1", "", &page); code != http.StatusOK || !page.Partial {
			t.Fatalf("GET /products/1: %d %+v, want a partial page", code, page)
		}
	}
	// Two canaries, failed futures dropped on purpose, one after the
	// other's report: by the second, the pages' futures have long been
	// unreachable, and any of them left unobserved has been reported.
	for i := range 2 {
		canary := errors.New("canary " + strconv.Itoa(i))
		dropFailed(canary)
		deadline := time.After(10 * time.Second)
	wait:
		for {
			runtime.GC()
			select {
			case u := <-reports:
				if errors.Is(u.Err, canary) {
					break wait
				}
				if !strings.HasPrefix(u.Err.Error(), "canary") {
					t.Errorf("reported as unobserved: task %q: %v", u.Task, u.Err)
				}
			case <-deadline:
				t.Fatal("no report of the canary")
			case <-time.After(time.Millisecond):
			}
		}
	}
}

//go:noinline
func dropFailed(err error) { async.Rejected[int](err) }
