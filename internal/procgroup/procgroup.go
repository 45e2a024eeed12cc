// Package procgroup runs a command and its children (make and its
// compilers) as one process group that dies with the rig.
package procgroup

import (
	"os/exec"
	"syscall"
	"time"
)

// Own puts cmd, made with exec.CommandContext, in a process group of its
// own that gets SIGKILL if the rig dies; when the context is done the
// whole group gets stop, then, after ten seconds, SIGKILL.
func Own(cmd *exec.Cmd, stop syscall.Signal) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, stop) }
	cmd.WaitDelay = 10 * time.Second
}
