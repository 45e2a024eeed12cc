package tracer_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/selfptrace/selfptrace-vm/tests/internal/guest"
)

// progCase is a program that every tracer test runs: a real program of
// the Debian root or a hazard test program.
type progCase struct {
	name  string
	argv  []string // argv[0] is looked up in the root
	stdin string
	// status is the native exit status: a native run that ends otherwise
	// fails the test (the root is broken, not selftrace).
	status int
	// setup writes the input files into the work directory (optional).
	setup func(t *testing.T, w guest.Workdir)
}

// testProg is the path in the root of a hazard test program.
func testProg(name string) string { return testProgDir + "/" + name }

// debianCases are real programs of the Debian root: busybox and bash
// shells and pipelines, tar with gzip and xz, threaded xz and sort,
// sqlite3, find with sort and exec, xargs in parallel, the environment,
// the name service, timeouts, signals and traps.
var debianCases = []progCase{
	{
		name: "busybox-pipeline",
		argv: []string{"busybox", "sh", "-c", `printf "b\na\nc\n" | busybox sort | busybox tr a-z A-Z; printf "x y z\n" | busybox wc -w`},
	},
	{
		name: "busybox-applets",
		argv: []string{"busybox", "sh", "-c", `busybox seq 1 5 | busybox tac; busybox basename /a/b/c; busybox expr 6 \* 7; busybox md5sum /etc/hostname`},
	},
	{
		name: "bash-pipeline",
		argv: []string{"bash", "-c", `for i in 3 1 2; do echo "n$i"; done | sort | tr "\n" " "; echo`},
	},
	{
		name: "bash-process-substitution",
		argv: []string{"bash", "-c", `exec 3< <(echo via process substitution); cat <&3; echo "$(( $(printf 21) * 2 ))"`},
	},
	{
		// tar forks gzip for -z.
		name:  "tar-gzip",
		argv:  []string{"sh", "-c", "tar -czf {w}/t.tgz -C {w} src && mkdir {w}/dst && tar -xzf {w}/t.tgz -C {w}/dst && cd {w}/dst && find . -type f | sort | xargs sha256sum"},
		setup: func(t *testing.T, w guest.Workdir) { writeTree(t, w.At("src")) },
	},
	{
		// tar forks xz for -J.
		name:  "tar-xz",
		argv:  []string{"sh", "-c", "tar -cJf {w}/t.txz -C {w} src && mkdir {w}/dst && tar -xJf {w}/t.txz -C {w}/dst && cd {w}/dst && find . | sort && cat $(find . -type f | sort) | sha256sum"},
		setup: func(t *testing.T, w guest.Workdir) { writeTree(t, w.At("src")) },
	},
	{
		// Threaded xz splits its 3 MiB input into blocks of 1 MiB
		// (max(3 × the 256 KiB dictionary of -0, 1 MiB)) for two threads.
		name:  "xz-threads",
		argv:  []string{"sh", "-c", "xz -T2 -0 -k {w}/in.bin && xz -l --robot {w}/in.bin.xz && xz -d -T2 -c {w}/in.bin.xz | sha256sum"},
		setup: func(t *testing.T, w guest.Workdir) { writeFile(t, w.At("in.bin"), fill(prng(3), 3<<20)) },
	},
	{
		name: "gzip-pipe",
		argv: []string{"sh", "-c", "seq 1 20000 | gzip -9 | gzip -d | sha256sum"},
	},
	{
		name:  "sqlite3",
		argv:  []string{"sqlite3", "{w}/t.db"},
		stdin: sqliteScript,
	},
	{
		name:  "find-sort",
		argv:  []string{"sh", "-c", "find {w}/tree | sort"},
		setup: func(t *testing.T, w guest.Workdir) { writeTree(t, w.At("tree")) },
	},
	{
		name:  "find-exec",
		argv:  []string{"sh", "-c", "find {w}/tree -type f -exec sha256sum {} + | sort"},
		setup: func(t *testing.T, w guest.Workdir) { writeTree(t, w.At("tree")) },
	},
	{
		name: "shell-subshells",
		argv: []string{"sh", "-c", `(echo a; echo b) | cat; echo c d | xargs -n1 echo x; v=$(echo sub); echo "$v"`},
	},
	{
		name: "xargs-parallel",
		argv: []string{"sh", "-c", "seq 1 8 | xargs -P2 -n1 expr 100 + | sort -n"},
	},
	{
		// sort starts a thread for a buffer of at least 128 Ki lines.
		name:  "sort-threads",
		argv:  []string{"sh", "-c", "sort --parallel=2 -S 32M {w}/in.txt | sha256sum"},
		setup: func(t *testing.T, w guest.Workdir) { writeFile(t, w.At("in.txt"), sortInput()) },
	},
	{
		name: "grep-sed-cut",
		argv: []string{"sh", "-c", `grep -n root /etc/passwd; sed -e "s/:.*//" /etc/passwd; grep -c x /etc/group; cut -d: -f1,7 /etc/passwd`},
	},
	{
		// The program must see its own environment: selftrace's
		// LD_PRELOAD and SELFTRACE are gone.
		name: "env",
		argv: []string{"env"},
	},
	{
		name: "getent",
		argv: []string{"getent", "passwd", "root"},
	},
	{
		name: "urandom-wc",
		argv: []string{"sh", "-c", "head -c 100000 /dev/urandom | wc -c"},
	},
	{
		name:  "ls-tree",
		argv:  []string{"ls", "-1R", "{w}/tree"},
		setup: func(t *testing.T, w guest.Workdir) { writeTree(t, w.At("tree")) },
	},
	{
		// timeout's timer expires with SIGALRM; it then sends SIGTERM.
		// The signal must reach sleep: under strace and selftrace
		// on TCG, the child's execve PATH search can take more than a
		// second, and a signal that arrives during it (timeout's child
		// then exits from its handler inside selftrace's execve) is a
		// different case, not yet equivalent (README, known limits).
		name:   "timeout-term",
		argv:   []string{"timeout", "5", "sleep", "30"},
		status: 124,
	},
	{
		name:   "timeout-int",
		argv:   []string{"timeout", "-s", "INT", "5", "sleep", "30"},
		status: 124,
	},
	{
		name: "bash-trap",
		argv: []string{"bash", "-c", `trap "echo got USR1" USR1; kill -USR1 $$; echo after`},
	},
	{
		name: "bash-kill-child",
		argv: []string{"bash", "-c", `sleep 30 & kill -TERM $!; wait $!; echo "status $?"`},
	},
	{
		name: "sh-ignore-int",
		argv: []string{"sh", "-c", `trap "" INT; kill -INT $$; echo survived`},
	},
	{
		name: "sleep-loop",
		argv: []string{"sh", "-c", `i=0; while [ $i -lt 3 ]; do sleep 0.2; i=$((i+1)); echo $i; done`},
	},
}

// testProgCases are the hazard test programs of tools/selftrace/testprogs
// (static-hello aside: the launcher refuses it, TestStaticProgram).
var testProgCases = []progCase{
	{name: "hello", argv: []string{testProg("hello")}},
	{name: "threads", argv: []string{testProg("threads")}},
	{name: "forks", argv: []string{testProg("forks")}},
	{name: "signals", argv: []string{testProg("signals")}},
	{name: "seccomp", argv: []string{testProg("seccomp")}},
	{name: "closeall", argv: []string{testProg("closeall")}},
	{name: "threadexit", argv: []string{testProg("threadexit")}, status: 4},
}

// allCases are every program the tracer tests run.
var allCases = slices.Concat(debianCases, testProgCases)

// caseNamed returns the case of that name.
func caseNamed(t *testing.T, name string) progCase {
	t.Helper()
	for _, c := range allCases {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no case %q", name)
	return progCase{}
}

// ran is a finished run of a case.
type ran struct {
	guest.Outcome // stdout and stderr with the work directory as {w}
	w             guest.Workdir
}

// run runs the case in a fresh work directory after prefix (a tracer's
// command line, or nothing).
func (c progCase) run(t *testing.T, u userland, prefix ...string) ran {
	t.Helper()
	r := ran{w: u.workdir(t)}
	if c.setup != nil {
		c.setup(t, r.w)
	}
	argv := make([]string, len(c.argv))
	for i, a := range c.argv {
		argv[i] = r.w.Expand(a)
	}
	argv[0] = u.LookPath(t, argv[0])
	r.Outcome = u.run(t, append(slices.Clone(prefix), argv...), r.w.Expand(c.stdin))
	r.Stdout = r.w.Collapse(r.Stdout)
	r.Stderr = r.w.Collapse(r.Stderr)
	return r
}

// native runs the case without a tracer; it must end with its status.
func (c progCase) native(t *testing.T, u userland) ran {
	t.Helper()
	r := c.run(t, u)
	if !r.Exited(c.status) {
		t.Fatalf("%s without a tracer: want exit status %d, got %s", c.name, c.status, r.Outcome)
	}
	return r
}

// sameOutcome fails the test unless the traced run printed the same bytes
// and ended the same way as the native one.
func sameOutcome(t *testing.T, what string, native, traced guest.Outcome) {
	t.Helper()
	if native.Status != traced.Status {
		t.Errorf("%s: %s, natively %s", what, describe(traced), describe(native))
	}
	if native.Stdout != traced.Stdout {
		t.Errorf("%s: stdout differs from the native run's:\n%s\nnative:\n%s", what, guest.Clip(traced.Stdout), guest.Clip(native.Stdout))
	}
	if native.Stderr != traced.Stderr {
		t.Errorf("%s: stderr differs from the native run's:\n%s\nnative:\n%s", what, guest.Clip(traced.Stderr), guest.Clip(native.Stderr))
	}
}

func describe(o guest.Outcome) string {
	if o.Status.Exited() {
		return fmt.Sprintf("exited with %d", o.Status.ExitStatus())
	}
	if o.Status.Signaled() {
		return fmt.Sprintf("killed by %v", o.Status.Signal())
	}
	return fmt.Sprintf("wait status %#x", uint32(o.Status))
}

const sqliteScript = `CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v INTEGER);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000)
INSERT INTO t(name, v) SELECT 'n' || (x % 7), x * x FROM c;
CREATE INDEX t_name ON t(name);
SELECT count(*), sum(v) FROM t;
SELECT name, count(*), max(v) FROM t GROUP BY name ORDER BY name;
BEGIN; DELETE FROM t WHERE id % 2 = 0; COMMIT;
SELECT count(*) FROM t;
PRAGMA integrity_check;
`

// prng is the deterministic source of every generated input.
func prng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5e1f_7ace)) }

// fill returns n pseudo-random bytes from 16 letters (compressible, as
// text is).
func fill(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := i; j < min(i+8, n); j++ {
			b[j] = 'a' + byte(v&15)
			v >>= 4
		}
	}
	return b
}

// writeTree writes 36 files of 100 B to 20 KiB in nested directories.
func writeTree(t *testing.T, dir string) {
	t.Helper()
	r := prng(1)
	for i := range 36 {
		name := filepath.Join(dir, fmt.Sprintf("d%d", i%3), fmt.Sprintf("e%d", i%2), fmt.Sprintf("f%02d.txt", i))
		writeFile(t, name, fill(r, 100+r.IntN(20<<10)))
	}
}

// sortInput is 140000 lines (sort needs 128 Ki for a second thread).
func sortInput() []byte {
	r := prng(2)
	var b strings.Builder
	for range 140000 {
		fmt.Fprintf(&b, "%08x %d\n", r.Uint32(), r.IntN(1000))
	}
	return []byte(b.String())
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
