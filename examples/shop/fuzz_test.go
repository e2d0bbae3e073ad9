package main

import (
	"strings"
	"testing"
)

// FuzzParseOrder: an order request is hostile input; whatever it holds,
// parseOrder returns either an error or an order within its bounds.
func FuzzParseOrder(f *testing.F) {
	f.Add(`{"product_id":1,"qty":2,"email":"ana@example.com"}`)
	f.Add(`{"product_id":1,"qty":2,"email":"ana@example.com"}{}`)
	f.Add(`{"product_id":-1,"qty":1e9,"email":""}`)
	f.Fuzz(func(t *testing.T, body string) {
		req, err := parseOrder(strings.NewReader(body))
		if err != nil {
			return
		}
		if req.ProductID < 1 || req.Qty < 1 || req.Qty > 1000 || !strings.Contains(req.Email, "@") || len(req.Email) > 254 {
			t.Errorf("parseOrder(%q) accepted %+v", body, req)
		}
	})
}
