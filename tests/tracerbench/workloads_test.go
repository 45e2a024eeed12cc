package tracerbench_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/selfptrace/selfptrace-vm/bench/benchfmt"
	"github.com/selfptrace/selfptrace-vm/tests/internal/guest"
)

// workload is one program run of the benchmark, ready to run again and
// again.
type workload struct {
	name string
	size int
	dir  guest.Workdir
	// argv is the program's command line inside the root; stdin the
	// test-side path of its standard input ("" for /dev/null).
	argv  []string
	stdin string
	// reset removes what the last run made; check says whether a run
	// ended as it must (status, output, files).
	reset func() error
	check func(o outcome) error
	// marks are sets of calls: every run makes at least size calls of
	// each set, which a full trace must show.
	marks [][]string
}

// newWorkload makes the files of workload ws in dir.
func newWorkload(u userland, ws benchfmt.WorkloadSize, dir guest.Workdir) (*workload, error) {
	w := &workload{name: ws.Name, size: ws.Size, dir: dir, reset: func() error { return nil }}
	switch ws.Name {
	case benchfmt.WorkloadDD:
		return w, w.dd(u)
	case benchfmt.WorkloadSQLite:
		return w, w.sqlite(u)
	case benchfmt.WorkloadTar:
		return w, w.tar(u)
	}
	return nil, fmt.Errorf("unknown workload %q", ws.Name)
}

// exitedCleanly checks that o exited 0 and printed nothing but what the
// program prints natively: a tracer's message fails it.
func exitedCleanly(o outcome, stdout string) error {
	if !o.Exited(0) || o.Stdout != stdout || o.Stderr != "" {
		return fmt.Errorf("want exit status 0, standard output %q and nothing on the standard error, got %s", stdout, o)
	}
	return nil
}

// dd copies size bytes from /dev/zero to /dev/null one byte at a time: a
// read and a write per byte. Its report on the standard error must count
// size records in, size records out and size bytes.
func (w *workload) dd(u userland) error {
	dd, err := u.FindProgram("dd")
	if err != nil {
		return err
	}
	n := w.size
	w.argv = []string{dd, "if=/dev/zero", "of=/dev/null", "bs=1", fmt.Sprintf("count=%d", n)}
	w.marks = [][]string{{"read"}, {"write"}}
	w.check = func(o outcome) error {
		lines := strings.Split(strings.TrimSuffix(o.Stderr, "\n"), "\n")
		ok := o.Exited(0) && o.Stdout == "" && len(lines) == 3 &&
			lines[0] == fmt.Sprintf("%d+0 records in", n) &&
			lines[1] == fmt.Sprintf("%d+0 records out", n) &&
			strings.HasPrefix(lines[2], fmt.Sprintf("%d bytes", n))
		if !ok {
			return fmt.Errorf("want exit status 0 and dd's report of %d records in and out, %d bytes, got %s", n, n, o)
		}
		return nil
	}
	return nil
}

// sqlite runs a script of size INSERT statements, each its own
// transaction (a rollback journal made, written, synced and deleted per
// statement), into a new database, then prints the count of rows and
// the sum of their lengths.
func (w *workload) sqlite(u userland) error {
	prog, err := u.FindProgram("sqlite3")
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL);\n")
	sum := 0
	for i := range w.size {
		v := fmt.Sprintf("row %05d %s", i, strings.Repeat("x", i%50))
		sum += len(v)
		fmt.Fprintf(&b, "INSERT INTO t(v) VALUES('%s');\n", v)
	}
	b.WriteString("SELECT count(*), sum(length(v)) FROM t;\n")
	w.stdin = w.dir.At("insert.sql")
	if err := os.WriteFile(w.stdin, []byte(b.String()), 0o644); err != nil {
		return err
	}
	db := "bench.db"
	w.argv = []string{prog, "-batch", w.dir.Inside(db)}
	w.marks = [][]string{{"pwrite64", "pwrite", "write"}}
	w.reset = func() error { return removeAll(w.dir.At(db), w.dir.At(db+"-journal")) }
	want := fmt.Sprintf("%d|%d\n", w.size, sum)
	w.check = func(o outcome) error { return exitedCleanly(o, want) }
	return nil
}

// tarDirs is the number of directories the tar workload spreads its files
// over.
const tarDirs = 10

// tar archives and compresses a tree of size files of 0.5 to 8 KiB of
// text in tarDirs directories: tar reads the tree, execs gzip and writes
// the archive through it. The archive, listed natively after the run, must
// hold every file and directory.
func (w *workload) tar(u userland) error {
	prog, err := u.FindProgram("tar")
	if err != nil {
		return err
	}
	dirs := min(tarDirs, w.size)
	for d := range dirs {
		if err := os.MkdirAll(w.dir.At(fmt.Sprintf("tree/d%02d", d)), 0o755); err != nil {
			return err
		}
	}
	for i := range w.size {
		p := w.dir.At(fmt.Sprintf("tree/d%02d/f%04d.txt", i%dirs, i))
		if err := os.WriteFile(p, text(i, 512+(i*997)%7680), 0o644); err != nil {
			return err
		}
	}
	entries := 1 + dirs + w.size
	archive := "tree.tar.gz"
	w.argv = []string{prog, "-czf", w.dir.Inside(archive), "-C", w.dir.In, "tree"}
	w.marks = [][]string{{"openat", "open"}}
	w.reset = func() error { return removeAll(w.dir.At(archive)) }
	w.check = func(o outcome) error {
		if err := exitedCleanly(o, ""); err != nil {
			return err
		}
		l, err := u.run([]string{prog, "-tzf", w.dir.Inside(archive)}, "", w.dir.Host)
		if err != nil {
			return fmt.Errorf("listing the archive: %w", err)
		}
		if n := strings.Count(l.Stdout, "\n"); !l.Exited(0) || n != entries {
			return fmt.Errorf("the archive lists %d entries, want %d: %s", n, entries, l)
		}
		return nil
	}
	return nil
}

// text returns n bytes of words, different for each seed.
func text(seed, n int) []byte {
	words := []string{"self", "ptrace", "trace", "system", "call", "kernel", "signal", "handler",
		"thread", "strace", "dispatch", "seccomp", "entry", "register", "rollback", "arm"}
	x := uint32(seed)*2654435761 + 1
	var b bytes.Buffer
	for b.Len() < n {
		x = x*1664525 + 1013904223
		b.WriteString(words[x>>28])
		if x&0x7000 == 0 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

// removeAll removes files that may not exist.
func removeAll(paths ...string) error {
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", filepath.Base(p), err)
		}
	}
	return nil
}
