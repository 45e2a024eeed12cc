package kselftest

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// recipe is one selftest program, built the way its Makefile and
// tools/testing/selftests/lib.mk build it:
//
//	$(CC) $(CFLAGS) $(LDFLAGS) <dir>/<name>.c $(LDLIBS) -o <name>
//
// with lib.mk's "CFLAGS += -D_GNU_SOURCE=" and USERLDFLAGS=-static.
type recipe struct {
	// Suite is the directory under tools/testing/selftests.
	Suite string
	// Name is the program, built from Suite/Name.c.
	Name string
	// CFLAGS, LDFLAGS and LDLIBS are the Makefile's, verbatim, except
	// that the uapi header include ($(KHDR_INCLUDES) or -I$(LINUX_HDR_PATH))
	// is left out: HeaderFlag says how the Makefile names it.
	CFLAGS  []string
	LDFLAGS []string
	LDLIBS  []string
	// HeaderFlag is "-isystem" for lib.mk's KHDR_INCLUDES, or "-I" for a
	// Makefile that adds -I$(top_srcdir)/usr/include itself.
	HeaderFlag string
	// Benchmark marks a program that measures rather than checks; it is
	// built only when Options.Benchmarks is set.
	Benchmark bool
	// Series marks a suite that the self-ptrace series itself adds
	// (self_ptrace/, its last patch). A tree without it, the vanilla one,
	// builds it from Options.Series (see seriesSelftests); with neither,
	// the program is left out.
	Series bool
}

// recipes are the selftests around self-ptrace in Linux 6.12: every
// program of TEST_GEN_PROGS in seccomp/, syscall_user_dispatch/ and
// ptrace/, and the series' own self_ptrace/. None is excluded. The flags
// mirror the Makefiles:
//
//	seccomp:               CFLAGS += -Wl,-no-as-needed -Wall $(KHDR_INCLUDES); LDFLAGS += -lpthread; LDLIBS += -lcap
//	syscall_user_dispatch: CFLAGS += -Wall -I$(LINUX_HDR_PATH)
//	ptrace:                CFLAGS += -std=c99 -pthread -Wall $(KHDR_INCLUDES)
//	self_ptrace:           CFLAGS += -Wall -pthread $(KHDR_INCLUDES)
var recipes = []recipe{
	{Suite: "seccomp", Name: "seccomp_bpf", CFLAGS: seccompCFLAGS, LDFLAGS: seccompLDFLAGS, LDLIBS: seccompLDLIBS, HeaderFlag: "-isystem"},
	{Suite: "seccomp", Name: "seccomp_benchmark", CFLAGS: seccompCFLAGS, LDFLAGS: seccompLDFLAGS, LDLIBS: seccompLDLIBS, HeaderFlag: "-isystem", Benchmark: true},
	{Suite: "syscall_user_dispatch", Name: "sud_test", CFLAGS: sudCFLAGS, HeaderFlag: "-I"},
	{Suite: "syscall_user_dispatch", Name: "sud_benchmark", CFLAGS: sudCFLAGS, HeaderFlag: "-I", Benchmark: true},
	{Suite: "ptrace", Name: "get_syscall_info", CFLAGS: ptraceCFLAGS, HeaderFlag: "-isystem"},
	{Suite: "ptrace", Name: "peeksiginfo", CFLAGS: ptraceCFLAGS, HeaderFlag: "-isystem"},
	{Suite: "ptrace", Name: "vmaccess", CFLAGS: ptraceCFLAGS, HeaderFlag: "-isystem"},
	{Suite: "ptrace", Name: "get_set_sud", CFLAGS: ptraceCFLAGS, HeaderFlag: "-isystem"},
	{Suite: "self_ptrace", Name: "self_ptrace_test", CFLAGS: selfPtraceCFLAGS, HeaderFlag: "-isystem", Series: true},
}

var (
	seccompCFLAGS  = []string{"-Wl,-no-as-needed", "-Wall"}
	seccompLDFLAGS = []string{"-lpthread"}
	seccompLDLIBS  = []string{"-lcap"}
	sudCFLAGS      = []string{"-Wall"}
	ptraceCFLAGS   = []string{"-std=c99", "-pthread", "-Wall"}

	selfPtraceCFLAGS = []string{"-Wall", "-pthread"}
)

// libShims say how a library of LDLIBS is provided when there is no
// static archive of it for every target: by compiling these sources
// (relative to the shim directory) in its place, with the shim directory
// on the include path. See capshim/sys/capability.h.
var libShims = map[string][]string{
	"-lcap": {"capshim.c"},
}

// buildPaths are the directories a compiler command refers to.
type buildPaths struct {
	Selftests string // <source>/tools/testing/selftests
	Headers   string // INSTALL_HDR_PATH: the uapi headers are in Headers/include
	Shim      string // the unpacked capshim directory
}

func (r recipe) source(p buildPaths) string {
	return filepath.Join(p.Selftests, r.Suite, r.Name+".c")
}

func (r recipe) shims() []string {
	var s []string
	for _, lib := range r.LDLIBS {
		s = append(s, libShims[lib]...)
	}
	return s
}

// cflags are the compiler flags: the Makefile's, its header include, the
// shim include, lib.mk's -D_GNU_SOURCE=, and a prefix map that makes
// __FILE__ (printed by every failed assertion) name the file relative to
// the selftests directory, so the console output and the binary do not
// depend on where the tree is.
func (r recipe) cflags(p buildPaths) []string {
	f := append([]string(nil), r.CFLAGS...)
	f = append(f, r.HeaderFlag, filepath.Join(p.Headers, "include"))
	if len(r.shims()) > 0 {
		f = append(f, "-I", p.Shim)
	}
	f = append(f, "-D_GNU_SOURCE=")
	f = append(f, "-ffile-prefix-map="+p.Selftests+"/=")
	return f
}

// compileArgs is the compiler's argument list (without the compiler) for
// building r into out.
func (r recipe) compileArgs(p buildPaths, out string) []string {
	a := r.cflags(p)
	a = append(a, r.LDFLAGS...)
	a = append(a, "-static")
	a = append(a, r.source(p))
	for _, lib := range r.LDLIBS {
		if srcs, ok := libShims[lib]; ok {
			for _, s := range srcs {
				a = append(a, filepath.Join(p.Shim, s))
			}
			continue
		}
		a = append(a, lib)
	}
	return append(a, "-o", out)
}

// depArgs asks the compiler for the non-system headers r's sources
// include (gcc -MM), on standard output.
func (r recipe) depArgs(p buildPaths) []string {
	a := r.cflags(p)
	a = append(a, "-MM", r.source(p))
	for _, s := range r.shims() {
		a = append(a, filepath.Join(p.Shim, s))
	}
	return a
}

// parseDeps reads the make rules gcc -MM prints and returns every
// prerequisite, in order, without duplicates.
func parseDeps(out []byte) ([]string, error) {
	text := strings.ReplaceAll(string(out), "\\\n", " ")
	var deps []string
	seen := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		_, rest, ok := strings.Cut(line, ": ")
		if !ok {
			return nil, fmt.Errorf("unexpected line in gcc -MM output: %q", line)
		}
		if strings.Contains(rest, "\\ ") {
			return nil, fmt.Errorf("gcc -MM names a file with a space, which is not supported: %q", line)
		}
		for _, d := range strings.Fields(rest) {
			if !seen[d] {
				seen[d] = true
				deps = append(deps, d)
			}
		}
	}
	if len(deps) == 0 {
		return nil, fmt.Errorf("gcc -MM printed no dependencies")
	}
	return deps, nil
}

// defaultTimeout is the kselftest runner's timeout for a test program
// without a "timeout=" line in its suite's settings file
// (kselftest/runner.sh: kselftest_default_timeout).
const defaultTimeout = 45 * time.Second

// parseSettings reads a suite's settings file ("timeout=180").
func parseSettings(data []byte) (time.Duration, error) {
	d := defaultTimeout
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || k != "timeout" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad timeout %q in settings", v)
		}
		d = time.Duration(n) * time.Second
	}
	return d, sc.Err()
}

// makefilePrograms returns the programs a selftest Makefile lists in
// TEST_GEN_PROGS (":=", "=" and "+=" lines, with continuations).
func makefilePrograms(makefile []byte) []string {
	text := strings.ReplaceAll(string(makefile), "\\\n", " ")
	var progs []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "TEST_GEN_PROGS") {
			continue
		}
		rest := strings.TrimPrefix(line, "TEST_GEN_PROGS")
		rest = strings.TrimLeft(rest, " \t")
		var op string
		for _, o := range []string{":=", "+=", "="} {
			if strings.HasPrefix(rest, o) {
				op = o
				break
			}
		}
		if op == "" {
			continue // TEST_GEN_PROGS_EXTENDED and the like
		}
		if op != "+=" {
			progs = nil
		}
		progs = append(progs, strings.Fields(strings.TrimPrefix(rest, op))...)
	}
	return progs
}
