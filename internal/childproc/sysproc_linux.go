package childproc

import "syscall"

// sysProcAttr has the kernel kill the child when the process that started
// it dies, so a crashed or timed-out test leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
