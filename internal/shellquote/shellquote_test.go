package shellquote

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestJoin(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"qemu-system-x86_64", "-m", "512M"}, "qemu-system-x86_64 -m 512M"},
		{[]string{"-append", "console=ttyS0 panic=-1"}, "-append 'console=ttyS0 panic=-1'"},
		{[]string{""}, "''"},
		{[]string{"it's"}, `'it'\''s'`},
		{[]string{"-qmp", "unix:/tmp/q.sock,server=on,wait=off"}, "-qmp unix:/tmp/q.sock,server=on,wait=off"},
		{[]string{"$HOME", "a*b", "x;y", "back\\slash"}, `'$HOME' 'a*b' 'x;y' 'back\slash'`},
		{[]string{"A=b", "A=b"}, "'A=b' A=b"},
		{[]string{"gcc", "-D_GNU_SOURCE=", "a b", "it's", ""}, `gcc -D_GNU_SOURCE= 'a b' 'it'\''s' ''`},
	}
	for _, tc := range tests {
		if got := Join(tc.in); got != tc.want {
			t.Errorf("Join(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestShellQuoteRoundTrip checks that a real shell turns the quoted line
// back into the same argv.
func TestShellQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	argv := []string{"printf", `%s\n`, "plain", "two words", "it's", `"dq"`, "$HOME", "`id`", "a\tb", "ü", "", "-append", "console=ttyS0 panic=-1 rdinit=/init"}
	out, err := exec.Command(sh, "-c", Join(argv)).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if want := argv[2:]; !slices.Equal(got, want) {
		t.Errorf("round trip:\n got %q\nwant %q", got, want)
	}
}
