//go:build !linux

package dist

import "os/exec"

// dieWithParent does nothing where the kernel offers no parent-death
// signal: a server outlives a test binary that dies without cleanups.
func dieWithParent(cmd *exec.Cmd) {}
