// Package console serves a live web view of goasync's tasks: the tree of
// tasks with their states and durations, what each blocked task awaits,
// await cycles (deadlocks), spawn sites, and pool statistics. It reads
// [async.Tasks] and [async.Pools], so tasks appear only in debug mode
// ([async.SetDebug] or ASYNC_DEBUG=1); pools appear in any mode.
//
//	async.SetDebug(true)
//	go http.ListenAndServe("127.0.0.1:6060", console.Handler())
//
// The page is embedded (HTML, a script and a style sheet) and loads nothing
// from elsewhere. Serve it only to people allowed to see the program's task
// names, spawn sites and errors, such as on a loopback address. The console
// answers only requests addressed to a loopback name (localhost, 127.0.0.1,
// [::1]) unless [AllowHosts] lists more, which defeats DNS rebinding, and
// its responses forbid framing, content sniffing and any script or style
// but its own.
package console

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/goasync/async"
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

// interval is how often the live stream sends a new snapshot.
const interval = 500 * time.Millisecond

// Handler returns the console. It serves, relative to where it is mounted
// (use http.StripPrefix to mount it under a path):
//
//   - / : the page;
//   - /api/tasks : a JSON snapshot ([Snapshot]);
//   - /api/events : a server-sent event stream of snapshots, one every
//     half second, each an event "snapshot" whose data is the JSON.
//
// A stream ends when its client goes away. Handler starts no goroutine of
// its own.
//
// A request whose Host header is not a loopback name (localhost,
// 127.0.0.1 or [::1], with any port) or a name given to [AllowHosts] gets
// 403 Forbidden. Every response carries X-Content-Type-Options: nosniff,
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
		json.NewEncoder(w).Encode(take())
	})
	mux.HandleFunc("GET /api/events", serveEvents)
	h.mux = mux
	return h
}

type handler struct {
	cfg config
	mux *http.ServeMux
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
	h.mux.ServeHTTP(w, r)
}

func asset(contentType string, b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-store")
		w.Write(b)
	}
}

func serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		b, err := json.Marshal(take())
		if err != nil {
			return
		}
		if _, err := fmt.Fprintf(w, "event: snapshot\ndata: %s\n\n", b); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

// Snapshot is what the console shows, as its JSON API serves it.
type Snapshot struct {
	Time   time.Time  `json:"time"`
	Debug  bool       `json:"debug"` // false: debug mode is off, so no tasks are recorded
	Tasks  []Task     `json:"tasks"`
	Cycles [][]uint64 `json:"cycles"` // await cycles: each task awaits the next, the last the first
	Pools  []Pool     `json:"pools"`
}

// Task is one task of a [Snapshot]: [async.TaskInfo] with durations in
// milliseconds and the error as text.
type Task struct {
	ID         uint64          `json:"id"`
	Name       string          `json:"name"`
	State      async.TaskState `json:"state"`
	Parent     uint64          `json:"parent,omitempty"`
	Group      string          `json:"group,omitempty"`
	Started    time.Time       `json:"started"`
	DurationMS float64         `json:"durationMs"`
	Awaiting   []uint64        `json:"awaiting,omitempty"`
	BlockedMS  float64         `json:"blockedMs,omitempty"`
	Spawn      string          `json:"spawn,omitempty"`
	Err        string          `json:"err,omitempty"`
	InCycle    bool            `json:"inCycle,omitempty"`
}

// Pool is one pool of a [Snapshot].
type Pool struct {
	ID   uint64 `json:"id"`
	Name string `json:"name"`
	async.PoolStats
}

// take returns a snapshot of the tasks and pools now.
func take() Snapshot {
	infos := async.Tasks()
	s := Snapshot{Time: time.Now(), Debug: infos != nil, Tasks: []Task{}, Cycles: async.AwaitCycles(infos), Pools: []Pool{}}
	if s.Cycles == nil {
		s.Cycles = [][]uint64{}
	}
	inCycle := map[uint64]bool{}
	for _, c := range s.Cycles {
		for _, id := range c {
			inCycle[id] = true
		}
	}
	for _, ti := range infos {
		t := Task{ID: ti.ID, Name: ti.Name, State: ti.State, Parent: ti.Parent, Group: ti.Group, Started: ti.Started,
			DurationMS: ms(ti.Duration), Awaiting: ti.Awaiting, BlockedMS: ms(ti.Blocked), Spawn: ti.Spawn, InCycle: inCycle[ti.ID]}
		if ti.Err != nil {
			t.Err = firstLine(ti.Err.Error())
		}
		s.Tasks = append(s.Tasks, t)
	}
	for _, p := range async.Pools() {
		s.Pools = append(s.Pools, Pool{ID: p.ID, Name: p.Name, PoolStats: p.Stats})
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// firstLine keeps an error's first line: a panic's message, not its stack.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
