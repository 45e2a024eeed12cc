package tracer_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/selfptrace/selfptrace-vm/selftrace/tracecmp"
	"github.com/selfptrace/selfptrace-vm/tests/internal/guest"
)

// injectCase is an injection of an error into calls the dynamic loader
// does not make (strace counts calls from the execve, selftrace from its
// library's constructor: the counts agree only for those).
type injectCase struct {
	name  string
	expr  string // the argument of -e inject=
	prog  progCase
	call  string // the call selftrace must mark INJECTED
	errno string
	// stderr is what the program's stderr holds once the injection took
	// effect.
	stderr string
}

// mkdirCall is the call coreutils' mkdir makes: arm64 and riscv64 have no
// mkdir system call (glibc uses mkdirat).
func mkdirCall() string {
	switch runtime.GOARCH {
	case "arm64", "riscv64":
		return "mkdirat"
	}
	return "mkdir"
}

// victim writes the file that rm must fail to remove.
func victim(t *testing.T, w guest.Workdir) { writeFile(t, w.At("victim"), []byte("x")) }

var injectCases = []injectCase{
	{
		// The third write (echo three) fails; bash reports it on stderr
		// (the fourth write) and goes on.
		name:   "write-enospc-when3",
		expr:   "write:error=ENOSPC:when=3",
		prog:   progCase{argv: []string{"bash", "-c", "echo one; echo two; echo three; echo four"}},
		call:   "write",
		errno:  "ENOSPC",
		stderr: "No space left on device",
	},
	{
		name:   "unlinkat-eacces",
		expr:   "unlinkat:error=EACCES",
		prog:   progCase{argv: []string{"rm", "{w}/victim"}, setup: victim},
		call:   "unlinkat",
		errno:  "EACCES",
		stderr: "Permission denied",
	},
	{
		name:   "mkdir-eexist",
		expr:   mkdirCall() + ":error=EEXIST",
		prog:   progCase{argv: []string{"mkdir", "{w}/newdir"}},
		call:   mkdirCall(),
		errno:  "EEXIST",
		stderr: "File exists",
	},
	{
		// realpath of a relative name needs the working directory.
		name:   "getcwd-enoent",
		expr:   "getcwd:error=ENOENT",
		prog:   progCase{argv: []string{"realpath", "."}},
		call:   "getcwd",
		errno:  "ENOENT",
		stderr: "No such file or directory",
	},
}

// TestInject runs each program under `strace -o /dev/null -e inject=X`
// and under `selftrace -o FILE -e inject=X`, with the same X: the program
// must print the same bytes and end the same way (and show that the
// injection took effect), and selftrace's line of the call must end with
// ` = -1 ERRNO (message) (INJECTED)`.
func TestInject(t *testing.T) {
	u := requireUserland(t)
	requireFeature(t)
	for _, in := range injectCases {
		t.Run(in.name, func(t *testing.T) {
			byStrace := in.prog.run(t, u, straceBin, "-o", "/dev/null", "-e", "inject="+in.expr, "--")
			wantNoComplaint(t, byStrace.Stderr)
			if !strings.Contains(byStrace.Stderr, in.stderr) {
				t.Errorf("under strace -e inject=%s: stderr has no %q: %s", in.expr, in.stderr, byStrace.Outcome)
			}
			out := u.workdir(t)
			bySelftrace := in.prog.run(t, u, selftraceBin, "-o", out.In+"/trace", "-e", "inject="+in.expr, "--")
			sameOutcome(t, "under selftrace -e inject="+in.expr+" (compared with strace's run)", byStrace.Outcome, bySelftrace.Outcome)

			trace := readFile(t, out.At("trace"))
			found := false
			for _, r := range wantParsed(t, trace) {
				if r.Kind == tracecmp.Call && r.Name == in.call && r.Injected {
					found = true
					if r.Result != "-1 "+in.errno || !strings.HasSuffix(r.Text, " (INJECTED)") {
						t.Errorf("line %d: want `= -1 %s (...) (INJECTED)`: %s", r.Line, in.errno, r.Text)
					}
				}
			}
			if !found {
				t.Errorf("no %s line marked (INJECTED) in selftrace's trace:\n%s", in.call, guest.Clip(trace))
			}
		})
	}
}
