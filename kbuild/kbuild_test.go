package kbuild

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/hosttools"
)

func TestVerifyConfig(t *testing.T) {
	frag := []byte(`# comment
CONFIG_A=y
CONFIG_B=y
CONFIG_C="str"
# CONFIG_D is not set
# CONFIG_E is not set
CONFIG_F=0x10
`)
	final := []byte(`CONFIG_A=y
# CONFIG_B is not set
CONFIG_C="str"
CONFIG_E=y
`)
	got := VerifyConfig(frag, final)
	want := []string{
		"CONFIG_B=y (final config has n)",
		"CONFIG_E=n (final config has y)",
		"CONFIG_F=0x10 (not in the final config)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("VerifyConfig:\n got %q\nwant %q", got, want)
	}
	if got := VerifyConfig(frag[:0], final); len(got) != 0 {
		t.Errorf("empty fragment: %q", got)
	}
}

func TestPatchFiles(t *testing.T) {
	diff := []byte(`From x
Subject: y
---
diff --git a/kernel/a.c b/kernel/a.c
--- a/kernel/a.c
+++ b/kernel/a.c
@@ -1 +1 @@
-x
+y
diff --git a/new.h b/new.h
new file mode 100644
--- /dev/null
+++ b/include/new.h	2026-01-01 00:00:00
@@ -0,0 +1 @@
+z
`)
	got := patchFiles(diff)
	want := []string{"include/new.h", "kernel/a.c"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("patchFiles = %q, want %q", got, want)
	}
}

func TestReadSeries(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "series"), []byte("# the series\n\n0001-a.patch\n0002-b.patch -p1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "0001-a.patch"), []byte("A"), 0o644)
	os.WriteFile(filepath.Join(dir, "0002-b.patch"), []byte("B"), 0o644)
	ps, err := ReadSeries(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Name != "0001-a.patch" || string(ps[1].Content) != "B" {
		t.Errorf("ReadSeries = %+v", ps)
	}
	os.WriteFile(filepath.Join(dir, "series"), []byte("0003-missing.patch\n"), 0o644)
	if _, err := ReadSeries(dir); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("missing patch: err = %v", err)
	}
	os.WriteFile(filepath.Join(dir, "series"), []byte("../escape.patch\n"), 0o644)
	if _, err := ReadSeries(dir); err == nil {
		t.Error("a patch outside the series directory was accepted")
	}
	if _, err := ReadSeries(t.TempDir()); err == nil {
		t.Error("a missing series file was accepted")
	}
}

// TestApplyPatchNamesHunk checks that a patch that does not apply is
// reported with the patch name, the file and the hunk.
func TestApplyPatchNamesHunk(t *testing.T) {
	if _, err := exec.LookPath("patch"); err != nil {
		t.Skip("GNU patch not installed")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f.c"), []byte("one\ntwo\nthree\n"), 0o644)
	bad := Patch{Name: "0009-bad.patch", Content: []byte(`--- a/f.c
+++ b/f.c
@@ -1,3 +1,3 @@
 one
-TWO
+2
 three
`)}
	err := applyPatch(context.Background(), dir, bad)
	if err == nil {
		t.Fatal("a patch that cannot apply was applied")
	}
	for _, want := range []string{"0009-bad.patch", "f.c", "Hunk #1 FAILED"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	good := Patch{Name: "0001-good.patch", Content: []byte(`--- a/f.c
+++ b/f.c
@@ -1,3 +1,3 @@
 one
-two
+2
 three
`)}
	if err := applyPatch(context.Background(), dir, good); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "f.c")); string(b) != "one\n2\nthree\n" {
		t.Errorf("patched content %q", b)
	}
}

// TestKeyChanges checks that the cache key moves with every input that
// changes the kernel, and only with those.
func TestKeyChanges(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	a, _ := arch.Lookup("x86_64")
	root := t.TempDir()
	src := filepath.Join(root, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "Makefile"), []byte("VERSION = 6\n"), 0o644)
	series := filepath.Join(root, "patches")
	os.MkdirAll(series, 0o755)
	os.WriteFile(filepath.Join(series, "series"), []byte("0001.patch\n"), 0o644)
	os.WriteFile(filepath.Join(series, "0001.patch"), []byte("v1"), 0o644)
	cfg := filepath.Join(root, "configs")
	os.MkdirAll(cfg, 0o755)
	os.WriteFile(filepath.Join(cfg, "common.config"), []byte("CONFIG_A=y\n"), 0o644)
	os.WriteFile(filepath.Join(cfg, a.Config), []byte("CONFIG_B=y\n"), 0o644)
	o := Options{Arch: a, Source: src, SeriesDir: series, ConfigDir: cfg, CacheDir: filepath.Join(root, "cache")}
	if err := hosttools.Check(hosttools.KernelBuild, a); err != nil {
		t.Skip(err)
	}
	key := func() string {
		t.Helper()
		k, err := Key(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k1 := key()
	if k1 != key() {
		t.Fatal("key is not stable")
	}
	os.WriteFile(filepath.Join(series, "0001.patch"), []byte("v2"), 0o644)
	k2 := key()
	if k2 == k1 {
		t.Error("key did not change with a patch")
	}
	os.WriteFile(filepath.Join(cfg, "common.config"), []byte("CONFIG_A=n\n"), 0o644)
	k3 := key()
	if k3 == k2 {
		t.Error("key did not change with a fragment")
	}
	o.Vanilla = true
	k4 := key()
	if k4 == k3 {
		t.Error("key did not change with --vanilla")
	}
	o.Vanilla = false
	debug, err := ParseProfile("debug")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(cfg, debug.Fragment), []byte("CONFIG_KASAN=y\n"), 0o644)
	o.Profile = debug
	if k5 := key(); k5 == k3 || k5 == k4 {
		t.Error("key did not change with the debug profile")
	}
	if _, err := Key(context.Background(), Options{Arch: a, Source: src, SeriesDir: series, ConfigDir: t.TempDir(), CacheDir: root, Profile: debug}); err == nil {
		t.Error("a profile whose fragment is missing gave a key")
	}
	o.Profile = Profile{}
	if key() != k3 {
		t.Error("the zero profile is not the default one")
	}
	s390, _ := arch.Lookup("s390x")
	o.Arch = s390
	os.WriteFile(filepath.Join(cfg, s390.Config), []byte("CONFIG_B=y\n"), 0o644)
	if hosttools.Check(hosttools.KernelBuild, s390) == nil && key() == k3 {
		t.Error("key did not change with the architecture")
	}
}

func TestParseProfile(t *testing.T) {
	for _, name := range []string{"", "default"} {
		p, err := ParseProfile(name)
		if err != nil || !p.IsDefault() || p.Fragment != "" || len(p.KernelArgs) != 0 || p.suffix() != "" {
			t.Errorf("ParseProfile(%q) = %+v, %v: want the plain default profile", name, p, err)
		}
	}
	d, err := ParseProfile("debug")
	if err != nil || d.IsDefault() || d.Fragment == "" || !slices.Contains(d.KernelArgs, "panic_on_warn=1") || d.suffix() != "-debug" || d.Slowdown < 2 {
		t.Errorf("ParseProfile(debug) = %+v, %v", d, err)
	}
	if _, err := ParseProfile("fast"); err == nil || !strings.Contains(err.Error(), "default or debug") {
		t.Errorf("ParseProfile(fast): %v, want an error naming the profiles", err)
	}
}

// TestFeaturePatch reads the project's series: each arch gets the feature
// from the patch that selects HAVE_ARCH_SELF_PTRACE in its Kconfig, after
// the generic code, which selects it for none.
func TestFeaturePatch(t *testing.T) {
	series, err := ReadSeries("../patches/linux-6.12")
	if err != nil {
		t.Fatal(err)
	}
	generic := 0
	for i, p := range series {
		if strings.Contains(p.Name, "entry-Add-self-ptrace") {
			generic = i + 1
		}
	}
	if generic == 0 {
		t.Fatal("no generic entry patch in the series")
	}
	seen := map[int]string{}
	for _, a := range arch.All() {
		k := FeaturePatch(series, a.KernelDir)
		if k <= generic || k > len(series) {
			t.Errorf("%s: the feature from patch %d, want one after the generic code (patch %d)", a.Name, k, generic)
			continue
		}
		if other, dup := seen[k]; dup {
			t.Errorf("%s and %s get the feature from the same patch %d", a.Name, other, k)
		}
		seen[k] = a.Name
	}
	if k := FeaturePatch(series, "loongarch"); k != 0 {
		t.Errorf("loongarch gets the feature from patch %d: no untested arch may", k)
	}
}

// TestTreeHolds: a cache hit trusts the work tree as its kernel's source
// (for kselftests) only when the tree says it holds that kernel's key; a
// tree left at another series (a prefix, a bisect step) does not.
func TestTreeHolds(t *testing.T) {
	p := &plan{work: t.TempDir(), key: "k1"}
	if p.treeHolds() {
		t.Error("a work tree without tree.json holds the kernel's source")
	}
	for key, want := range map[string]bool{"k1": true, "k2": false, "": false} {
		data, _ := json.Marshal(treeState{Source: "s", Key: key})
		if err := os.WriteFile(filepath.Join(p.work, "tree.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if got := p.treeHolds(); got != want {
			t.Errorf("tree.json with key %q: treeHolds() = %v, want %v", key, got, want)
		}
	}
}
