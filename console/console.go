// Package console serves a live web view of goasync's tasks: the tree of
// tasks with their states and durations, what each blocked task awaits,
// await cycles (deadlocks), spawn sites, a timeline (each task a bar on a
// shared time axis, blocked spans shaded), statistics by task name (count,
// p50/p99 duration, failure rate), and pool statistics. It reads
// [async.Tasks] and [async.Pools], so tasks appear only in debug mode
// ([async.SetDebug] or ASYNC_DEBUG=1); pools appear in any mode.
//
//	async.SetDebug(true)
//	go http.ListenAndServe("127.0.0.1:6060", console.Handler())
//
// The page is embedded (HTML, a script and a style sheet) and loads nothing
// from elsewhere. It stays fast with a hundred thousand tasks: siblings that
// share a name are grouped, a parent shows at most 100 rows before "N
// more", and only the rows on screen are in the DOM. Serve it only to people allowed to see the program's task
// names, spawn sites and errors, such as on a loopback address. The console
// answers only requests addressed to a loopback name (localhost, 127.0.0.1,
// [::1]) unless [AllowHosts] lists more, which defeats DNS rebinding, and
// its responses forbid framing, content sniffing and any script or style
// but its own.
package console

import (
	_ "embed"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

var (
	//go:embed index.html
	page []byte
	//go:embed console.js
	script []byte
	//go:embed console.css
	style []byte
)

// csp allows the page its own script, style sheet and API, and nothing else:
// no inline script, no other origin, no framing, no form or base URL.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler returns the console. It serves, relative to where it is mounted
// (use http.StripPrefix to mount it under a path):
//
//   - / : the page (and its /console.js and /console.css);
//   - /api/tasks : a JSON snapshot ([Snapshot]);
//   - /api/events : a server-sent event stream of snapshots, each an event
//     "snapshot" whose data is the JSON.
//
// A snapshot is taken at most once per interval, however many clients
// stream or poll, and every client is sent the same encoded bytes: the cost
// of the console does not grow with its viewers. The interval is half a
// second, and grows with the number of tasks (by half a second per 25,000,
// up to 5 s) so that a large program's console stays cheap. /api/tasks
// serves the latest snapshot, taken at most one interval ago.
//
// At most 32 streams are served at once ([MaxStreams] changes it); beyond
// that a stream is refused with 503 Service Unavailable and the page polls
// /api/tasks instead. A stream ends when its client goes away, or when a
// write to it has not completed within 30 s. Handler starts no goroutine of
// its own.
//
// A request whose Host header is not a loopback name (localhost,
// 127.0.0.1 or [::1], with any port) or a name given to [AllowHosts] gets
// 403 Forbidden, and so does a request a browser makes for a page of
// another origin (its Origin or Sec-Fetch-Site header says so). Every
// response carries X-Content-Type-Options: nosniff,
// X-Frame-Options: DENY and a Content-Security-Policy that allows only the
// console's own script, style sheet and API.
func Handler(opts ...Option) http.Handler {
	h := &handler{cfg: config{hosts: map[string]bool{}, maxStreams: defaultMaxStreams}}
	for _, o := range opts {
		o(&h.cfg)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", asset("text/html; charset=utf-8", page))
	mux.HandleFunc("GET /console.js", asset("text/javascript; charset=utf-8", script))
	mux.HandleFunc("GET /console.css", asset("text/css; charset=utf-8", style))
	mux.HandleFunc("GET /api/tasks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(h.hub.latest().json())
	})
	mux.HandleFunc("GET /api/events", h.serveEvents)
	h.mux = mux
	return h
}

type handler struct {
	cfg     config
	mux     *http.ServeMux
	hub     hub
	streams atomic.Int64 // event streams being served
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", csp)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	if !h.cfg.hostAllowed(r.Host) {
		// The Host is not echoed: it is the attacker's text.
		http.Error(w, "console: this host name is not allowed (see console.AllowHosts)", http.StatusForbidden)
		return
	}
	if crossOrigin(r) {
		// A page of another origin may not even start a stream: it
		// could not read it, but it could hold the streams' slots.
		http.Error(w, "console: cross-origin requests are not served", http.StatusForbidden)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// crossOrigin reports whether a browser made r for a page of another
// origin: its Origin header names another host, or Sec-Fetch-Site says so.
func crossOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return true
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	u, err := url.Parse(o)
	return err != nil || !strings.EqualFold(u.Host, r.Host)
}

func asset(contentType string, b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-store")
		w.Write(b)
	}
}

// writeTimeout bounds each write to an event stream: a client that stops
// reading must not keep a snapshot alive.
const writeTimeout = 30 * time.Second

func (h *handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	if h.streams.Add(1) > int64(h.cfg.maxStreams) {
		h.streams.Add(-1)
		w.Header().Set("Retry-After", "10")
		http.Error(w, "console: too many live streams; poll /api/tasks instead", http.StatusServiceUnavailable)
		return
	}
	defer h.streams.Add(-1)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	timer := time.NewTimer(0)
	defer timer.Stop()
	var sent uint64
	for {
		s := h.hub.latest()
		if s.seq != sent {
			rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // not every ResponseWriter has one
			if _, err := w.Write(s.frame); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			sent = s.seq
		}
		// Wake when the next snapshot is due: every stream wakes at the
		// same time, the first takes it, the others share it.
		timer.Reset(time.Until(s.next))
		select {
		case <-r.Context().Done():
			return
		case <-timer.C:
		}
	}
}
