// Package vettest holds what the analyzers' tests share: where the test
// data (a GOPATH tree with a stub of the library) lives.
package vettest

import (
	"path/filepath"
	"runtime"
)

// TestData returns the absolute path of cmd/asyncvet/testdata, the GOPATH
// tree that every analyzer's test loads its packages from. It holds a stub
// of github.com/goasync/async declaring the API the analyzers look for, so
// the tests do not depend on the real package.
func TestData() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
}
