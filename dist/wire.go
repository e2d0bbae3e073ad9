package dist

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goasync/async"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The streams, buckets and subjects of one namespace.
type layout struct {
	ns          string
	tasksStream string // work queue: tasks on <ns>.task.<name>, cancel requests on <ns>.ctl.cancel
	results     string // KV bucket: task id -> outcome record
	workers     string // KV bucket: <name>.<worker> -> worker info
	deadStream  string // ids of dead-lettered tasks on <ns>.dead.<name>, for Stats
}

func newLayout(ns string) layout {
	return layout{ns: ns, tasksStream: ns + "_TASKS", results: ns + "_RESULTS", workers: ns + "_WORKERS", deadStream: ns + "_DEAD"}
}

func (l layout) taskSubject(name string) string { return l.ns + ".task." + name }
func (l layout) cancelPrefix() string           { return l.ns + ".cancel." }
func (l layout) startedPrefix() string          { return l.ns + ".started." }
func (l layout) ctlSubject() string             { return l.ns + ".ctl.cancel" }
func (l layout) deadSubject(name string) string { return l.ns + ".dead." + name }
func (l layout) resultsStream() string          { return "KV_" + l.results }
func (l layout) resultSubject(id string) string { return "$KV." + l.results + "." + id }

// ctlConsumer is the durable consumer of cancel requests that every worker
// of a namespace shares; '@' keeps it apart from function names.
const ctlConsumer = "@cancels"

const (
	workerTTL     = 15 * time.Second // a worker's entry expires unless refreshed
	dedupWindow   = 2 * time.Minute
	apiTimeout    = 5 * time.Second
	workerRefresh = workerTTL / 3
	maxDead       = 100_000 // dead-letter records kept per namespace
)

// ensureLayout makes sure the streams and buckets exist. Workers (update
// true) create them or update them to their configuration; clients only
// look them up and create what is missing, so that a client needs no right
// to change a stream that workers set up.
func ensureLayout(ctx context.Context, js jetstream.JetStream, l layout, c common, update bool) (results, workers jetstream.KeyValue, err error) {
	streams := []jetstream.StreamConfig{{
		Name:       l.tasksStream,
		Subjects:   []string{l.ns + ".task.>", l.ctlSubject()},
		Retention:  jetstream.WorkQueuePolicy,
		Storage:    jetstream.FileStorage,
		Duplicates: dedupWindow,
		MaxMsgs:    c.maxQueued,
		Discard:    jetstream.DiscardNew,
		Replicas:   c.replicas,
	}, {
		Name:     l.deadStream,
		Subjects: []string{l.ns + ".dead.>"},
		Storage:  jetstream.FileStorage,
		MaxAge:   c.resultTTL,
		MaxMsgs:  maxDead,
		Replicas: c.replicas,
	}}
	if c.maxQueued == 0 {
		streams[0].MaxMsgs = -1
	}
	for _, cfg := range streams {
		if err := ensureStream(ctx, js, cfg, update); err != nil {
			return nil, nil, fmt.Errorf("async: dist: stream %s: %w", cfg.Name, err)
		}
	}
	buckets := []jetstream.KeyValueConfig{
		{Bucket: l.results, History: 1, TTL: c.resultTTL, Storage: jetstream.FileStorage, Replicas: c.replicas},
		{Bucket: l.workers, History: 1, TTL: workerTTL, Storage: jetstream.FileStorage, Replicas: c.replicas},
	}
	kvs := make([]jetstream.KeyValue, len(buckets))
	for i, cfg := range buckets {
		if update {
			kvs[i], err = js.CreateOrUpdateKeyValue(ctx, cfg)
		} else if kvs[i], err = js.KeyValue(ctx, cfg.Bucket); errors.Is(err, jetstream.ErrBucketNotFound) {
			kvs[i], err = js.CreateKeyValue(ctx, cfg)
			if errors.Is(err, jetstream.ErrBucketExists) {
				kvs[i], err = js.KeyValue(ctx, cfg.Bucket)
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("async: dist: bucket %s: %w", cfg.Bucket, err)
		}
	}
	return kvs[0], kvs[1], nil
}

func ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig, update bool) error {
	if update {
		_, err := js.CreateOrUpdateStream(ctx, cfg)
		return err
	}
	_, err := js.Stream(ctx, cfg.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		if _, err = js.CreateStream(ctx, cfg); errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			err = nil
		}
	}
	return err
}

// Task message headers. The task id is the message id, so that JetStream's
// duplicate window drops a re-published task.
const (
	hdrID       = "Nats-Msg-Id"
	hdrDeadline = "Async-Deadline"     // unix nanoseconds
	hdrAttempts = "Async-Max-Attempts" // deliveries allowed
	hdrRetry    = "Async-Retry"        // present when errors are retried: comma-separated backoff in ns
	hdrCodec    = "Async-Codec"
	hdrKeyed    = "Async-Keyed"  // the id comes from a Key: check for a stored result before running
	hdrNotify   = "Async-Notify" // the caller is in debug mode: say which worker runs the task

	// A cancel request on the control subject names its task by these.
	hdrCancelID   = "Async-Cancel"
	hdrCancelTask = "Async-Task"
)

// Bounds on what a worker accepts from a message and keeps in a record.
const (
	maxCodecName = 64
	maxBackoffs  = 64
	maxText      = 64 << 10 // error message, panic value, panic stack
)

// errInvalidID is the parse error of a task whose id cannot be a task id: a
// worker drops such a message (it cannot store an outcome under the id).
var errInvalidID = errors.New("invalid task id")

// taskMeta is what a worker reads from a task's headers.
type taskMeta struct {
	id, name    string
	deadline    time.Time // zero: none
	maxAttempts int
	retry       bool
	backoff     []time.Duration
	codec       string
	keyed       bool
	notify      bool
}

func parseMeta(h map[string][]string, name string) (taskMeta, error) {
	// One pass over the few headers a task has, rather than a lookup for
	// each header it may have.
	var deadline, attempts, retry string
	m := taskMeta{name: name, maxAttempts: DefaultMaxAttempts}
	for k, v := range h {
		var first string
		if len(v) > 0 {
			first = v[0]
		}
		switch k {
		case hdrID:
			m.id = first
		case hdrCodec:
			m.codec = first
		case hdrKeyed:
			m.keyed = first != ""
		case hdrNotify:
			m.notify = first != ""
		case hdrDeadline:
			deadline = first
		case hdrAttempts:
			attempts = first
		case hdrRetry:
			m.retry, retry = true, first
		}
	}
	if !validTaskID(m.id) {
		return m, errInvalidID
	}
	if len(m.codec) > maxCodecName {
		return m, fmt.Errorf("codec name of %d bytes", len(m.codec))
	}
	if deadline != "" {
		ns, err := strconv.ParseInt(deadline, 10, 64)
		if err != nil {
			return m, fmt.Errorf("bad deadline %q", deadline)
		}
		m.deadline = time.Unix(0, ns)
	}
	if attempts != "" {
		n, err := strconv.Atoi(attempts)
		if err != nil || n < 1 {
			return m, fmt.Errorf("bad max attempts %q", attempts)
		}
		m.maxAttempts = n
	}
	if retry != "" {
		if strings.Count(retry, ",") >= maxBackoffs {
			return m, fmt.Errorf("more than %d retry delays", maxBackoffs)
		}
		for f := range strings.SplitSeq(retry, ",") {
			d, err := strconv.ParseInt(f, 10, 64)
			if err != nil || d < 0 {
				return m, fmt.Errorf("bad retry backoff %q", retry)
			}
			m.backoff = append(m.backoff, time.Duration(d))
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
// already: a create-only write to the results bucket (what kv.Create
// does, without its per-call key check; ids are checked when they are
// made). It reports whether this write won; err is set when the server did
// not answer or refused the write for another reason.
//
// It is a plain request rather than a JetStream publish: the header is
// shared and the server's answer is only decoded when it reports an error,
// which keeps a worker's per-task cost down.
func storeOutcome(nc *nats.Conn, l layout, id string, rec []byte, timeout time.Duration) (bool, error) {
	resp, err := nc.RequestMsg(&nats.Msg{Subject: l.resultSubject(id), Data: rec, Header: createOnly}, timeout)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			return false, jetstream.ErrNoStreamResponse // no stream leader right now
		}
		return false, err
	}
	return storeAnswer(resp)
}

// storeAnswer reads the server's answer to a create-only write: whether
// this write won, or the error; a write that lost to an earlier one is no
// error (first writer wins).
func storeAnswer(resp *nats.Msg) (bool, error) {
	if _, err := parsePubAck(resp); err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
			return false, nil // first writer wins
		}
		return false, err
	}
	return true, nil
}

// createOnly is the header of a create-only write: the subject must have
// no message yet. Shared by every write, never modified.
var createOnly = nats.Header{"Nats-Expected-Last-Subject-Sequence": []string{"0"}}

// pubAckError returns the error in a JetStream publication's answer, or
// nil if it acknowledges the message. An acknowledgment names the stream
// and the sequence and, as stream names hold no quotes, never contains
// the text "error" in quotes; only other answers are decoded.
func pubAckError(data []byte) error {
	if !bytes.Contains(data, []byte(`"error"`)) {
		if bytes.Contains(data, []byte(`"stream"`)) && bytes.Contains(data, []byte(`"seq"`)) {
			return nil
		}
		return jetstream.ErrInvalidJSAck
	}
	var ack struct {
		Error *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(data, &ack); err != nil || ack.Error == nil {
		return jetstream.ErrInvalidJSAck
	}
	return ack.Error
}

// ackPosition reads a JetStream delivery's delivery count and stream
// sequence from its reply subject, as Metadata does (both the old
// 9-token form and the newer one of 11 or more), without allocating; ok is
// false for any other subject.
func ackPosition(reply string) (delivered, streamSeq uint64, ok bool) {
	rest, found := strings.CutPrefix(reply, "$JS.ACK.")
	if !found {
		return 0, 0, false
	}
	var skip int // tokens between "$JS.ACK." and the delivery count
	switch n := strings.Count(reply, ".") + 1; {
	case n == 9:
		skip = 2 // <stream>.<consumer>
	case n >= 11:
		skip = 4 // <domain>.<account hash>.<stream>.<consumer>
	default:
		return 0, 0, false
	}
	for range skip {
		_, rest, _ = strings.Cut(rest, ".")
	}
	d, rest, _ := strings.Cut(rest, ".")
	sq, _, _ := strings.Cut(rest, ".")
	delivered, streamSeq = parseUint(d), parseUint(sq)
	return delivered, streamSeq, delivered > 0 && streamSeq > 0
}

// parseUint parses a decimal number of at most 19 digits; 0 if s is not one.
func parseUint(s string) uint64 {
	if len(s) == 0 || len(s) > 19 {
		return 0
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + uint64(c-'0')
	}
	return n
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
	kindTooLarge = "toolarge"
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
	e.Message, e.Stack = capText(e.Message), capText(e.Stack)
	b, err := json.Marshal(e)
	if err != nil { // cannot happen: strings and ints only
		panic(err)
	}
	return append([]byte{recError}, b...)
}

// capText bounds a text that goes into a record, so that a huge error
// message, panic value or stack cannot make the record unstorable.
func capText(s string) string {
	if len(s) <= maxText {
		return s
	}
	cut := maxText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("... [%d bytes cut]", len(s)-cut)
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
	re := &RemoteError{Task: name, TaskID: id, Worker: e.Worker, Attempt: e.Attempt, Message: e.Message, kind: e.Kind, last: e.Last}
	kind := e.Kind
	if kind == kindDead {
		re.causes = append(re.causes, ErrDeadLetter)
		kind = e.Last
	}
	switch kind {
	case kindTooLarge:
		re.causes = append(re.causes, ErrTooLarge)
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
func decodeOutcome[T any](codec Codec, name, id string, rec []byte) (v T, err error) {
	// The codec runs on bytes that another process wrote, with the
	// caller's type: a panic in it (a custom UnmarshalJSON, say) fails
	// this future instead of the process.
	defer func() {
		if r := recover(); r != nil {
			var zero T
			v, err = zero, fmt.Errorf("async: dist: task %q (%s): decoding result: %w", name, id,
				&async.PanicError{Value: r, Stack: debug.Stack(), Task: name})
		}
	}()
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
