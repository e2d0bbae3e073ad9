package dist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goasync/async"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The streams, buckets and subjects of one namespace.
type layout struct {
	ns          string
	tasksStream string // work queue of tasks, subjects <ns>.task.<name>
	results     string // KV bucket: task id -> outcome record
	workers     string // KV bucket: <name>.<worker> -> worker info
}

func newLayout(ns string) layout {
	return layout{ns: ns, tasksStream: ns + "_TASKS", results: ns + "_RESULTS", workers: ns + "_WORKERS"}
}

func (l layout) taskSubject(name string) string { return l.ns + ".task." + name }
func (l layout) cancelPrefix() string           { return l.ns + ".cancel." }
func (l layout) resultsStream() string          { return "KV_" + l.results }
func (l layout) resultSubject(id string) string { return "$KV." + l.results + "." + id }

const (
	resultTTL     = 24 * time.Hour
	workerTTL     = 15 * time.Second // a worker's entry expires unless refreshed
	dedupWindow   = 2 * time.Minute
	apiTimeout    = 5 * time.Second
	workerRefresh = workerTTL / 3
)

// ensureLayout creates the streams and buckets, or checks they exist. Clients
// and workers both call it, with the same configuration, so either may start
// first.
func ensureLayout(ctx context.Context, js jetstream.JetStream, l layout) (results, workers jetstream.KeyValue, err error) {
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       l.tasksStream,
		Subjects:   []string{l.ns + ".task.>"},
		Retention:  jetstream.WorkQueuePolicy,
		Storage:    jetstream.FileStorage,
		Duplicates: dedupWindow,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("async: dist: creating stream %s: %w", l.tasksStream, err)
	}
	results, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: l.results, History: 1, TTL: resultTTL, Storage: jetstream.FileStorage,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("async: dist: creating bucket %s: %w", l.results, err)
	}
	workers, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: l.workers, History: 1, TTL: workerTTL, Storage: jetstream.FileStorage,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("async: dist: creating bucket %s: %w", l.workers, err)
	}
	return results, workers, nil
}

// Task message headers. The task id is the message id, so that JetStream's
// duplicate window drops a re-published task.
const (
	hdrID       = "Nats-Msg-Id"
	hdrDeadline = "Async-Deadline"     // unix nanoseconds
	hdrAttempts = "Async-Max-Attempts" // deliveries allowed
	hdrRetry    = "Async-Retry"        // present when errors are retried: comma-separated backoff in ns
	hdrCodec    = "Async-Codec"
	hdrKeyed    = "Async-Keyed" // the id comes from a Key: check for a stored result before running
)

// taskMeta is what a worker reads from a task's headers.
type taskMeta struct {
	id, name    string
	deadline    time.Time // zero: none
	maxAttempts int
	retry       bool
	backoff     []time.Duration
	codec       string
	keyed       bool
}

func parseMeta(h map[string][]string, name string) (taskMeta, error) {
	get := func(k string) string {
		if v := h[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	m := taskMeta{id: get(hdrID), name: name, maxAttempts: DefaultMaxAttempts, codec: get(hdrCodec), keyed: get(hdrKeyed) != ""}
	if m.id == "" {
		return m, errors.New("task without id")
	}
	if s := get(hdrDeadline); s != "" {
		ns, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return m, fmt.Errorf("bad deadline %q", s)
		}
		m.deadline = time.Unix(0, ns)
	}
	if s := get(hdrAttempts); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return m, fmt.Errorf("bad max attempts %q", s)
		}
		m.maxAttempts = n
	}
	if v, ok := h[hdrRetry]; ok {
		m.retry = true
		if len(v) > 0 && v[0] != "" {
			for f := range strings.SplitSeq(v[0], ",") {
				d, err := strconv.ParseInt(f, 10, 64)
				if err != nil || d < 0 {
					return m, fmt.Errorf("bad retry backoff %q", v[0])
				}
				m.backoff = append(m.backoff, time.Duration(d))
			}
		}
	}
	return m, nil
}

func formatBackoff(b []time.Duration) string {
	s := make([]string, len(b))
	for i, d := range b {
		s[i] = strconv.FormatInt(int64(d), 10)
	}
	return strings.Join(s, ",")
}

// delay is the backoff before the retry that follows failed attempt n (from 1).
func (m *taskMeta) delay(n int) time.Duration {
	if len(m.backoff) == 0 {
		return 0
	}
	return m.backoff[min(n-1, len(m.backoff)-1)]
}

// keyedID is the task id of a call with a Key: the same for every caller of
// one function with one key, and a valid KV key whatever the key holds.
func keyedID(name, key string) string {
	sum := sha256.Sum256([]byte(name + "\x00" + key))
	return "k." + hex.EncodeToString(sum[:16])
}

// validTaskID reports whether id can be a task id (a KV key and a subject
// suffix made of tokens).
func validTaskID(id string) bool {
	if id == "" || len(id) > 256 || id[0] == '.' || id[len(id)-1] == '.' || strings.Contains(id, "..") {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// storeOutcome writes rec as the outcome of task id unless one is stored
// already: a create-only write to the results bucket (kv.Create without its
// per-call key check; ids are checked when they are made). It reports
// whether this write won; err is set when the server did not answer.
func storeOutcome(ctx context.Context, js jetstream.JetStream, l layout, id string, rec []byte) (bool, error) {
	msg := &nats.Msg{Subject: l.resultSubject(id), Data: rec, Header: nats.Header{}}
	_, err := js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(0))
	if err == nil {
		return true, nil
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return false, nil // first writer wins
	}
	return false, err
}

// Outcome records, stored in the results bucket under the task id: 'v'
// followed by the codec-encoded value, or 'e' followed by a JSON wireError.
const (
	recValue = 'v'
	recError = 'e'
)

// Kinds of failure.
const (
	kindError    = "error"
	kindPanic    = "panic"
	kindTimeout  = "timeout"
	kindCanceled = "canceled"
	kindDead     = "dead"
)

type wireError struct {
	Kind    string `json:"kind"`
	Task    string `json:"task,omitempty"`
	Message string `json:"msg"`
	Stack   string `json:"stack,omitempty"` // a panic's stack text
	Worker  string `json:"worker,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
	Last    string `json:"last,omitempty"` // for kindDead: the kind of the last failure
	// permanent stops Retry; it is not sent.
	permanent bool
}

func valueRecord(v []byte) []byte {
	rec := make([]byte, 1+len(v))
	rec[0] = recValue
	copy(rec[1:], v)
	return rec
}

func errorRecord(e *wireError) []byte {
	b, err := json.Marshal(e)
	if err != nil { // cannot happen: strings and ints only
		panic(err)
	}
	return append([]byte{recError}, b...)
}

// decodeRecord splits a stored record into a value payload or a failure.
func decodeRecord(rec []byte) (value []byte, fail *wireError, err error) {
	if len(rec) == 0 {
		return nil, nil, errors.New("async: dist: empty result record")
	}
	switch rec[0] {
	case recValue:
		return rec[1:], nil, nil
	case recError:
		var e wireError
		if err := json.Unmarshal(rec[1:], &e); err != nil {
			return nil, nil, fmt.Errorf("async: dist: bad error record: %w", err)
		}
		return nil, &e, nil
	}
	return nil, nil, fmt.Errorf("async: dist: unknown result record type %q", rec[0])
}

// toError turns a failure record into the error a future settles with.
func (e *wireError) toError(name, id string) error {
	if e.Task != "" {
		name = e.Task
	}
	re := &RemoteError{Task: name, TaskID: id, Worker: e.Worker, Attempt: e.Attempt, Message: e.Message}
	kind := e.Kind
	if kind == kindDead {
		re.causes = append(re.causes, ErrDeadLetter)
		kind = e.Last
	}
	switch kind {
	case kindPanic:
		re.causes = append(re.causes, &async.PanicError{Value: e.Message, Stack: []byte(e.Stack), Task: name})
	case kindTimeout:
		re.causes = append(re.causes, async.ErrTimeout)
	case kindCanceled:
		re.causes = append(re.causes, async.ErrCanceled)
	}
	return re
}

// decodeOutcome decodes a record into a value of type T or the error the
// future settles with.
func decodeOutcome[T any](codec Codec, name, id string, rec []byte) (T, error) {
	var v T
	payload, fail, err := decodeRecord(rec)
	if err != nil {
		return v, err
	}
	if fail != nil {
		return v, fail.toError(name, id)
	}
	if err := codec.Unmarshal(payload, &v); err != nil {
		return v, fmt.Errorf("async: dist: task %q (%s): decoding result: %w", name, id, err)
	}
	return v, nil
}
