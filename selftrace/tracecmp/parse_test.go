package tracecmp

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseStrace(t *testing.T) {
	trace := strings.Join([]string{
		`31338 execve("/usr/bin/sh", ["sh", "-c", "echo hi | cat"], 0x7ffe2754b250 /* 39 vars */) = 0`,
		`31338 access("/etc/ld.so.preload", R_OK) = -1 ENOENT (No such file or directory)`,
		`31338 brk(NULL)                         = 0x556726b06000`,
		`31338 fcntl(3, F_GETFL)                 = 0x8002 (flags O_RDWR|O_LARGEFILE)`,
		`7764  read(5,  <unfinished ...>`,
		`7769  write(6, "r", 1)                  = 1`,
		`7764  <... read resumed>"r", 1)         = 1`,
		`7769  read(7,  <unfinished ...>`,
		`7764  exit_group(4)                     = ?`,
		`7769  <... read resumed> <unfinished ...>) = ?`,
		`7769  +++ exited with 4 +++`,
		`8159  read(3, 0x7ffc68a95cf0, 16)       = ? ERESTARTSYS (To be restarted if SA_RESTART is set)`,
		`8159  --- SIGALRM {si_signo=SIGALRM, si_code=SI_KERNEL} ---`,
		`8159  rt_sigreturn({mask=[]})           = -1 EINTR (Interrupted system call)`,
		`[pid  42] getpid() = 7654321 (INJECTED)`,
		`unlinkat(AT_FDCWD, "/tmp/x/victim", 0) = -1 EPERM (Operation not permitted) (INJECTED)`,
		`2364  --- SIGSYS {si_signo=SIGSYS, si_code=0x3, si_call_addr=NULL, si_syscall=__NR_getpid, si_arch=AUDIT_ARCH_X86_64} ---`,
		`2364  +++ killed by SIGSYS (core dumped) +++`,
		`100   <... clone3 resumed> => {parent_tid=[7769]}, 88) = 7769`,
		`100   write(1, "a)b(\"c\"", 7) = 7`,
		`100   strange line`,
		`100   open(unterminated`,
		``,
	}, "\n")
	got := ParseStrace(trace)
	want := []Record{
		{Line: 1, Pid: 31338, Kind: Call, Name: "execve", Args: `"/usr/bin/sh", ["sh", "-c", "echo hi | cat"], 0x7ffe2754b250 /* 39 vars */`, Result: "0"},
		{Line: 2, Pid: 31338, Kind: Call, Name: "access", Args: `"/etc/ld.so.preload", R_OK`, Result: "-1 ENOENT", Extra: "(No such file or directory)"},
		{Line: 3, Pid: 31338, Kind: Call, Name: "brk", Args: "NULL", Result: "0x556726b06000"},
		{Line: 4, Pid: 31338, Kind: Call, Name: "fcntl", Args: "3, F_GETFL", Result: "0x8002", Extra: "(flags O_RDWR|O_LARGEFILE)"},
		{Line: 5, Pid: 7764, Kind: Call, Name: "read", Args: `5, "r", 1`, Result: "1"},
		{Line: 6, Pid: 7769, Kind: Call, Name: "write", Args: `6, "r", 1`, Result: "1"},
		{Line: 8, Pid: 7769, Kind: Call, Name: "read", Args: `7,`, Result: "?"},
		{Line: 9, Pid: 7764, Kind: Call, Name: "exit_group", Args: "4", Result: "?"},
		{Line: 11, Pid: 7769, Kind: Exited, Status: 4},
		{Line: 12, Pid: 8159, Kind: Call, Name: "read", Args: "3, 0x7ffc68a95cf0, 16", Result: "? ERESTARTSYS", Extra: "(To be restarted if SA_RESTART is set)"},
		{Line: 13, Pid: 8159, Kind: Signal, Name: "SIGALRM", Args: "{si_signo=SIGALRM, si_code=SI_KERNEL}"},
		{Line: 14, Pid: 8159, Kind: Call, Name: "rt_sigreturn", Args: "{mask=[]}", Result: "-1 EINTR", Extra: "(Interrupted system call)"},
		{Line: 15, Pid: 42, Kind: Call, Name: "getpid", Result: "7654321", Injected: true},
		{Line: 16, Kind: Call, Name: "unlinkat", Args: `AT_FDCWD, "/tmp/x/victim", 0`, Result: "-1 EPERM", Extra: "(Operation not permitted)", Injected: true},
		{Line: 17, Pid: 2364, Kind: Signal, Name: "SIGSYS", Args: "{si_signo=SIGSYS, si_code=0x3, si_call_addr=NULL, si_syscall=__NR_getpid, si_arch=AUDIT_ARCH_X86_64}"},
		{Line: 18, Pid: 2364, Kind: Killed, Name: "SIGSYS"},
		{Line: 19, Pid: 100, Kind: Call, Name: "clone3", Args: "=> {parent_tid=[7769]}, 88", Result: "7769"},
		{Line: 20, Pid: 100, Kind: Call, Name: "write", Args: `1, "a)b(\"c\"", 7`, Result: "7"},
		{Line: 21, Pid: 100, Kind: Other},
		{Line: 22, Pid: 100, Kind: Other},
	}
	if len(got) != len(want) {
		for _, r := range got {
			t.Logf("%+v", r)
		}
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		g := got[i]
		g.Text = ""
		if !reflect.DeepEqual(g, want[i]) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, g, want[i])
		}
	}
	if j := got[4].Text; j != `read(5,  <unfinished ...> ... <... read resumed>"r", 1)         = 1` {
		t.Errorf("joined text %q", j)
	}
	if u := Unparsed(got); len(u) != 2 || u[0].Line != 21 {
		t.Errorf("Unparsed: %v", u)
	}
}

func TestParseUnfinishedNeverResumed(t *testing.T) {
	got := ParseStrace("5 nanosleep({tv_sec=9, tv_nsec=0},  <unfinished ...>\n5 +++ killed by SIGKILL +++\n")
	if len(got) != 2 || !got[0].Unfinished || got[0].Result != "" || got[0].Args != "{tv_sec=9, tv_nsec=0}," {
		t.Errorf("got %+v", got)
	}
}

func TestParseSelftrace(t *testing.T) {
	trace := "selftrace: /usr/local/libexec/selftrace/static-hello is statically linked: its system calls are not traced\n" +
		"1234  selftrace: /x is statically linked: its system calls are not traced\n" +
		"1234  openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = 3\n" +
		"1234  exit_group(0) = ?\n" +
		"1234  +++ exited with 0 +++\n"
	got := ParseSelftrace(trace)
	kinds := []Kind{Notice, Notice, Call, Call, Exited}
	if len(got) != len(kinds) {
		t.Fatalf("got %+v", got)
	}
	for i, k := range kinds {
		if got[i].Kind != k {
			t.Errorf("record %d: %v, want %v", i, got[i].Kind, k)
		}
	}
	if got[0].Pid != 0 || got[1].Pid != 1234 || !strings.Contains(got[1].Text, "statically linked") {
		t.Errorf("notices: %+v %+v", got[0], got[1])
	}
	// strace's parser does not know notices.
	if r := ParseStrace(trace); r[0].Kind != Other {
		t.Errorf("ParseStrace: %v", r[0].Kind)
	}
}

func TestUnquote(t *testing.T) {
	for _, c := range []struct {
		in, want  string
		truncated bool
		ok        bool
	}{
		{`"abc"`, "abc", false, true},
		{`500, "1234  read(3, \"vm\\n\", 4096) = 3\n", 32`, "1234  read(3, \"vm\\n\", 4096) = 3\n", false, true},
		{`"\0\1\177\x41\t\r\v\f\a\b\\\'"`, "\x00\x01\x7fA\t\r\v\f\a\b\\'", false, true},
		{`"\3777"`, "\xff7", false, true},
		{`"long"...`, "long", true, true},
		{`"open`, "", false, false},
		{`NULL`, "", false, false},
	} {
		got, tr, ok := Unquote(c.in)
		if got != c.want || tr != c.truncated || ok != c.ok {
			t.Errorf("Unquote(%s) = %q, %v, %v; want %q, %v, %v", c.in, got, tr, ok, c.want, c.truncated, c.ok)
		}
	}
}

func TestSameResult(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"3", "3", true},
		{"0x1", "1", true},
		{"022", "18", true},
		{"0xffffffffffffffff", "18446744073709551615", true},
		{"-2", "0xfffffffffffffffe", true},
		{"-1 ENOENT", "-1 ENOENT", true},
		{"-1 ENOENT", "-1 EACCES", false},
		{"-1 ENOENT", "-1", false},
		{"?", "?", true},
		{"?", "0", false},
		{"0x7f00", "0x7f01", false},
		{"281474804331008", "-172379648", true}, // 0xfffff5b9b700 as strace's int
		{"-172379648", "281474804331008", true},
		{"281474804331008", "-172379649", false},
		{"0x100000005", "5", true},
		{"0x100000005", "0x5", false}, // only strace's decimal int form
	} {
		if got := SameResult(c.a, c.b); got != c.same {
			t.Errorf("SameResult(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func TestArgN(t *testing.T) {
	args := `3, F_DUPFD, 500`
	if argN(args, 0) != "3" || argN(args, 1) != "F_DUPFD" || argN(args, 2) != "500" || argN(args, 3) != "" {
		t.Errorf("argN of %q", args)
	}
	args = `{sa_handler=0x1, sa_mask=[INT QUIT], sa_flags=0}, "a,b", 8`
	if argN(args, 1) != `"a,b"` || argN(args, 2) != "8" {
		t.Errorf("argN of %q: %q %q", args, argN(args, 1), argN(args, 2))
	}
	if firstArg("3</dev/null>, 0") != "3" {
		t.Errorf("firstArg with -y")
	}
}

func TestParseSummary(t *testing.T) {
	table := `some trace line
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 41.77    0.003648        1216         3           futex
 22.58    0.001972        1971         1           execve
  0.24    0.000021          21         1         1 access
  0.00    0.000000           0        12         3 openat
------ ----------- ----------- --------- --------- ----------------
100.00    0.008734          28        17         4 total
`
	got, err := ParseSummary(table)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Count{"futex": {3, 0}, "execve": {1, 0}, "access": {1, 1}, "openat": {12, 3}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := ParseSummary("no table\n"); err == nil {
		t.Error("no error without a header")
	}
	if _, err := ParseSummary("% time calls errors syscall\n1 2 3 4 5 6 read\n"); err == nil {
		t.Error("no error for a row with too many columns")
	}
}

func TestCompareSummary(t *testing.T) {
	got := map[string]Count{"read": {3, 0}, "openat": {2, 1}, "exit_group": {1, 0}}
	want := map[string]Count{"read": {3, 0}, "openat": {2, 0}, "close": {1, 0}}
	diff := CompareSummary(got, want)
	if !strings.Contains(diff, "openat") || !strings.Contains(diff, "close") || strings.Contains(diff, "read") || strings.Contains(diff, "exit_group") {
		t.Errorf("diff:\n%s", diff)
	}
	if d := CompareSummary(want, want); d != "" {
		t.Errorf("equal tables differ: %s", d)
	}
}
