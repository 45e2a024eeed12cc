package vm

import "strings"

// ShellQuote renders argv as one line that a POSIX shell turns back into
// the same argv: arguments made only of safe characters stay as they are,
// the others are single-quoted.
func ShellQuote(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quoteArg(a, i == 0))
	}
	return b.String()
}

func quoteArg(a string, command bool) string {
	if a == "" {
		return "''"
	}
	safe := true
	for _, r := range a {
		// "NAME=value" as the first word would be an assignment.
		if !isShellSafe(r) || command && r == '=' {
			safe = false
			break
		}
	}
	if safe {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

func isShellSafe(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("-_./:,=+@%", r)
}
