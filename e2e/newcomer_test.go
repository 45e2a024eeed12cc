package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstallGoFromNothing simulates a Debian 12 machine without a new
// enough Go: a PATH with no go at all, an empty GO_DIR, and a bootstrap go
// standing in for Debian's golang-go. tools/install-go.sh (which make deps
// runs) downloads the toolchain module from the Go module proxy and
// installs it; the installed go builds the rig, whose help runs; a second
// run does nothing.
func TestInstallGoFromNothing(t *testing.T) {
	e := needEnv(t)
	boot, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "go")
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GO_DIR=" + dir, "GO_BOOTSTRAP=" + boot, "HOME=" + t.TempDir()}
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = e.root, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	if _, err := exec.Command("sh", "-c", "PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v go").Output(); err == nil {
		t.Fatal("the simulated PATH has a go: the test would not start from nothing")
	}
	out := run("tools/install-go.sh")
	t.Logf("install-go.sh:\n%s", out)
	if !strings.Contains(out, "installed go1.26") {
		t.Errorf("install-go.sh did not say it installed Go 1.26")
	}
	gobin := filepath.Join(dir, "bin", "go")
	if v := run(gobin, "env", "GOVERSION"); !strings.HasPrefix(v, "go1.26") {
		t.Errorf("installed go is %q", v)
	}
	bin := filepath.Join(t.TempDir(), "selfptrace-vm")
	env = append(env, "GOCACHE="+t.TempDir(), "GOMODCACHE="+filepath.Join(os.Getenv("HOME"), "go", "pkg", "mod"), "GOFLAGS=-mod=mod")
	run(gobin, "build", "-o", bin, "./cmd/selfptrace-vm")
	if out := run(bin, "help"); !strings.Contains(out, "usage: selfptrace-vm") {
		t.Errorf("help of the rig built with the installed go:\n%s", out)
	}
	if out := run("tools/install-go.sh"); !strings.Contains(out, "go.mod wants") || strings.Contains(out, "installed") {
		t.Errorf("a second install-go.sh did something:\n%s", out)
	}
}
