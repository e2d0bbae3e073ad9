//go:build !unix

package dist

// lockFile does not lock where flock is missing: parallel builds then both
// build, and the rename of each finished binary into place is atomic.
func lockFile(path string) (unlock func(), err error) { return func() {}, nil }
