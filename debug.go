package async

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/trace"
	"strings"
	"sync/atomic"
)

// debugMode is read once per task; it is set from ASYNC_DEBUG at start-up and
// by SetDebug.
var debugMode atomic.Bool

func init() {
	switch os.Getenv("ASYNC_DEBUG") {
	case "1", "true", "on", "yes":
		SetDebug(true)
	}
}

// SetDebug turns debug mode on or off and returns the previous setting.
// Debug mode is also turned on by the environment variable ASYNC_DEBUG=1.
//
// In debug mode every task records where it was started (its spawn site) and
// the spawn sites of the tasks that started it, and [PanicError] and
// [UnobservedFailure] reports include this async stack trace. Live tasks are
// kept in a registry that [Tasks] and [Dump] read, named tasks run with a
// pprof label and, while runtime/trace is tracing, as trace tasks (see
// [SetProfiling]). Tasks started while debug mode was off are not in the
// registry. With debug mode off (the default) a task pays one atomic load
// for it.
func SetDebug(on bool) (previous bool) {
	reinstall(func(h *hookSet) {
		previous = debugMode.Swap(on)
		switch {
		case on && h.reg == nil:
			h.reg = newRegistry()
		case !on:
			h.reg = nil
		}
		h.prof = on || profiling
	})
	return previous
}

// Debugging reports whether debug mode is on, so that code which feeds the
// registry from elsewhere (a remote worker's progress, say) can skip the
// work when nobody can look.
func Debugging() bool { return debugMode.Load() }

// callers records the call stack above the library's own frames.
func callers(skip int) []uintptr {
	var pcs [32]uintptr
	n := runtime.Callers(skip, pcs[:])
	return append([]uintptr(nil), pcs[:n]...)
}

// formatStack renders program counters as "function\n\tfile:line" lines,
// leaving out the library's frames at either end (the task's start, and
// the goroutine entry that runs a task) and the runtime's frames at the
// bottom (goroutine exit, runtime.main).
func formatStack(pcs []uintptr) []byte {
	var fs []runtime.Frame
	frames := runtime.CallersFrames(pcs)
	for {
		fr, more := frames.Next()
		if fr.Function != "" && !(len(fs) == 0 && libraryFrame(fr)) {
			fs = append(fs, fr)
		}
		if !more {
			break
		}
	}
	for len(fs) > 0 && (libraryFrame(fs[len(fs)-1]) || strings.HasPrefix(fs[len(fs)-1].Function, "runtime.")) {
		fs = fs[:len(fs)-1]
	}
	var b bytes.Buffer
	for _, fr := range fs {
		fmt.Fprintf(&b, "%s\n\t%s:%d\n", fr.Function, fr.File, fr.Line)
	}
	return b.Bytes()
}

// libraryFrame reports whether fr is this module's own code (not a test),
// which a spawn site skips so that it starts at the user's call.
func libraryFrame(fr runtime.Frame) bool {
	const mod = "github.com/goasync/async"
	f := fr.Function
	return strings.HasPrefix(f, mod) && len(f) > len(mod) && (f[len(mod)] == '.' || f[len(mod)] == '/') &&
		!strings.HasSuffix(fr.File, "_test.go") && !strings.Contains(f, "/examples/")
}

// spawnSite returns the first frame of pcs that is not the library's, as
// "function (file:line)".
func spawnSite(pcs []uintptr) string {
	frames := runtime.CallersFrames(pcs)
	for {
		fr, more := frames.Next()
		if fr.Function != "" && !libraryFrame(fr) {
			return fmt.Sprintf("%s (%s:%d)", fr.Function, fr.File, fr.Line)
		}
		if !more {
			return ""
		}
	}
}

// maxAncestors bounds the async stack trace, so that a task that starts its
// successor forever does not keep every predecessor's site alive.
const maxAncestors = 16

// An ancestor is the spawn site of a task that started, directly or not,
// the task whose trace it is in.
type ancestor struct {
	name string
	pcs  []uintptr
}

// taskDebug is what debug mode, profiling and an observer keep for a task.
// It is written before the task is shared, except where noted.
type taskDebug struct {
	id        uint64          // registry id; 0 if started outside debug mode
	ancestors []ancestor      // nearest first; debug mode only
	values    context.Context // where the task's context finds values, or nil: see task.Value
	observed  bool            // an Observer was told about the start
	labels    bool            // values carries the task's pprof labels
	trace     *trace.Task     // while runtime/trace was tracing at the start
	region    *trace.Region   // the running function's region; on its goroutine only
}

// asyncStack formats a task's spawn site and its ancestors' (debug mode):
// the async stack trace.
func asyncStack(x *taskExt) []byte {
	b := formatStack(x.created)
	if x.dbg == nil {
		return b
	}
	for _, a := range x.dbg.ancestors {
		name := ""
		if a.name != "" {
			name = fmt.Sprintf(" %q", a.name)
		}
		b = fmt.Appendf(b, "started by task%s, itself created at:\n", name)
		b = append(b, formatStack(a.pcs)...)
	}
	return b
}

// ancestorsOf returns the async stack of a task started by parent.
func ancestorsOf(parent *task) []ancestor {
	if parent == nil {
		return nil
	}
	px := parent.x.Load()
	if px == nil || px.created == nil {
		return nil
	}
	as := []ancestor{{name: px.name, pcs: px.created}}
	if px.dbg != nil {
		n := min(len(px.dbg.ancestors), maxAncestors-1)
		as = append(as, px.dbg.ancestors[:n]...)
	}
	return as
}
