package dist

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the server process get SIGKILL if the test binary
// dies first (a test timeout's panic skips cleanups), so that no server
// outlives its tests.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
