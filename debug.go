package async

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
)

// debugMode is read once per task; it is set from ASYNC_DEBUG at start-up and
// by SetDebug.
var debugMode atomic.Bool

func init() {
	switch os.Getenv("ASYNC_DEBUG") {
	case "1", "true", "on", "yes":
		debugMode.Store(true)
	}
}

// SetDebug turns debug mode on or off and returns the previous setting. In
// debug mode every task records where it was started, and panic and
// unobserved-failure reports include it. Debug mode is also turned on by the
// environment variable ASYNC_DEBUG=1.
func SetDebug(on bool) (previous bool) { return debugMode.Swap(on) }

// callers records the call stack above the library's own frames.
func callers(skip int) []uintptr {
	var pcs [32]uintptr
	n := runtime.Callers(skip, pcs[:])
	return append([]uintptr(nil), pcs[:n]...)
}

// formatStack renders program counters as "function\n\tfile:line" lines.
func formatStack(pcs []uintptr) []byte {
	var b bytes.Buffer
	frames := runtime.CallersFrames(pcs)
	for {
		fr, more := frames.Next()
		if fr.Function != "" {
			fmt.Fprintf(&b, "%s\n\t%s:%d\n", fr.Function, fr.File, fr.Line)
		}
		if !more {
			break
		}
	}
	return b.Bytes()
}
