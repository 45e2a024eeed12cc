package vm

import "github.com/selfptrace/selfptrace-vm/internal/shellquote"

// ShellQuote renders argv as one line that a POSIX shell turns back into
// the same argv. It is shellquote.Join, the rig's one quoting function.
func ShellQuote(argv []string) string { return shellquote.Join(argv) }
