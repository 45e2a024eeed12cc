package userland_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/selfptrace/selfptrace-vm/tests/internal/guest"
)

// progCase is a real program with its known behaviour. TestPrograms runs
// each natively, the strace tests under strace.
type progCase struct {
	name   string
	argv   []string // argv[0] is looked up in the root
	stdin  string
	status int    // exit status
	want   string // exact stdout, when check is nil
	stderr string // what stderr must contain (optional)
	// setup writes the input files into the work directory (optional).
	setup func(t *testing.T, w guest.Workdir)
	// check judges stdout and the files left in w (instead of want).
	check func(t *testing.T, w guest.Workdir, stdout string)
	// trace are regular expressions that the `strace -f` trace must
	// match, besides the execve of argv[0] (the work directory appears in
	// the trace as {w}).
	trace []string
}

// Trace patterns shared by the cases.
const (
	traceFork   = `(clone|clone3|fork|vfork)\(`
	traceThread = `clone3?\(.*CLONE_THREAD`
)

// traceExec matches an execve of a program called name, in any directory
// (a shell or execvp tries each directory of PATH in turn).
func traceExec(name string) string { return `execve\("[^"]*/` + regexp.QuoteMeta(name) + `", ` }

var cases = []progCase{
	{
		name:  "busybox-pipeline",
		argv:  []string{"busybox", "sh", "-c", `printf "b\na\nc\n" | busybox sort | busybox tr a-z A-Z; printf "x y z\n" | busybox wc -w`},
		want:  "A\nB\nC\n3\n",
		trace: []string{traceFork},
	},
	{
		// tar forks gzip for -z; sha256sum is coreutils'.
		name: "tar-gzip",
		argv: []string{"sh", "-c", "tar -czf {w}/t.tgz -C {w} src && mkdir {w}/dst && tar -xzf {w}/t.tgz -C {w}/dst && " +
			"sha256sum {w}/dst/src/" + treeProbe},
		setup: func(t *testing.T, w guest.Workdir) { writeTree(t, w.At("src")) },
		check: func(t *testing.T, w guest.Workdir, stdout string) {
			wantTree(t, w.At("dst/src"))
			wantStdout(t, stdout, sha256Hex(treeContent()[treeProbe])+"  {w}/dst/src/"+treeProbe+"\n")
		},
		trace: []string{traceFork, traceExec("tar"), traceExec("gzip")},
	},
	{
		name:  "sqlite3",
		argv:  []string{"sqlite3", "{w}/t.db"},
		stdin: sqliteScript,
		check: func(t *testing.T, w guest.Workdir, stdout string) { wantStdout(t, stdout, sqliteWant()) },
		trace: []string{`openat\(.*"\{w\}/t\.db"`},
	},
	{
		// Multi-threaded xz splits its input into blocks of max(3 × the
		// dictionary size (256 KiB at -0), 1 MiB): several blocks, compressed
		// by two threads. The listing shows the number of blocks.
		name: "xz-threads",
		argv: []string{"sh", "-c", "xz -T2 -0 -k {w}/in.bin && xz -l --robot {w}/in.bin.xz && xz -d -T2 -c {w}/in.bin.xz >{w}/out.bin"},
		setup: func(t *testing.T, w guest.Workdir) {
			writeFile(t, w.At("in.bin"), xzInput())
		},
		check: func(t *testing.T, w guest.Workdir, stdout string) {
			wantXzBlocks(t, stdout, 2)
			wantFile(t, w.At("out.bin"), xzInput())
		},
		trace: []string{traceThread, traceExec("xz")},
	},
	{
		// sort starts a thread for a buffer of at least 128 Ki lines
		// (SUBTHREAD_LINES_HEURISTIC): a buffer of 32 MiB holds them all.
		name:  "sort-threads",
		argv:  []string{"sort", "--parallel=2", "-S", "32M", "{w}/in.txt"},
		setup: func(t *testing.T, w guest.Workdir) { writeFile(t, w.At("in.txt"), sortInput()) },
		check: func(t *testing.T, w guest.Workdir, stdout string) { wantStdout(t, stdout, sortedInput()) },
		trace: []string{traceThread},
	},
	{
		// With a 1 MiB buffer sort spills sorted runs into temporary files
		// of /tmp and merges them.
		name:  "sort-merge",
		argv:  []string{"sort", "-S", "1M", "-T", "{w}", "{w}/in.txt"},
		setup: func(t *testing.T, w guest.Workdir) { writeFile(t, w.At("in.txt"), sortInput()) },
		check: func(t *testing.T, w guest.Workdir, stdout string) { wantStdout(t, stdout, sortedInput()) },
		trace: []string{`openat\(.*"\{w\}/sort`},
	},
	{
		name:  "find-exec",
		argv:  []string{"sh", "-c", "find {w}/tree -type f -exec sha256sum {} + | sort"},
		setup: func(t *testing.T, w guest.Workdir) { writeTree(t, w.At("tree")) },
		check: func(t *testing.T, w guest.Workdir, stdout string) { wantStdout(t, stdout, treeSums("{w}/tree")) },
		trace: []string{traceFork, traceExec("find"), traceExec("sha256sum")},
	},
	{
		name:  "shell-subshells",
		argv:  []string{"sh", "-c", `(echo a; echo b) | cat; echo c d | xargs -n1 echo x; v=$(echo sub); echo "$v"`},
		want:  "a\nb\nx c\nx d\nsub\n",
		trace: []string{traceFork, traceExec("cat"), traceExec("xargs"), traceExec("echo")},
	},
	{
		// timeout's timer expires with SIGALRM; it then sends SIGTERM.
		name:   "timeout-term",
		argv:   []string{"timeout", "1", "sleep", "30"},
		status: 124,
		trace:  []string{`--- SIGALRM `, `--- SIGTERM `},
	},
	{
		name:   "timeout-int",
		argv:   []string{"timeout", "-s", "INT", "1", "sleep", "30"},
		status: 124,
		trace:  []string{`--- SIGALRM `, `--- SIGINT `},
	},
	{
		name:  "bash-trap",
		argv:  []string{"bash", "-c", `trap "echo got USR1" USR1; kill -USR1 $$; echo after`},
		want:  "got USR1\nafter\n",
		trace: []string{`--- SIGUSR1 `},
	},
	{
		name:  "sleep-loop",
		argv:  []string{"sh", "-c", `i=0; while [ $i -lt 3 ]; do sleep 0.2; i=$((i+1)); echo $i; done`},
		want:  "1\n2\n3\n",
		trace: []string{traceFork, `nanosleep\(`},
	},
}

// TestPrograms runs real programs of the Debian root (busybox and bash
// shells, tar and gzip, sqlite3, threaded xz and sort, find and xargs,
// timeout and signal traps) natively: each prints exactly its known output
// and exits with its known status, and leaves the files it should.
func TestPrograms(t *testing.T) {
	u := requireUserland(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, u) })
	}
}

// ran is a finished run of a case.
type ran struct {
	guest.Outcome        // stdout with the work directory as {w}
	prog          string // the case's program, as looked up in the root
	w             guest.Workdir
}

// run runs the case in a fresh work directory, after the command prefix
// (a tracer, or nothing), and checks its stdout, exit status and files.
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
	r.prog = u.LookPath(t, argv[0])
	argv[0] = r.prog
	r.Outcome = u.run(t, append(slices.Clone(prefix), argv...), r.w.Expand(c.stdin))
	r.Stdout = r.w.Collapse(r.Stdout)
	if !r.Exited(c.status) {
		t.Fatalf("%q: want exit status %d, got %s", argv, c.status, r.Outcome)
	}
	if c.check != nil {
		c.check(t, r.w, r.Stdout)
	} else {
		wantStdout(t, r.Stdout, c.want)
	}
	if !strings.Contains(r.Stderr, c.stderr) {
		t.Errorf("%q: stderr does not contain %q", argv, c.stderr)
	}
	if t.Failed() {
		t.Logf("%q: stderr:\n%s", argv, guest.Clip(r.Stderr))
	}
	return r
}

func wantStdout(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("stdout (%d bytes):\n%s\nwant (%d bytes):\n%s", len(got), guest.Clip(got), len(want), guest.Clip(want))
	}
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

func wantFile(t *testing.T, name string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: %d bytes, sha256 %s; want %d bytes, sha256 %s", name, len(got), sha256Hex(got), len(want), sha256Hex(want))
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

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

// The test tree: 50 files of 0 to 200 KiB in four directories, and a
// symbolic link.
const (
	treeFiles  = 50
	treeProbe  = "a/b/f05.dat" // the file whose sha256sum the tar case prints
	treeLink   = "d/link"
	treeTarget = "../a/f04.dat"
)

var treeDirs = []string{"a", "a/b", "a/b/c", "d"}

// treeContent returns the regular files of the test tree by relative path.
func treeContent() map[string][]byte {
	r := prng(1)
	files := make(map[string][]byte, treeFiles)
	for i := range treeFiles {
		size := i * i * (200 << 10) / ((treeFiles - 1) * (treeFiles - 1))
		files[fmt.Sprintf("%s/f%02d.dat", treeDirs[i%len(treeDirs)], i)] = fill(r, size)
	}
	return files
}

// writeTree writes the test tree into dir.
func writeTree(t *testing.T, dir string) {
	t.Helper()
	for name, data := range treeContent() {
		writeFile(t, filepath.Join(dir, name), data)
	}
	if err := os.Symlink(treeTarget, filepath.Join(dir, treeLink)); err != nil {
		t.Fatal(err)
	}
}

// wantTree checks, with hashes computed here, that dir holds exactly the
// test tree.
func wantTree(t *testing.T, dir string) {
	t.Helper()
	want := map[string]string{treeLink: "-> " + treeTarget}
	for _, d := range treeDirs {
		want[d] = "dir"
	}
	for name, data := range treeContent() {
		want[name] = sha256Hex(data)
	}
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.IsDir():
			got[rel] = "dir"
		case d.Type() == fs.ModeSymlink:
			target, err := os.Readlink(p)
			got[rel] = "-> " + target
			return err
		default:
			data, err := os.ReadFile(p)
			got[rel] = sha256Hex(data)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", dir, err)
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s/%s: %q, want %q", dir, name, got[name], w)
		}
	}
	for name, g := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s/%s: unexpected entry %q", dir, name, g)
		}
	}
}

// treeSums is what `find dir -type f -exec sha256sum {} + | sort` prints
// for the test tree.
func treeSums(dir string) string {
	var lines []string
	for name, data := range treeContent() {
		lines = append(lines, sha256Hex(data)+"  "+dir+"/"+name+"\n")
	}
	slices.Sort(lines)
	return strings.Join(lines, "")
}

// sqliteScript fills a table with 1000 rows from a recursive CTE and
// queries it (sqliteWant computes the same here).
const sqliteScript = `CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, val INTEGER);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < 1000)
INSERT INTO t SELECT i, i % 7, (i * i) % 1009 FROM s;
SELECT count(*), sum(val) FROM t;
SELECT grp, count(*), sum(val), max(val) FROM t GROUP BY grp ORDER BY grp;
`

func sqliteWant() string {
	var count, sum [7]int
	var maxv [7]int
	total := 0
	for i := 1; i <= 1000; i++ {
		g, v := i%7, i*i%1009
		count[g]++
		sum[g] += v
		maxv[g] = max(maxv[g], v)
		total += v
	}
	out := fmt.Sprintf("1000|%d\n", total)
	for g := range 7 {
		out += fmt.Sprintf("%d|%d|%d|%d\n", g, count[g], sum[g], maxv[g])
	}
	return out
}

// xzInput is 2.5 MiB of generated data: three blocks of 1 MiB at most,
// small enough to keep the traced run short under emulation.
func xzInput() []byte { return fill(prng(2), 5<<19) }

// wantXzBlocks checks the "totals" line of `xz -l --robot`: at least min
// blocks ("totals", streams, blocks, ...).
func wantXzBlocks(t *testing.T, listing string, min int) {
	t.Helper()
	for _, line := range strings.Split(listing, "\n") {
		f := strings.Split(line, "\t")
		if f[0] != "totals" || len(f) < 3 {
			continue
		}
		if n, err := strconv.Atoi(f[2]); err != nil || n < min {
			t.Errorf("xz wrote %s blocks, want at least %d (one per thread):\n%s", f[2], min, listing)
		}
		return
	}
	t.Errorf("no totals line in the xz listing:\n%s", listing)
}

// sortInput is 140 000 generated lines of 1 to 12 letters: more than
// the 128 Ki lines from which sort starts a thread.
func sortInput() []byte {
	r := prng(3)
	var b bytes.Buffer
	for range 140000 {
		b.Write(fill(r, 1+r.IntN(12)))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// sortedInput is sortInput sorted here (LC_ALL=C: byte order).
func sortedInput() string {
	lines := strings.SplitAfter(string(sortInput()), "\n")
	lines = lines[:len(lines)-1] // after the last newline
	slices.Sort(lines)
	return strings.Join(lines, "")
}
