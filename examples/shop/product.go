package main

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/goasync/async"
	"golang.org/x/sync/errgroup"
)

// The product page: one handler fans out to the database (the product) and
// to the downstream service (its reviews and every seller's offer), each
// downstream call with its own timeout and retries, and answers when
// everything is in or when the page's deadline passes, whichever is first:
// at the deadline it answers with what it has and lists what is missing.
// The product itself is required; reviews and offers are not.

// ProductPage is the answer of GET /products/{id}.
type ProductPage struct {
	Product Product  `json:"product"`
	Reviews []Review `json:"reviews"`
	Offers  []Offer  `json:"offers"`
	// Partial is set when some part is missing (failed, or not in by the
	// deadline); Missing names those parts.
	Partial bool     `json:"partial"`
	Missing []string `json:"missing,omitempty"`
}

// fanout is what a product page waits for and how long.
type fanout struct {
	Budget   time.Duration // the whole page
	PerCall  time.Duration // one downstream attempt
	Attempts int           // downstream attempts per part
	Backoff  time.Duration // before the second attempt; doubles after
}

// productPage is the handler written with goasync.
func (s *shop) productPage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "bad product id", http.StatusBadRequest)
		return
	}
	ctx, span := s.tracer.Start(r.Context(), "GET /products/{id}")
	defer span.End()
	ctx, cancel := context.WithTimeout(ctx, s.fan.Budget)
	defer cancel()

	product := async.Go(ctx, func(ctx context.Context) (Product, error) {
		return s.db.product(ctx, id)
	}, async.Name("db.product"))
	reviews := retry(ctx, s.fan, "reviews", func(ctx context.Context) ([]Review, error) {
		return getJSON[[]Review](ctx, s.http, s.downURL+"/reviews/"+strconv.FormatInt(id, 10))
	})
	offers := make([]*async.Future[Offer], len(s.sellers))
	for i, seller := range s.sellers {
		offers[i] = retry(ctx, s.fan, "offer."+seller, func(ctx context.Context) (Offer, error) {
			return getJSON[Offer](ctx, s.http, s.downURL+"/offers/"+seller+"/"+strconv.FormatInt(id, 10))
		})
	}
	// Once the page is answered, the parts still running are of no use:
	// ending ctx stops them, and they return at once. Waiting for them
	// here, after the answer, takes charge of their failures (the
	// deadline's error), which would otherwise be reported as unobserved,
	// and leaves no task behind the request.
	defer func() {
		cancel()
		done := context.WithoutCancel(ctx)
		_, _ = product.Await(done)
		_, _ = reviews.Await(done)
		_, _ = async.AllSettled(done, offers...)
	}()

	var page ProductPage
	page.Product, err = product.Await(ctx)
	if err != nil {
		s.pageError(w, err)
		return
	}
	// Until the deadline: AllSettled returns what has settled by then, and
	// ErrNotSettled for the rest.
	offered, _ := async.AllSettled(ctx, offers...)
	for i, r := range offered {
		if r.Err != nil {
			page.Missing = append(page.Missing, "offer."+s.sellers[i])
			continue
		}
		page.Offers = append(page.Offers, r.Value)
	}
	if page.Reviews, err = reviews.Await(ctx); err != nil {
		page.Missing = append(page.Missing, "reviews")
	}
	page.Partial = len(page.Missing) > 0
	writeJSON(w, http.StatusOK, page)
}

// retry starts call as a task that makes up to f.Attempts attempts, each
// with its own f.PerCall timeout, waiting a jittered backoff from f.Backoff
// between them, for as long as the failure is temporary and ctx lasts.
func retry[T any](ctx context.Context, f fanout, name string, call func(context.Context) (T, error)) *async.Future[T] {
	return async.Go(ctx, call, async.Name(name), async.Timeout(f.PerCall),
		async.Attempts(f.Attempts), async.Backoff(f.Backoff, 8*f.Backoff), async.RetryIf(temporary))
}

// temporary reports whether another attempt may succeed: the attempt timed
// out, the connection failed, or the server answered 5xx or 429.
func temporary(err error) bool {
	if errors.Is(err, async.ErrTimeout) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // the page's own context ended
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.temporary()
	}
	return true // a transport error
}

func (s *shop) pageError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, errNotFound):
		http.Error(w, err.Error(), http.StatusNotFound)
	case errors.Is(err, context.DeadlineExceeded):
		http.Error(w, "the product did not load in time", http.StatusGatewayTimeout)
	default:
		s.log.Error("product page", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// productPageErrgroup is the same handler written with errgroup, as one
// would without goasync: a goroutine per part writing into its own slot, a
// mutex-free join by Wait, and the deadline kept by every part watching the
// context.
func (s *shop) productPageErrgroup(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "bad product id", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.fan.Budget)
	defer cancel()

	var (
		page       ProductPage
		reviewsErr error
		offers     = make([]Offer, len(s.sellers))
		offerErrs  = make([]error, len(s.sellers))
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		page.Product, err = s.db.product(gctx, id)
		return err // the product is required: its failure ends the others
	})
	g.Go(func() error {
		page.Reviews, reviewsErr = retryPlain(gctx, s.fan, func(ctx context.Context) ([]Review, error) {
			return getJSON[[]Review](ctx, s.http, s.downURL+"/reviews/"+strconv.FormatInt(id, 10))
		})
		return nil
	})
	for i, seller := range s.sellers {
		g.Go(func() error {
			offers[i], offerErrs[i] = retryPlain(gctx, s.fan, func(ctx context.Context) (Offer, error) {
				return getJSON[Offer](ctx, s.http, s.downURL+"/offers/"+seller+"/"+strconv.FormatInt(id, 10))
			})
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		s.pageError(w, err)
		return
	}
	for i, err := range offerErrs {
		if err != nil {
			page.Missing = append(page.Missing, "offer."+s.sellers[i])
			continue
		}
		page.Offers = append(page.Offers, offers[i])
	}
	if reviewsErr != nil {
		page.Reviews = nil
		page.Missing = append(page.Missing, "reviews")
	}
	page.Partial = len(page.Missing) > 0
	writeJSON(w, http.StatusOK, page)
}

// retryPlain is retry without goasync: context.WithTimeout per attempt and
// a timer between attempts.
func retryPlain[T any](ctx context.Context, f fanout, call func(context.Context) (T, error)) (T, error) {
	backoff := f.Backoff
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeoutCause(ctx, f.PerCall, async.ErrTimeout)
		v, err := call(actx)
		if err != nil && actx.Err() != nil && ctx.Err() == nil {
			err = async.ErrTimeout // the attempt's own timeout
		}
		cancel()
		if err == nil || attempt >= f.Attempts || !temporary(err) {
			return v, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return v, ctx.Err()
		}
		backoff *= 2
	}
}
