package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

func TestOrderAndJobs(t *testing.T) {
	base, dir := startShop(t, newDownstream(testDownstream()), nil)
	defer client.CloseIdleConnections()

	var order OrderAccepted
	if code := call(t, "POST", base+"/orders", `{"product_id":1,"qty":2,"email":"ana@example.com"}`, &order); code != http.StatusCreated {
		t.Fatalf("POST /orders: %d", code)
	}
	if order.OrderID == 0 || order.EmailJob == "" {
		t.Fatalf("POST /orders: %+v, want an order id and a job id", order)
	}
	var st JobStatus
	if code := call(t, "GET", base+"/jobs/"+order.EmailJob+"?wait=10", "", &st); code != http.StatusOK || st.State != "done" || string(st.Result) != `{"sent":true}` {
		t.Fatalf("GET /jobs/%s: %d %+v, want done with {\"sent\":true}", order.EmailJob, code, st)
	}

	for _, c := range []struct {
		body string
		code int
	}{
		{`{"product_id":3,"qty":16,"email":"bo@example.com"}`, http.StatusConflict}, // 15 in stock
		{`{"product_id":77,"qty":1,"email":"bo@example.com"}`, http.StatusNotFound},
		{`{"product_id":1,"qty":1}`, http.StatusBadRequest},
		{`{"product_id":1,"qty":1,"email":"bo@example.com","admin":true}`, http.StatusBadRequest},
	} {
		if code := call(t, "POST", base+"/orders", c.body, nil); code != c.code {
			t.Errorf("POST /orders %s: %d, want %d", c.body, code, c.code)
		}
	}

	var thumb map[string]string
	if code := call(t, "POST", base+"/products/3/thumbnail?size=64", "", &thumb); code != http.StatusAccepted {
		t.Fatalf("POST /products/3/thumbnail: %d", code)
	}
	if code := call(t, "GET", base+"/jobs/"+thumb["job"]+"?wait=10", "", &st); code != http.StatusOK || st.State != "done" {
		t.Fatalf("GET /jobs/%s: %d %+v, want done", thumb["job"], code, st)
	}
	var done ThumbnailDone
	if err := json.Unmarshal(st.Result, &done); err != nil || done.Width != 64 || done.Height != 64 {
		t.Errorf("thumbnail job's result %s, want 64×64", st.Result)
	}
	var page ProductPage
	if call(t, "GET", base+"/products/3", "", &page); !page.Product.HasThumbnail {
		t.Errorf("product 3 after the thumbnail job: %+v, want has_thumbnail", page.Product)
	}
	// A bad size fails the job for good, and says so.
	if code := call(t, "POST", base+"/products/3/thumbnail?size=5000", "", &thumb); code != http.StatusAccepted {
		t.Fatalf("POST /products/3/thumbnail?size=5000: %d", code)
	}
	st = JobStatus{}
	if call(t, "GET", base+"/jobs/"+thumb["job"]+"?wait=10", "", &st); st.State != "failed" || !strings.Contains(st.Error, "out of 1..1024") {
		t.Errorf("job with a bad size: %+v, want failed", st)
	}
	if code := call(t, "GET", base+"/jobs/not..an-id", "", nil); code != http.StatusNotFound {
		t.Errorf("GET /jobs/not..an-id: %d, want 404", code)
	}

	// The database, read on its own.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "shop.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var (
		qty, stock int64
		rcpt       string
		pic        []byte
	)
	if err := db.QueryRow(`SELECT o.qty, p.stock FROM orders o JOIN products p ON p.id = o.product_id WHERE o.id = ?`, order.OrderID).Scan(&qty, &stock); err != nil || qty != 2 || stock != 98 {
		t.Errorf("order %d in the database: qty %d, stock %d, %v; want 2 and 98", order.OrderID, qty, stock, err)
	}
	if err := db.QueryRow(`SELECT rcpt FROM emails WHERE order_id = ?`, order.OrderID).Scan(&rcpt); err != nil || rcpt != "ana@example.com" {
		t.Errorf("email of order %d: %q, %v", order.OrderID, rcpt, err)
	}
	var orders int
	if err := db.QueryRow(`SELECT count(*) FROM orders`).Scan(&orders); err != nil || orders != 1 {
		t.Errorf("%d orders in the database (%v), want 1: refused orders must leave none", orders, err)
	}
	if err := db.QueryRow(`SELECT png FROM thumbnails WHERE product_id = 3`).Scan(&pic); err != nil {
		t.Fatalf("thumbnail of product 3: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(pic))
	if err != nil || img.Bounds().Dx() != 64 || img.Bounds().Dy() != 64 {
		t.Errorf("stored thumbnail: %v, %v; want a 64×64 PNG", img.Bounds(), err)
	}
}

// TestShutdownFinishesJobs: a graceful shutdown lets the jobs already
// queued finish before the worker, NATS and the database close.
func TestShutdownFinishesJobs(t *testing.T) {
	base, dir, stop := startShopStoppable(t, newDownstream(testDownstream()), nil)
	var orders []OrderAccepted
	for i := range 5 {
		var order OrderAccepted
		body := fmt.Sprintf(`{"product_id":%d,"qty":1,"email":"c%d@example.com"}`, 1+i%4, i)
		if code := call(t, "POST", base+"/orders", body, &order); code != http.StatusCreated || order.EmailJob == "" {
			t.Fatalf("POST /orders: %d %+v", code, order)
		}
		orders = append(orders, order)
	}
	client.CloseIdleConnections()
	if err := stop(); err != nil { // right away: the jobs may not have run yet
		t.Fatalf("run after shutdown: %v", err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "shop.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, o := range orders {
		var rcpt string
		if err := db.QueryRow(`SELECT rcpt FROM emails WHERE order_id = ?`, o.OrderID).Scan(&rcpt); err != nil {
			t.Errorf("order %d: no email after shutdown: %v", o.OrderID, err)
		}
	}
}
