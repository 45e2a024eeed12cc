package kselftest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/kbuild"
)

// newFile is a git diff section that creates path with lines.
func newFile(path string, lines ...string) string {
	var b strings.Builder
	b.WriteString("diff --git a/" + path + " b/" + path + "\nnew file mode 100644\nindex 000000000..111111111\n--- /dev/null\n+++ b/" + path + "\n")
	b.WriteString("@@ -0,0 +1," + string(rune('0'+len(lines))) + " @@\n")
	for _, l := range lines {
		b.WriteString("+" + l + "\n")
	}
	return b.String()
}

const changeMakefile = "diff --git a/tools/testing/selftests/Makefile b/tools/testing/selftests/Makefile\n" +
	"index 1..2 100644\n--- a/tools/testing/selftests/Makefile\n+++ b/tools/testing/selftests/Makefile\n" +
	"@@ -1,2 +1,3 @@\n TARGETS += seccomp\n+TARGETS += self_ptrace\n TARGETS += sgx\n"

func TestSuiteSections(t *testing.T) {
	doc := newFile("Documentation/x.rst", "doc")
	mk := newFile("tools/testing/selftests/self_ptrace/Makefile", "TEST_GEN_PROGS := self_ptrace_test")
	src := newFile("tools/testing/selftests/self_ptrace/self_ptrace_test.c", "int main(void)", "{", "}")
	other := newFile("tools/testing/selftests/self_ptrace_other/a.c", "x")
	head := "From 0000 Mon Sep 17 00:00:00 2001\nSubject: [PATCH 9/9] selftests\n\ndiff --git in the message is not a section\n---\n x | 1 +\n\n"
	patch := head + doc + mk + changeMakefile + other + src + "-- \n2.39.5\n\n"
	got := string(suiteSections([]byte(patch), []string{"self_ptrace"}))
	if want := mk + src; got != want {
		t.Errorf("suiteSections:\n got %q\nwant %q", got, want)
	}
	if got := suiteSections([]byte(patch), []string{"seccomp"}); len(got) != 0 {
		t.Errorf("sections of a suite the patch does not touch: %q", got)
	}
	if got := suiteSections([]byte(head), []string{"self_ptrace"}); len(got) != 0 {
		t.Errorf("sections of a patch without diff: %q", got)
	}
	// A removed line "- " followed by more lines is not a signature.
	hunk := "diff --git a/tools/testing/selftests/self_ptrace/a b/tools/testing/selftests/self_ptrace/a\n--- a/x\n+++ b/x\n@@ -1,3 +1,1 @@\n-- \n-a\n b\n"
	if got := string(suiteSections([]byte(hunk), []string{"self_ptrace"})); got != hunk {
		t.Errorf("a hunk ending in \"-- \" lines was cut: %q", got)
	}
}

func TestSectionPath(t *testing.T) {
	for line, want := range map[string]string{
		"diff --git a/tools/x/Makefile b/tools/x/Makefile": "tools/x/Makefile",
		"diff --git a/old b/new":                           "new",
		"diff --git x y":                                   "",
		"index 1..2":                                       "",
	} {
		if got := sectionPath(line); got != want {
			t.Errorf("sectionPath(%q) = %q, want %q", line, got, want)
		}
	}
}

// checkoutSeries reads the series of this checkout.
func checkoutSeries(t *testing.T) []kbuild.Patch {
	t.Helper()
	series, err := kbuild.ReadSeries(filepath.Join("..", "patches", "linux-6.12"))
	if err != nil {
		t.Fatal(err)
	}
	return series
}

// TestSeriesAddsSelfPtrace applies the self_ptrace part of the checkout's
// series to an empty directory, as a vanilla build does, and checks it
// against the recipe: the files, the programs of its Makefile and their
// flags.
func TestSeriesAddsSelfPtrace(t *testing.T) {
	if _, err := exec.LookPath("patch"); err != nil {
		t.Skip("no patch")
	}
	dir := t.TempDir()
	var parts int
	for _, pt := range checkoutSeries(t) {
		part := suiteSections(pt.Content, []string{"self_ptrace"})
		if len(part) == 0 {
			continue
		}
		parts++
		cmd := exec.Command("patch", "-p1", "--fuzz=0", "--forward", "--batch", "-d", dir)
		cmd.Stdin = strings.NewReader(string(part))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", pt.Name, err, out)
		}
	}
	if parts == 0 {
		t.Fatal("no patch of the series adds tools/testing/selftests/self_ptrace/")
	}
	suite := filepath.Join(dir, selftestsDir, "self_ptrace")
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(suite, p)
			files = append(files, rel)
		}
		return err
	})
	slices.Sort(files)
	if want := []string{".gitignore", "Makefile", "config", "self_ptrace_test.c"}; !slices.Equal(files, want) {
		t.Errorf("the series writes %q, want %q", files, want)
	}
	mk, err := os.ReadFile(filepath.Join(suite, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var mine []string
	var r recipe
	for _, x := range recipes {
		if x.Suite == "self_ptrace" {
			mine = append(mine, x.Name)
			r = x
		}
	}
	if got := makefilePrograms(mk); !slices.Equal(got, mine) {
		t.Errorf("self_ptrace/Makefile builds %q, the recipes %q", got, mine)
	}
	want := "CFLAGS += " + strings.Join(r.CFLAGS, " ") + " $(KHDR_INCLUDES)"
	if !strings.Contains(string(mk), want+"\n") || r.HeaderFlag != "-isystem" {
		t.Errorf("self_ptrace/Makefile has no line %q:\n%s", want, mk)
	}
}

// seriesPatch is a one-patch series that adds a trivial self_ptrace suite
// in the style of the real one (a parent-directory include).
func seriesPatch() kbuild.Patch {
	src := newFile(selftestsDir+"/self_ptrace/self_ptrace_test.c",
		`#include "../kselftest.h"`, "#include <linux/ptrace.h>", `int main(void) { puts("series " FAKE_ARCH); return 0; }`)
	mk := newFile(selftestsDir+"/self_ptrace/Makefile", "TEST_GEN_PROGS := self_ptrace_test")
	return kbuild.Patch{Name: "0009-selftests.patch", Content: []byte("Subject: x\n---\n" + mk + changeMakefile + src)}
}

// TestBuildFromSeries builds on a fake tree without self_ptrace/: the
// series provides it; without a series it is left out, and a series that
// does not apply fails the build with the patch's name.
func TestBuildFromSeries(t *testing.T) {
	for _, tool := range []string{"make", "gcc", "rsync", "patch"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip("no", tool)
		}
	}
	if _, err := exec.Command("gcc", "-print-file-name=libc.a").Output(); err != nil {
		t.Skip("no static libc")
	}
	x86, _ := arch.Lookup("x86_64")
	src := fakeTree(t)
	if err := os.RemoveAll(filepath.Join(src, selftestsDir, "self_ptrace")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	names := func(bins []Binary) (n []string) {
		for _, b := range bins {
			n = append(n, b.Name)
		}
		return n
	}
	var all []string
	for _, r := range (&Options{}).selected() {
		all = append(all, r.Name)
	}

	o := Options{Arch: x86, SourceDir: src, CacheDir: t.TempDir(), Series: []kbuild.Patch{seriesPatch()}}
	bins, err := Build(ctx, o)
	if err != nil {
		if strings.Contains(err.Error(), "no static C library") {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	if got := names(bins); !reflect.DeepEqual(got, all) {
		t.Fatalf("built %q, want %q", got, all)
	}
	sp := bins[slices.Index(all, "self_ptrace_test")]
	out, err := exec.Command(sp.Path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "series x86_64" {
		t.Errorf("self_ptrace_test from the series: %q, %v", out, err)
	}
	if sp.Timeout != defaultTimeout {
		t.Errorf("timeout %v", sp.Timeout)
	}
	if _, err := os.Stat(filepath.Join(src, selftestsDir, "self_ptrace")); err == nil {
		t.Error("the build wrote into the tree")
	}

	// Without the series, the program is left out; the others build.
	o.Series = nil
	bins, err = Build(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(bins); slices.Contains(got, "self_ptrace_test") || len(got) != len(all)-1 {
		t.Errorf("without a series: built %q", got)
	}

	// A series whose self_ptrace part does not apply is an error.
	bad := seriesPatch()
	bad.Content = []byte(strings.Replace(string(bad.Content), "@@ -0,0 +1,3 @@", "@@ -0,0 +1,9 @@", 1))
	o.Series = []kbuild.Patch{bad}
	_, err = Build(ctx, o)
	var e *Error
	if !errors.As(err, &e) || e.Step != "series" || !strings.Contains(err.Error(), "0009-selftests.patch") {
		t.Errorf("a series that does not apply: %v", err)
	}
}
