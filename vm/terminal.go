package vm

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// MakeRaw puts the terminal f in raw mode for an interactive run, so that
// keys such as Ctrl-C and Ctrl-A reach the guest and QEMU's monitor instead
// of this process. Output processing stays on, so that "\n" still starts a
// new line. If f is not a terminal, MakeRaw does nothing. The returned
// function restores the previous mode.
func MakeRaw(f *os.File) (restore func() error, err error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		// ENOTTY: not a terminal (a pipe or a file); nothing to do.
		return func() error { return nil }, nil
	}
	raw := *old
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN] = 1
	raw.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, fmt.Errorf("setting raw mode on %s: %w", f.Name(), err)
	}
	return func() error {
		if err := unix.IoctlSetTermios(fd, unix.TCSETS, old); err != nil {
			return fmt.Errorf("restoring terminal mode on %s: %w", f.Name(), err)
		}
		return nil
	}, nil
}
