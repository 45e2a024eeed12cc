package vm

import "testing"

func TestParseQEMUVersion(t *testing.T) {
	for in, want := range map[string]string{
		"QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18)\nCopyright (c) 2003-2022\n": "QEMU 7.2.22",
		"QEMU emulator version 8.2.2\n": "QEMU 8.2.2",
		"something else\n":              "something else",
		"QEMU emulator version \n":      "QEMU emulator version",
	} {
		if got := parseQEMUVersion(in); got != want {
			t.Errorf("parseQEMUVersion(%q) = %q, want %q", in, got, want)
		}
	}
}
