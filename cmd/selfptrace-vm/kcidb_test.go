package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/vm"
)

// TestKCIDBAsIs writes the KCIDB report of an as-is run on a git tree: the
// source identity must not ask for a kernel both vanilla and as-is (which
// kbuild refuses, and which lost the report of every --as-is --kcidb run).
func TestKCIDBAsIs(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	tree := t.TempDir()
	if err := os.WriteFile(filepath.Join(tree, "Makefile"), []byte("VERSION = 6\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"commit", "-q", "-m", "tree"}} {
		cmd := exec.Command("git", append([]string{"-C", tree, "-c", "user.name=t", "-c", "user.email=t@example.org"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	x86, err := arch.Lookup("x86_64")
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	prof, err := kbuild.ParseProfile(kbuild.DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	c := &common{kernelSrc: tree, asIs: true, prof: prof, cacheDir: t.TempDir(), root: root, jobs: 1, archs: []arch.Spec{x86}}
	rs := report.Results{Runs: []report.Run{{Arch: "x86_64", Outcome: vm.OutcomePass, Accel: "tcg",
		Kernel: report.Kernel{Version: "6.12.118", Flavor: report.FlavorAsIs, Image: "/nonexistent/bzImage",
			Tree: &report.Tree{Path: tree, Commit: strings.Repeat("ab", 20)}},
		Tests: []report.Test{{Name: "smoke.TestBoot", Status: report.Pass}}}}}
	var stdout bytes.Buffer
	if err := writeKCIDB(context.Background(), c, rs, time.Now(), &stdout, outputFile{"kcidb", "-"}); err != nil {
		t.Fatalf("writeKCIDB for an as-is tree: %v", err)
	}
	var doc struct {
		Checkouts []struct {
			PatchsetHash string `json:"patchset_hash"`
		} `json:"checkouts"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil || len(doc.Checkouts) != 1 || doc.Checkouts[0].PatchsetHash != "" {
		t.Errorf("report: %v, %+v\n%s", err, doc, stdout.String())
	}
}
