// Package shellquote renders an argv as one line that a POSIX shell reads
// back as the same argv: for QEMU command lines to rerun by hand and for
// the compiler commands of a failed kselftest build.
package shellquote

import "strings"

// Join renders argv as one line: arguments made only of safe characters
// stay as they are, the others are single-quoted.
func Join(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quote(a, i == 0))
	}
	return b.String()
}

func quote(a string, command bool) string {
	if a == "" {
		return "''"
	}
	safe := true
	for _, r := range a {
		// "NAME=value" as the first word would be an assignment.
		if !isSafe(r) || command && r == '=' {
			safe = false
			break
		}
	}
	if safe {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

func isSafe(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("-_./:,=+@%", r)
}
