package kselftest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
)

func mustArch(t *testing.T, name string) arch.Spec {
	t.Helper()
	a, err := arch.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRecipeTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range recipes {
		if r.Suite == "" || r.Name == "" {
			t.Errorf("recipe %+v: no suite or name", r)
		}
		if seen[r.Name] {
			t.Errorf("recipe %s listed twice", r.Name)
		}
		seen[r.Name] = true
		if r.HeaderFlag != "-isystem" && r.HeaderFlag != "-I" {
			t.Errorf("%s: HeaderFlag %q, want -isystem or -I", r.Name, r.HeaderFlag)
		}
		for _, lib := range r.LDLIBS {
			if _, ok := libShims[lib]; !ok {
				t.Errorf("%s: LDLIBS %s has no shim; a static build for s390x needs one", r.Name, lib)
			}
		}
	}
	for _, want := range []string{"seccomp_bpf", "sud_test", "get_syscall_info", "peeksiginfo", "vmaccess", "get_set_sud", "self_ptrace_test"} {
		if !seen[want] {
			t.Errorf("%s is not built", want)
		}
	}
	// Only the series' own suite may come from the series.
	for _, r := range recipes {
		if r.Series != (r.Suite == "self_ptrace") {
			t.Errorf("%s: Series %v", r.Name, r.Series)
		}
	}
}

func TestSelected(t *testing.T) {
	names := func(o Options) (n []string) {
		for _, r := range o.selected() {
			n = append(n, r.Name)
		}
		return n
	}
	if got := names(Options{}); slices.Contains(got, "seccomp_benchmark") || slices.Contains(got, "sud_benchmark") || !slices.Contains(got, "seccomp_bpf") {
		t.Errorf("default selection %v", got)
	}
	if got := names(Options{Benchmarks: true}); len(got) != len(recipes) {
		t.Errorf("with benchmarks: %v, want all %d", got, len(recipes))
	}
}

var testPaths = buildPaths{Selftests: "/k/tools/testing/selftests", Headers: "/c/hdr", Shim: "/c/capshim"}

func TestCompileArgs(t *testing.T) {
	byName := map[string]recipe{}
	for _, r := range recipes {
		byName[r.Name] = r
	}
	tests := []struct {
		name string
		want []string
	}{
		{"seccomp_bpf", []string{
			"-Wl,-no-as-needed", "-Wall", "-isystem", "/c/hdr/include", "-I", "/c/capshim",
			"-D_GNU_SOURCE=", "-ffile-prefix-map=/k/tools/testing/selftests/=",
			"-lpthread", "-static",
			"/k/tools/testing/selftests/seccomp/seccomp_bpf.c", "/c/capshim/capshim.c",
			"-o", "/out/x"}},
		{"sud_test", []string{
			"-Wall", "-I", "/c/hdr/include", "-D_GNU_SOURCE=", "-ffile-prefix-map=/k/tools/testing/selftests/=",
			"-static", "/k/tools/testing/selftests/syscall_user_dispatch/sud_test.c", "-o", "/out/x"}},
		{"vmaccess", []string{
			"-std=c99", "-pthread", "-Wall", "-isystem", "/c/hdr/include", "-D_GNU_SOURCE=",
			"-ffile-prefix-map=/k/tools/testing/selftests/=",
			"-static", "/k/tools/testing/selftests/ptrace/vmaccess.c", "-o", "/out/x"}},
		{"self_ptrace_test", []string{
			"-Wall", "-pthread", "-isystem", "/c/hdr/include", "-D_GNU_SOURCE=",
			"-ffile-prefix-map=/k/tools/testing/selftests/=",
			"-static", "/k/tools/testing/selftests/self_ptrace/self_ptrace_test.c", "-o", "/out/x"}},
	}
	for _, tt := range tests {
		got := byName[tt.name].compileArgs(testPaths, "/out/x")
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
	dep := byName["seccomp_bpf"].depArgs(testPaths)
	if !slices.Contains(dep, "-MM") || slices.Contains(dep, "-static") || slices.Contains(dep, "-o") || dep[len(dep)-1] != "/c/capshim/capshim.c" {
		t.Errorf("depArgs %q", dep)
	}
	for _, r := range recipes {
		if slices.Contains(r.compileArgs(testPaths, "x"), "-lcap") {
			t.Errorf("%s still links -lcap", r.Name)
		}
	}
}

func TestParseDeps(t *testing.T) {
	out := []byte("seccomp_bpf.o: /k/seccomp/seccomp_bpf.c \\\n /k/seccomp/../kselftest_harness.h /k/seccomp/../kselftest.h \\\n /k/seccomp/../clone3/clone3_selftests.h /k/seccomp/../kselftest.h\n" +
		"capshim.o: /c/capshim/capshim.c /c/capshim/sys/capability.h\n")
	got, err := parseDeps(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/k/seccomp/seccomp_bpf.c", "/k/seccomp/../kselftest_harness.h", "/k/seccomp/../kselftest.h",
		"/k/seccomp/../clone3/clone3_selftests.h", "/c/capshim/capshim.c", "/c/capshim/sys/capability.h"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseDeps:\n got %q\nwant %q", got, want)
	}
	for _, bad := range []string{"", "no rule here\n", "x.o: /a\\ b.c\n"} {
		if _, err := parseDeps([]byte(bad)); err == nil {
			t.Errorf("parseDeps(%q) accepted", bad)
		}
	}
}

func TestDepName(t *testing.T) {
	tests := []struct {
		path, want string
		ok         bool
	}{
		{"/k/tools/testing/selftests/seccomp/../kselftest_harness.h", "kselftest_harness.h", true},
		{"/k/tools/testing/selftests/ptrace/vmaccess.c", "ptrace/vmaccess.c", true},
		{"/c/capshim/sys/capability.h", "$SHIM/sys/capability.h", true},
		{"/c/hdr/include/linux/ptrace.h", "", false},
		{"/usr/include/stdio.h", "/usr/include/stdio.h", true},
		{"/c/hdrx/y.h", "/c/hdrx/y.h", true},
	}
	for _, tt := range tests {
		got, ok := depName(testPaths, tt.path)
		if got != tt.want || ok != tt.ok {
			t.Errorf("depName(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

func sampleKeyInputs() keyInputs {
	return keyInputs{
		Arch:     "s390x",
		Compiler: "s390x-linux-gnu-gcc (Debian 12.2.0-14) 12.2.0; s390x-linux-gnu; libc.a ab",
		Headers:  "hh",
		Programs: []programInputs{
			{Suite: "seccomp", Name: "seccomp_bpf", Args: []string{"-Wall", "x.c"}, Deps: []fileSum{{"seccomp/seccomp_bpf.c", "11"}, {"kselftest.h", "22"}}, Settings: "ss"},
			{Suite: "ptrace", Name: "vmaccess", Args: []string{"-std=c99"}, Deps: []fileSum{{"ptrace/vmaccess.c", "33"}}},
		},
	}
}

func TestKey(t *testing.T) {
	base := key(sampleKeyInputs())
	if len(base) != 64 || base != key(sampleKeyInputs()) {
		t.Fatalf("key not stable: %s", base)
	}
	mutations := map[string]func(*keyInputs){
		"arch":     func(k *keyInputs) { k.Arch = "x86_64" },
		"compiler": func(k *keyInputs) { k.Compiler += "x" },
		"headers":  func(k *keyInputs) { k.Headers = "hx" },
		"arg":      func(k *keyInputs) { k.Programs[0].Args[0] = "-O2" },
		"arg split": func(k *keyInputs) {
			k.Programs[0].Args = []string{"-Wall x.c"}
		},
		"dep content":  func(k *keyInputs) { k.Programs[0].Deps[1].SHA256 = "23" },
		"dep name":     func(k *keyInputs) { k.Programs[0].Deps[1].Name = "kselftest2.h" },
		"settings":     func(k *keyInputs) { k.Programs[0].Settings = "" },
		"program gone": func(k *keyInputs) { k.Programs = k.Programs[:1] },
		"order":        func(k *keyInputs) { k.Programs[0], k.Programs[1] = k.Programs[1], k.Programs[0] },
	}
	for name, mut := range mutations {
		in := sampleKeyInputs()
		mut(&in)
		if key(in) == base {
			t.Errorf("key does not change with %s", name)
		}
	}
}

func TestKeyPathIndependent(t *testing.T) {
	// The key's arguments use placeholders, never real directories.
	for _, r := range recipes {
		for _, a := range r.compileArgs(keyPaths, r.Name) {
			if strings.Contains(a, "/root") || strings.Contains(a, "/tmp") {
				t.Errorf("%s: argument %q names a real path", r.Name, a)
			}
		}
	}
}

func TestHashTree(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("linux/ptrace.h", "a")
	write("asm/unistd.h", "b")
	h1, err := hashTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	if h2, _ := hashTree(dir); h2 != h1 {
		t.Fatal("hashTree not stable")
	}
	write("linux/ptrace.h", "c")
	h3, _ := hashTree(dir)
	if h3 == h1 {
		t.Error("content change not seen")
	}
	os.Rename(filepath.Join(dir, "linux/ptrace.h"), filepath.Join(dir, "linux/ptrace2.h"))
	h4, _ := hashTree(dir)
	if h4 == h3 {
		t.Error("rename not seen")
	}
	os.Symlink("ptrace2.h", filepath.Join(dir, "linux/l.h"))
	h5, _ := hashTree(dir)
	if h5 == h4 {
		t.Error("symlink not seen")
	}
	if _, err := hashTree(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing directory accepted")
	}
}

func TestParseSettings(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"timeout=180\n", 180 * time.Second, true},
		{"", 45 * time.Second, true},
		{"# c\nother=1\n", 45 * time.Second, true},
		{"timeout=0\n", 0, true},
		{"timeout=x\n", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSettings([]byte(tt.in))
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("parseSettings(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestMakefilePrograms(t *testing.T) {
	mk := []byte(`# SPDX
CFLAGS += -std=c99 -pthread -Wall $(KHDR_INCLUDES)

TEST_GEN_PROGS := get_syscall_info peeksiginfo \
	vmaccess
TEST_GEN_PROGS += get_set_sud
TEST_GEN_PROGS_EXTENDED := helper
include ../lib.mk
`)
	want := []string{"get_syscall_info", "peeksiginfo", "vmaccess", "get_set_sud"}
	if got := makefilePrograms(mk); !reflect.DeepEqual(got, want) {
		t.Errorf("makefilePrograms = %q, want %q", got, want)
	}
}

// elfImage is a minimal ELF64 executable: a header and program headers,
// no sections.
func elfImage(order binary.ByteOrder, machine elf.Machine, typ elf.Type, progs ...elf.ProgType) []byte {
	var b bytes.Buffer
	data := byte(elf.ELFDATA2LSB)
	if order == binary.BigEndian {
		data = byte(elf.ELFDATA2MSB)
	}
	b.Write([]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), data, 1, 0})
	b.Write(make([]byte, 8))
	w := func(v any) { binary.Write(&b, order, v) }
	w(uint16(typ))
	w(uint16(machine))
	w(uint32(1))          // version
	w(uint64(0x401000))   // entry
	w(uint64(64))         // phoff
	w(uint64(0))          // shoff
	w(uint32(0))          // flags
	w(uint16(64))         // ehsize
	w(uint16(56))         // phentsize
	w(uint16(len(progs))) // phnum
	w(uint16(64))         // shentsize
	w(uint16(0))          // shnum
	w(uint16(0))          // shstrndx
	end := uint64(64 + 56*len(progs))
	for _, p := range progs {
		w(uint32(p))
		w(uint32(elf.PF_R | elf.PF_X))
		w(uint64(0))        // offset
		w(uint64(0x400000)) // vaddr
		w(uint64(0x400000)) // paddr
		w(end)              // filesz
		w(end)              // memsz
		w(uint64(0x1000))   // align
	}
	return b.Bytes()
}

func TestCheckStatic(t *testing.T) {
	x86, s390 := mustArch(t, "x86_64"), mustArch(t, "s390x")
	le, be := binary.LittleEndian, binary.BigEndian
	tests := []struct {
		name  string
		image []byte
		arch  arch.Spec
		bad   string // substring of the error; "" for success
	}{
		{"static x86_64", elfImage(le, elf.EM_X86_64, elf.ET_EXEC, elf.PT_LOAD), x86, ""},
		{"static s390x", elfImage(be, elf.EM_S390, elf.ET_EXEC, elf.PT_LOAD), s390, ""},
		{"dynamic", elfImage(le, elf.EM_X86_64, elf.ET_EXEC, elf.PT_INTERP, elf.PT_LOAD), x86, "PT_INTERP"},
		{"x86_64 for s390x", elfImage(le, elf.EM_X86_64, elf.ET_EXEC, elf.PT_LOAD), s390, "EM_X86_64"},
		{"wrong byte order", elfImage(le, elf.EM_S390, elf.ET_EXEC, elf.PT_LOAD), s390, "LittleEndian"},
		{"object file", elfImage(le, elf.EM_X86_64, elf.ET_REL), x86, "not an executable"},
		{"shared object", elfImage(le, elf.EM_X86_64, elf.ET_DYN, elf.PT_LOAD), x86, "shared object"},
		{"not ELF", []byte("#!/bin/sh\n"), x86, "not an ELF file"},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		p := filepath.Join(dir, string(rune('a'+i)))
		if err := os.WriteFile(p, tt.image, 0o755); err != nil {
			t.Fatal(err)
		}
		err := CheckStatic(p, tt.arch)
		switch {
		case tt.bad == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.bad != "" && (err == nil || !strings.Contains(err.Error(), tt.bad)):
			t.Errorf("%s: error %v, want one with %q", tt.name, err, tt.bad)
		}
	}
	if err := CheckStatic(filepath.Join(dir, "a"), arch.Spec{Name: "riscv64", GOARCH: "riscv64"}); err == nil {
		t.Error("unknown GOARCH accepted")
	}
}

func TestELFTargetForEveryArch(t *testing.T) {
	for _, a := range arch.All() {
		if _, ok := elfTargets[a.GOARCH]; !ok {
			t.Errorf("arch %s (GOARCH %s) has no row in elfTargets", a.Name, a.GOARCH)
		}
	}
}

func TestParseTotals(t *testing.T) {
	out := "TAP version 13\r\n1..2\r\nok 1 a\r\nnot ok 2 b\r\n# FAILED: 1 / 2 tests passed.\r\n# Totals: pass:1 fail:1 xfail:0 xpass:0 skip:0 error:0\r\n"
	got, ok, err := ParseTotals(out)
	if err != nil || !ok || got != (Totals{Pass: 1, Fail: 1}) {
		t.Errorf("ParseTotals = %v, %v, %v", got, ok, err)
	}
	if _, ok, err := ParseTotals("PASS\n"); ok || err != nil {
		t.Errorf("no Totals line: ok=%v err=%v", ok, err)
	}
	for _, bad := range []string{"# Totals: pass:1 fail:x xfail:0 xpass:0 skip:0 error:0", "# Totals: pass:1", "# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0 new:1"} {
		if _, _, err := ParseTotals(bad); err == nil {
			t.Errorf("ParseTotals(%q) accepted", bad)
		}
	}
}

// TestParseTotalsConsole reads real console logs of a guest run (see
// testdata/README) and checks the counts of each program against its
// result lines.
func TestParseTotalsConsole(t *testing.T) {
	logs, _ := filepath.Glob("testdata/console/*.log")
	if len(logs) == 0 {
		t.Skip("no console logs in testdata/console")
	}
	for _, path := range logs {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for name, out := range splitGuestRun(string(data)) {
			tot, ok, err := ParseTotals(out)
			if err != nil {
				t.Errorf("%s %s: %v", path, name, err)
				continue
			}
			if !ok {
				if name != "peeksiginfo" {
					t.Errorf("%s %s: no Totals line", path, name)
				}
				continue
			}
			var pass, fail, skip int
			for _, line := range strings.Split(out, "\n") {
				line = strings.TrimRight(line, "\r")
				switch {
				case strings.HasPrefix(line, "ok ") && strings.Contains(line, "# SKIP"):
					skip++
				case strings.HasPrefix(line, "ok "):
					pass++
				case strings.HasPrefix(line, "not ok "):
					fail++
				}
			}
			if tot.Pass != pass || tot.Fail != fail || tot.Skip != skip {
				t.Errorf("%s %s: Totals %v, result lines pass:%d fail:%d skip:%d", path, name, tot, pass, fail, skip)
			}
		}
	}
}

// splitGuestRun cuts a console log of testdata/guestinit into each
// program's output.
func splitGuestRun(log string) map[string]string {
	out := map[string]string{}
	var name string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(log, "\n") {
		switch {
		case strings.HasPrefix(line, "# guestinit: start "):
			name = strings.Fields(strings.TrimPrefix(line, "# guestinit: start "))[0]
			cur.Reset()
		case strings.HasPrefix(line, "# guestinit: done ") && name != "":
			out[name] = cur.String()
			name = ""
		case name != "":
			cur.WriteString(line)
		}
	}
	return out
}

func TestError(t *testing.T) {
	e := &Error{Arch: "s390x", Program: "seccomp_bpf", Step: "build", Command: "s390x-linux-gnu-gcc -static x.c", Tail: "x.c:1: error: boom\n", Err: errors.New("exit status 1")}
	want := "building s390x kselftest seccomp_bpf: build: exit status 1\n--- command ---\ns390x-linux-gnu-gcc -static x.c\n--- last lines of output ---\nx.c:1: error: boom"
	if e.Error() != want {
		t.Errorf("Error():\n%s\nwant\n%s", e.Error(), want)
	}
	e2 := &Error{Arch: "x86_64", Step: "headers", Err: os.ErrNotExist}
	if !strings.HasPrefix(e2.Error(), "building x86_64 kselftests: headers: ") || !errors.Is(e2, os.ErrNotExist) {
		t.Errorf("Error() = %q", e2.Error())
	}
}

func TestValidate(t *testing.T) {
	x86 := mustArch(t, "x86_64")
	for name, o := range map[string]Options{
		"no arch":    {SourceDir: "/", CacheDir: "/tmp"},
		"no cache":   {Arch: x86, SourceDir: "/"},
		"no source":  {Arch: x86, CacheDir: "/tmp"},
		"not a tree": {Arch: x86, SourceDir: t.TempDir(), CacheDir: "/tmp"},
	} {
		if err := o.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCapshimEmbedded(t *testing.T) {
	for _, f := range []string{"capshim/capshim.c", "capshim/sys/capability.h"} {
		if _, err := capshimFS.ReadFile(f); err != nil {
			t.Error(err)
		}
	}
}

// TestCapshim compiles the shim with the host compiler against a small
// program that checks it against the kernel, and runs it. The shim must
// agree with /proc/self/status and reject what libcap rejects.
func TestCapshim(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no gcc")
	}
	dir := t.TempDir()
	prog := `
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

static unsigned long long capeff(void)
{
	char line[256];
	unsigned long long v = 0;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

#define CHECK(c) do { if (!(c)) { printf("FAIL line %d: %s\n", __LINE__, #c); return 1; } } while (0)

int main(void)
{
	cap_value_t list[] = { CAP_SYS_ADMIN };
	cap_value_t weird[] = { -1, 64, 1000 };
	cap_flag_value_t v = 7;
	unsigned long long eff = capeff();
	int i;
	cap_t c = cap_get_proc();

	CHECK(c != NULL);
	for (i = 0; i < 64; i++) {
		CHECK(cap_get_flag(c, i, CAP_EFFECTIVE, &v) == 0);
		CHECK(v == ((eff >> i) & 1 ? CAP_SET : CAP_CLEAR));
	}
	CHECK(cap_get_flag(c, 64, CAP_EFFECTIVE, &v) == -1 && errno == EINVAL);
	CHECK(cap_get_flag(c, 0, (cap_flag_t)3, &v) == -1 && errno == EINVAL);
	CHECK(cap_get_flag(c, 0, CAP_EFFECTIVE, NULL) == -1 && errno == EINVAL);
	CHECK(cap_set_flag(c, CAP_EFFECTIVE, 0, list, CAP_CLEAR) == -1 && errno == EINVAL);
	CHECK(cap_set_flag(c, CAP_EFFECTIVE, 1, list, (cap_flag_value_t)2) == -1 && errno == EINVAL);
	CHECK(cap_set_flag(c, CAP_EFFECTIVE, 3, weird, CAP_SET) == 0); /* skipped, as libcap does */
	CHECK(cap_set_flag(c, CAP_EFFECTIVE, 1, list, CAP_CLEAR) == 0);
	CHECK(cap_get_flag(c, CAP_SYS_ADMIN, CAP_EFFECTIVE, &v) == 0 && v == CAP_CLEAR);
	CHECK(cap_set_proc(c) == 0);
	CHECK((capeff() & (1ULL << CAP_SYS_ADMIN)) == 0);
	CHECK((capeff() | (1ULL << CAP_SYS_ADMIN)) == (eff | (1ULL << CAP_SYS_ADMIN)));
	CHECK(cap_free(c) == 0);
	CHECK(cap_free(NULL) == 0);
	printf("OK\n");
	return 0;
}
`
	if err := os.WriteFile(filepath.Join(dir, "t.c"), []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &builder{paths: buildPaths{Shim: filepath.Join(dir, "capshim")}}
	if err := b.unpackShim(); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "t")
	cmd := exec.Command("gcc", "-Wall", "-Werror", "-I", b.paths.Shim, "-o", bin, filepath.Join(dir, "t.c"), filepath.Join(b.paths.Shim, "capshim.c"))
	if out, err := cmd.CombinedOutput(); err != nil {
		if bytes.Contains(out, []byte("linux/capability.h")) {
			t.Skipf("no kernel headers on the host: %s", out)
		}
		t.Fatalf("%v: %s", err, out)
	}
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("OK")) {
		t.Fatalf("%v: %s", err, out)
	}
}

// TestConsolePatchedMatchesVanilla checks the recorded runs: on each arch,
// every program reports the same results and exit status on the patched
// and on the vanilla kernel.
func TestConsolePatchedMatchesVanilla(t *testing.T) {
	results := func(path string) map[string][]string {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string][]string{}
		for name, out := range splitGuestRun(string(data)) {
			for _, line := range strings.Split(out, "\n") {
				line = strings.TrimRight(line, "\r")
				if strings.HasPrefix(line, "ok ") || strings.HasPrefix(line, "not ok ") || strings.HasPrefix(line, "# Totals:") {
					m[name] = append(m[name], line)
				}
			}
		}
		return m
	}
	for _, a := range arch.All() {
		p := filepath.Join("testdata/console", a.Name+"-patched.log")
		v := filepath.Join("testdata/console", a.Name+"-vanilla.log")
		if _, err := os.Stat(p); err != nil {
			continue
		}
		rp, rv := results(p), results(v)
		if len(rp) == 0 {
			t.Errorf("%s: no programs", p)
		}
		if !reflect.DeepEqual(rp, rv) {
			t.Errorf("%s: patched and vanilla results differ:\n%v\n%v", a.Name, rp, rv)
		}
	}
}
