package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/goasync/async"
	"github.com/goasync/async/dist"
)

// Background jobs: an order's confirmation email and a product's thumbnail
// run on dist workers (here in the same process, on the embedded NATS
// server; started with -role worker elsewhere they would share the queue).
// The HTTP handler answers 202 with the job's id at once; GET /jobs/{id}
// tells how it went.

// EmailJob asks for an order's confirmation email.
type EmailJob struct {
	OrderID int64  `json:"order_id"`
	To      string `json:"to"`
}

// EmailDone is what the email job returns.
type EmailDone struct {
	Sent bool `json:"sent"` // false if an earlier run had sent it
}

// ThumbnailJob asks for a product's thumbnail, Size pixels on its longer side.
type ThumbnailJob struct {
	ProductID int64 `json:"product_id"`
	Size      int   `json:"size"`
}

// ThumbnailDone is what the thumbnail job returns.
type ThumbnailDone struct {
	Width  int `json:"width"`
	Height int `json:"height"`
	Bytes  int `json:"bytes"`
}

// registerJobs makes w serve the shop's jobs. Sending an email takes
// mailDelay (the mail server's time, simulated).
func registerJobs(w *dist.Worker, db *store, mailDelay time.Duration) {
	dist.Register(w, "email", func(ctx context.Context, j EmailJob) (EmailDone, error) {
		if err := async.Sleep(ctx, mailDelay); err != nil {
			return EmailDone{}, err
		}
		// At-least-once: the email table's key on the order makes a second
		// run send nothing.
		sent, err := db.recordEmail(ctx, j.OrderID, j.To, fmt.Sprintf("Your order %d", j.OrderID))
		return EmailDone{Sent: sent}, err
	})
	dist.Register(w, "thumbnail", func(ctx context.Context, j ThumbnailJob) (ThumbnailDone, error) {
		if j.Size < 1 || j.Size > 1024 {
			return ThumbnailDone{}, dist.Permanent(fmt.Errorf("thumbnail size %d out of 1..1024", j.Size))
		}
		pic, err := db.pictureOf(ctx, j.ProductID)
		if err != nil {
			return ThumbnailDone{}, err
		}
		thumb, w, h, err := shrink(pic, j.Size)
		if err != nil {
			return ThumbnailDone{}, dist.Permanent(err)
		}
		if err := db.saveThumbnail(ctx, j.ProductID, w, h, thumb); err != nil {
			return ThumbnailDone{}, err
		}
		return ThumbnailDone{Width: w, Height: h, Bytes: len(thumb)}, nil
	})
}

// shrink scales a PNG down to size pixels on its longer side, averaging
// the source pixels under each target pixel.
func shrink(pic []byte, size int) ([]byte, int, int, error) {
	src, err := png.Decode(bytes.NewReader(pic))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("decoding the picture: %w", err)
	}
	b := src.Bounds()
	w, h := size, size
	if b.Dx() > b.Dy() {
		h = max(1, size*b.Dy()/b.Dx())
	} else {
		w = max(1, size*b.Dx()/b.Dy())
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			x0, x1 := b.Min.X+x*b.Dx()/w, b.Min.X+(x+1)*b.Dx()/w
			y0, y1 := b.Min.Y+y*b.Dy()/h, b.Min.Y+(y+1)*b.Dy()/h
			var r, g, bl, a, n uint64
			for sy := y0; sy < max(y1, y0+1); sy++ {
				for sx := x0; sx < max(x1, x0+1); sx++ {
					cr, cg, cb, ca := src.At(sx, sy).RGBA()
					r, g, bl, a, n = r+uint64(cr), g+uint64(cg), bl+uint64(cb), a+uint64(ca), n+1
				}
			}
			i := dst.PixOffset(x, y)
			dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = uint8(r/n>>8), uint8(g/n>>8), uint8(bl/n>>8), uint8(a/n>>8)
		}
	}
	var out bytes.Buffer
	if err := png.Encode(&out, dst); err != nil {
		return nil, 0, 0, err
	}
	return out.Bytes(), w, h, nil
}

// enqueue submits a job and follows it in the background: its failure is
// logged, and shutdown waits for it. It returns the job's id.
func enqueue[Req, Resp any](s *shop, name string, req Req, opts ...dist.CallOption) (string, error) {
	opts = append([]dist.CallOption{dist.Timeout(time.Minute), dist.Retry(100 * time.Millisecond)}, opts...)
	f := dist.Call[Req, Resp](s.jobsCtx, s.jobs, name, req, opts...)
	id, ok := dist.TaskID(f)
	if !ok { // rejected before a task was made (no worker, bad input)
		_, err := f.Await(s.jobsCtx)
		return "", err
	}
	s.background.Go(func(ctx context.Context) error {
		if _, err := f.Await(ctx); err != nil {
			s.log.Error("job failed", "job", name, "id", id, "error", err)
		}
		return nil // logged: one failed job does not stop the others
	})
	return id, nil
}

// OrderRequest is the body of POST /orders.
type OrderRequest struct {
	ProductID int64  `json:"product_id"`
	Qty       int64  `json:"qty"`
	Email     string `json:"email"`
}

// OrderAccepted is the answer of POST /orders.
type OrderAccepted struct {
	OrderID  int64  `json:"order_id"`
	EmailJob string `json:"email_job"`
}

// parseOrder reads an order request, refusing anything but one JSON object
// with a product, a quantity of 1 to 1000 and a plausible email address.
func parseOrder(r io.Reader) (OrderRequest, error) {
	var req OrderRequest
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err != nil || req.ProductID < 1 || req.Qty < 1 || req.Qty > 1000 ||
		len(req.Email) < 3 || len(req.Email) > 254 || !strings.Contains(req.Email, "@") {
		return OrderRequest{}, errors.New("want one JSON object {product_id, qty (1..1000), email}")
	}
	return req, nil
}

func (s *shop) placeOrder(w http.ResponseWriter, r *http.Request) {
	ctx, span := s.tracer.Start(r.Context(), "POST /orders")
	defer span.End()
	req, err := parseOrder(http.MaxBytesReader(w, r.Body, 4<<10))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	orderID, err := s.db.placeOrder(ctx, req.ProductID, req.Qty, req.Email)
	switch {
	case errors.Is(err, errNotFound):
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	case errors.Is(err, errOutOfStock):
		http.Error(w, err.Error(), http.StatusConflict)
		return
	case err != nil:
		s.log.Error("placing an order", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	// One email per order, however often this is submitted: the key makes
	// one task of every submission.
	job, err := enqueue[EmailJob, EmailDone](s, "email", EmailJob{OrderID: orderID, To: req.Email}, dist.Key("order-"+strconv.FormatInt(orderID, 10)))
	if err != nil {
		s.log.Error("queueing the email", "order", orderID, "error", err)
	}
	writeJSON(w, http.StatusCreated, OrderAccepted{OrderID: orderID, EmailJob: job})
}

func (s *shop) makeThumbnail(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "bad product id", http.StatusBadRequest)
		return
	}
	size := 64
	if v := r.URL.Query().Get("size"); v != "" {
		if size, err = strconv.Atoi(v); err != nil {
			http.Error(w, "bad size", http.StatusBadRequest)
			return
		}
	}
	job, err := enqueue[ThumbnailJob, ThumbnailDone](s, "thumbnail", ThumbnailJob{ProductID: id, Size: size})
	if err != nil {
		s.log.Error("queueing a thumbnail", "product", id, "error", err)
		http.Error(w, "cannot queue the job", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"job": job})
}

// JobStatus is the answer of GET /jobs/{id}.
type JobStatus struct {
	ID     string          `json:"id"`
	State  string          `json:"state"` // pending, done or failed
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// jobStatus waits up to ?wait= (default 0, at most 10s) for a job's
// outcome: any client can, with the id alone (dist.Attach).
func (s *shop) jobStatus(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	wait, err := time.ParseDuration(r.URL.Query().Get("wait") + "s")
	if r.URL.Query().Get("wait") == "" {
		wait, err = time.Millisecond, nil
	}
	if err != nil || wait < 0 || wait > 10*time.Second {
		http.Error(w, "wait is seconds, up to 10", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	res, err := dist.Attach[json.RawMessage](ctx, s.jobs, id).Await(ctx)
	st := JobStatus{ID: id, State: "done", Result: res}
	switch {
	case errors.Is(err, dist.ErrInvalidName):
		http.Error(w, "no such job", http.StatusNotFound)
		return
	case err != nil && ctx.Err() != nil:
		st.State = "pending"
	case err != nil:
		st.State, st.Error = "failed", err.Error()
	}
	writeJSON(w, http.StatusOK, st)
}
